// The directory audit log on a real Azurite: newest first across minute partitions without sorting, a record
// written again under its idempotency key is the same record, and a tenant sees only its own.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuditInput,
  AuditLog,
  type DirectoryAudit,
  GROUP_LICENSING_APP,
} from '../../src/storage/audit.js';
import type { StorageTables } from '../../src/storage/tables.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;
let tables: StorageTables;
let audit: AuditLog;

beforeAll(async () => {
  scratch = await scratchTables('audit', (t) => [t.audit]);
  tables = scratch.tables;
  audit = new AuditLog(tables);
});
afterAll(async () => {
  await scratch?.drop();
});

const base = Date.parse('2026-03-01T10:00:00.000Z');

function record(
  offsetMs: number,
  activity = 'Set group license',
  extra: Partial<AuditInput> = {},
): AuditInput {
  return {
    activityDateTime: new Date(base + offsetMs).toISOString(),
    activityDisplayName: activity,
    category: 'GroupManagement',
    initiatedBy: GROUP_LICENSING_APP,
    operationType: 'Assign',
    result: 'success',
    resultReason: '',
    targetResources: [{ id: randomUUID(), displayName: 'Sales', type: 'Group', modifiedProperties: [] }],
    ...extra,
  };
}

async function all(tenantId: string, filter?: string): Promise<DirectoryAudit[]> {
  const records: DirectoryAudit[] = [];
  for await (const r of audit.list(tenantId, filter)) records.push(r);
  return records;
}

describe('AuditLog (real Azurite)', () => {
  it('lists records newest first across minutes, with the service-filled fields', async () => {
    const tenantId = randomUUID();
    // Out of order, over three minutes and within one millisecond-apart pair.
    const offsets = [0, 125_000, 61_000, 1, 60_999, 180_000];
    await audit.append(
      tenantId,
      offsets.map((ms) => record(ms)),
    );
    const listed = await all(tenantId);
    expect(listed.map((r) => Date.parse(r.activityDateTime) - base)).toEqual([
      180_000, 125_000, 61_000, 60_999, 1, 0,
    ]);
    for (const r of listed) {
      expect(r.loggedByService).toBe('Core Directory');
      expect(r.correlationId).toBe(r.id);
      expect(r.additionalDetails).toEqual([]);
    }
    expect(new Set(listed.map((r) => r.id)).size).toBe(offsets.length);
  });

  it('writes a record once per idempotency key, across calls and within one call', async () => {
    const tenantId = randomUUID();
    const owed = {
      ...record(5_000, 'Start applying group based license to users'),
      idempotencyKey: 'job-1/start',
    };
    await audit.append(tenantId, [owed, owed]);
    // A redelivered message writes it again: the same row, not a second one.
    await audit.append(tenantId, [owed]);
    await audit.append(tenantId, [
      { ...owed, idempotencyKey: 'job-2/start', activityDateTime: new Date(base + 6_000).toISOString() },
    ]);
    const listed = await all(tenantId);
    expect(listed).toHaveLength(2);
    expect(listed[0]?.id).not.toBe(listed[1]?.id);
    // The id is a stable function of the key (another log instance, as on another host, derives the same).
    const other = randomUUID();
    await new AuditLog(scratch.anotherHost()).append(other, [owed]);
    expect((await all(other))[0]?.id).toBe(
      listed.find((r) => r.activityDateTime === owed.activityDateTime)?.id,
    );
  });

  it('keeps more than a transaction of records written in the same minute', async () => {
    const tenantId = randomUUID();
    const many = Array.from({ length: 250 }, (_, i) => ({ ...record(i * 10), idempotencyKey: `page/${i}` }));
    await audit.append(tenantId, many);
    const listed = await all(tenantId);
    expect(listed).toHaveLength(250);
    expect(listed[0]?.activityDateTime).toBe(new Date(base + 2490).toISOString());
  });

  it('filters on activity and time, and never shows another tenant’s records', async () => {
    const tenantId = randomUUID();
    const neighbour = randomUUID();
    await audit.append(tenantId, [
      record(0, 'Set group license'),
      record(1000, 'Change user license', {
        category: 'UserManagement',
        additionalDetails: [{ key: 'sku', value: 'E3' }],
        correlationId: 'corr-1',
      }),
    ]);
    await audit.append(neighbour, [record(500, 'Change user license')]);
    const users = await all(tenantId, "a eq 'Change user license'");
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({
      category: 'UserManagement',
      correlationId: 'corr-1',
      additionalDetails: [{ key: 'sku', value: 'E3' }],
    });
    expect(await all(tenantId, `t lt '${new Date(base + 1).toISOString()}'`)).toHaveLength(1);
    expect((await all(neighbour)).map((r) => r.activityDateTime)).toEqual([
      new Date(base + 500).toISOString(),
    ]);
  });
});
