// The outbox rows (src/storage/README.md, "Outbox") on a real Azurite: committed in one transaction with the
// change they belong to (or not at all, through TableTenantStore.commitGroupLicensing), listed for the sweep once their lease has passed, counted while pending,
// and removed only while they are still the version the remover committed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupLicenseRecord } from '../../src/application/records.js';
import { odata } from '../../src/storage/keys.js';
import { notOutboxRows, Outbox, type OutboxRecord, outboxRow } from '../../src/storage/outbox.js';
import { queryRows } from '../../src/storage/properties.js';
import type { StorageTables } from '../../src/storage/tables.js';
import {
  encodeGroupLicense,
  encodeTenant,
  readTenantPartition,
  TableTenantStore,
} from '../../src/storage/tenant-records.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;
let tables: StorageTables;
let outbox: Outbox;
/** Rows are committed with the state they belong to by the tenant store's group-licensing commit. */
let store: TableTenantStore;

beforeAll(async () => {
  scratch = await scratchTables('outbox', (t) => [t.tenants]);
  tables = scratch.tables;
  outbox = new Outbox(tables);
  store = new TableTenantStore(tables);
});
afterAll(async () => {
  await scratch?.drop();
});

const start = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(start + seconds * 1000);

function row(id: string, relayAfterSeconds: number, payload: unknown = { messages: [id] }): OutboxRecord {
  return {
    id,
    createdDateTime: at(0).toISOString(),
    relayAfter: at(relayAfterSeconds).toISOString(),
    payload,
  };
}

function license(groupId: string, jobId: string): GroupLicenseRecord {
  return {
    groupId,
    licenses: [{ skuId: randomUUID(), disabledPlans: [] }],
    licensedSince: at(0).toISOString(),
    jobId,
    processingState: 'QueuedForProcessing',
    updatedDateTime: at(0).toISOString(),
    lastFailure: null,
  };
}

async function newTenant(): Promise<string> {
  const tenantId = randomUUID();
  await tables.tenants.createEntity(
    encodeTenant({
      id: tenantId,
      displayName: 'Contoso',
      countryLetterCode: 'US',
      licenseErrorHealing: 'automatic',
      clientState: 'secret',
      createdDateTime: at(0).toISOString(),
    }),
  );
  return tenantId;
}

describe('Outbox (real Azurite)', () => {
  it('commits a row with the change it belongs to, in one transaction of the tenant partition', async () => {
    const tenantId = await newTenant();
    const groupId = randomUUID();
    const owed = row('assign-1', 60, { messages: [{ queue: 'jobs', body: { jobId: 'j1' } }] });
    await store.commitGroupLicensing(tenantId, {
      licenses: [{ current: undefined, next: license(groupId, 'j1') }],
      createOutbox: owed,
    });
    const stored = await outbox.read(tenantId, 'assign-1');
    expect(stored).toMatchObject({
      id: 'assign-1',
      createdDateTime: owed.createdDateTime,
      relayAfter: owed.relayAfter,
      payload: owed.payload,
    });
    expect(stored?.etag).toBeTruthy();
    expect(await outbox.pending(tenantId)).toBe(1);
    // The tenant partition's readers see the change without the outbox row.
    const partition = await readTenantPartition(tables, tenantId);
    expect([...(partition?.groupLicenses.keys() ?? [])]).toEqual([groupId]);
  });

  it('writes no row when the change it belongs to loses its ETag race', async () => {
    const tenantId = await newTenant();
    const groupId = randomUUID();
    await tables.tenants.createEntity(encodeGroupLicense(tenantId, license(groupId, 'j1')));
    const read = (await readTenantPartition(tables, tenantId))?.groupLicenses.get(groupId);
    // Someone else changes the license row after it was read.
    await tables.tenants.updateEntity(encodeGroupLicense(tenantId, license(groupId, 'other')), 'Replace', {
      etag: read?.etag,
    });
    if (!read) throw new Error('no group license');
    const change = store.commitGroupLicensing(tenantId, {
      licenses: [{ current: read, next: license(groupId, 'j2') }],
      createOutbox: row('assign-2', 60),
    });
    await expect(change).rejects.toMatchObject({ statusCode: 412 });
    expect(await outbox.read(tenantId, 'assign-2')).toBeUndefined();
    expect(await outbox.pending(tenantId)).toBe(0);
  });

  it('lists for the sweep only rows whose lease has passed, of this tenant, up to the limit', async () => {
    const tenantId = await newTenant();
    const other = await newTenant();
    for (const [id, lease] of [
      ['b', 10],
      ['a', 20],
      ['c', 30],
      ['d', 600],
    ] as const) {
      await outbox.put(tenantId, row(id, lease));
    }
    await outbox.put(other, row('a', 0));
    // A license row sorts before the outbox range and must not be listed.
    await tables.tenants.createEntity(encodeGroupLicense(tenantId, license(randomUUID(), 'j')));

    expect((await outbox.due(tenantId, at(25), 500)).map((r) => r.id)).toEqual(['a', 'b']);
    expect((await outbox.due(tenantId, at(30), 500)).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect((await outbox.due(tenantId, at(5), 500)).map((r) => r.id)).toEqual([]);
    expect((await outbox.due(tenantId, at(3600), 2)).map((r) => r.id)).toEqual(['a', 'b']);
    expect(await outbox.pending(tenantId)).toBe(4);
    expect(await outbox.pending(other)).toBe(1);
  });

  it('keeps outbox rows out of the tenant partition filter, and every other row in it', async () => {
    const tenantId = await newTenant();
    await outbox.put(tenantId, row('x', 0));
    await tables.tenants.createEntity(encodeGroupLicense(tenantId, license(randomUUID(), 'j')));
    // Rows just outside the outbox range on either side.
    await tables.tenants.createEntity({ partitionKey: tenantId, rowKey: 'out{' });
    await tables.tenants.createEntity({ partitionKey: tenantId, rowKey: 'out}' });
    const keys: string[] = [];
    for await (const entity of queryRows(
      tables.tenants,
      `PartitionKey eq ${odata(tenantId)} and ${notOutboxRows()}`,
    ))
      keys.push(entity.rowKey);
    expect(keys.filter((k) => !k.startsWith('glic|')).sort()).toEqual(['out{', 'out}', 'tenant']);
    expect(keys.filter((k) => k.startsWith('glic|'))).toHaveLength(1);
  });

  it('round-trips a payload longer than one table property holds', async () => {
    const tenantId = await newTenant();
    // An import's row owes up to 500 groups; with audit records the JSON passes a property's 32 K characters.
    const reprocess = Array.from({ length: 2000 }, () => randomUUID());
    const written = await outbox.put(tenantId, row('import.0', 0, { reprocess }));
    expect(written.etag).toBeTruthy();
    expect((await outbox.read(tenantId, 'import.0'))?.payload).toEqual({ reprocess });
    expect((await outbox.due(tenantId, at(1), 10))[0]?.payload).toEqual({ reprocess });
  });

  it('removes a row read with its ETag, and leaves a newer version written since', async () => {
    const tenantId = await newTenant();
    const first = await outbox.put(tenantId, row('member.g.m', 60, { apply: 'first' }));
    await outbox.remove(tenantId, first);
    expect(await outbox.read(tenantId, 'member.g.m')).toBeUndefined();
    // Removing a row already gone (the sweep relayed it) is fine.
    await outbox.remove(tenantId, first);

    const older = await outbox.put(tenantId, row('member.g.n', 60, { apply: 'older' }));
    // A later request for the same membership replaces the row: the older request's relay must not delete it.
    const newer = await outbox.put(tenantId, {
      ...row('member.g.n', 120, { apply: 'newer' }),
      createdDateTime: at(5).toISOString(),
    });
    await outbox.remove(tenantId, older);
    expect((await outbox.read(tenantId, 'member.g.n'))?.payload).toEqual({ apply: 'newer' });
    await outbox.remove(tenantId, newer);
    expect(await outbox.read(tenantId, 'member.g.n')).toBeUndefined();
  });

  it('removes a row committed in a transaction (no ETag) only while it is still that version', async () => {
    const tenantId = await newTenant();
    const committed = row('job.1', 60, { messages: ['one'] });
    await store.commitGroupLicensing(tenantId, { createOutbox: committed });
    await outbox.remove(tenantId, committed);
    expect(await outbox.read(tenantId, 'job.1')).toBeUndefined();

    const replaced = row('job.2', 60, { messages: ['one'] });
    await store.commitGroupLicensing(tenantId, { createOutbox: replaced });
    await outbox.put(tenantId, { ...replaced, payload: { messages: ['two'] } });
    await outbox.remove(tenantId, replaced);
    expect((await outbox.read(tenantId, 'job.2'))?.payload).toEqual({ messages: ['two'] });
  });

  it('replaces a row inside a transaction only with the ETag it was read with', async () => {
    const tenantId = await newTenant();
    const owing = await outbox.put(tenantId, row('import.1', 600, { reprocess: ['g1', 'g2'] }));
    // Without an ETag the replace is refused before anything is sent: it would be last-writer-wins.
    await expect(
      store.commitGroupLicensing(tenantId, { replaceOutbox: { ...row('import.1', 600), payload: {} } }),
    ).rejects.toThrow(/not read from storage/);
    await store.commitGroupLicensing(tenantId, {
      replaceOutbox: { ...owing, payload: { reprocess: ['g2'] } },
    });
    expect((await outbox.read(tenantId, 'import.1'))?.payload).toEqual({ reprocess: ['g2'] });
    // A relay that read the row before that hand-over fails instead of owing g1 again.
    await expect(
      store.commitGroupLicensing(tenantId, {
        replaceOutbox: { ...owing, payload: { reprocess: ['g1', 'g2'] } },
      }),
    ).rejects.toMatchObject({ statusCode: 412 });
    expect((await tables.tenants.getEntity(tenantId, outboxRow('import.1'))).rowKey).toBe('out|import.1');
  });
});
