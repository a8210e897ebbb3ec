// The tenant partition on a real Azurite: one query returns the tenant, its subscriptions and seat counters, group
// license rows, open reservations and heal passes — never its outbox rows nor another tenant's rows — and a corrupt
// row fails loudly with its keys.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  GroupLicenseRecord,
  ReservationRecord,
  SubscriptionRecord,
  TenantRecord,
} from '../../src/application/records.js';
import { Outbox } from '../../src/storage/outbox.js';
import type { StorageTables } from '../../src/storage/tables.js';
import {
  encodeGroupLicense,
  encodeReservation,
  encodeSubscription,
  encodeTenant,
  groupLicenseRow,
  readTenant,
  readTenantPartition,
  recordHealPass,
} from '../../src/storage/tenant-records.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;
let tables: StorageTables;

beforeAll(async () => {
  scratch = await scratchTables('tenants', (t) => [t.tenants]);
  tables = scratch.tables;
});
afterAll(async () => {
  await scratch?.drop();
});

const when = '2026-03-01T10:00:00.000Z';

function tenant(id = randomUUID()): TenantRecord {
  return {
    id,
    displayName: 'Contoso',
    countryLetterCode: 'FR',
    licenseErrorHealing: 'manual',
    clientState: 'state-secret',
    createdDateTime: when,
  };
}

const withoutEtag = <T extends { etag?: string }>({ etag: _etag, ...rest }: T) => rest;

describe('tenant records (real Azurite)', () => {
  it('reads the whole tenant partition in one query, each kind of row decoded', async () => {
    const t = tenant();
    const sub: SubscriptionRecord = {
      skuId: randomUUID(),
      prepaidUnits: { enabled: 25, warning: 5, suspended: 2, lockedOut: 1 },
      consumedUnits: 17,
      createdDateTime: when,
    };
    const licenses: GroupLicenseRecord[] = (
      ['QueuedForProcessing', 'ProcessingInProgress', 'ProcessingComplete'] as const
    ).map((processingState, i) => ({
      groupId: randomUUID(),
      licenses: [{ skuId: sub.skuId, disabledPlans: i === 0 ? [] : [randomUUID()] }],
      licensedSince: i === 2 ? null : when,
      jobId: i === 2 ? null : randomUUID(),
      processingState,
      updatedDateTime: when,
      lastFailure: i === 1 ? 'a page was poisoned' : null,
    }));
    const reservation: ReservationRecord = {
      id: 'msg-1',
      createdDateTime: when,
      owner: 'host/msg-1',
      leaseUntil: '2026-03-01T10:12:00.000Z',
      chunks: [{ key: 'msg-1.0.0', partition: `${t.id}|0a`, gains: { [sub.skuId]: 3 }, loses: {} }],
      settledLoses: { [sub.skuId]: 1 },
    };
    await tables.tenants.submitTransaction([
      ['create', encodeTenant(t)],
      ['create', encodeSubscription(t.id, sub)],
      ...licenses.map((l): ['create', ReturnType<typeof encodeGroupLicense>] => [
        'create',
        encodeGroupLicense(t.id, l),
      ]),
      ['create', encodeReservation(t.id, reservation)],
    ]);
    await recordHealPass(tables, t.id, sub.skuId, when);
    // Outbox rows share the partition but are the outbox's business.
    await new Outbox(tables).put(t.id, { id: 'owed', createdDateTime: when, relayAfter: when, payload: {} });
    // A neighbouring tenant's rows are not read.
    const other = tenant();
    await tables.tenants.createEntity(encodeTenant(other));
    await tables.tenants.createEntity(encodeSubscription(other.id, { ...sub, skuId: randomUUID() }));

    const partition = await readTenantPartition(tables, t.id);
    if (!partition) throw new Error('tenant not found');
    expect(withoutEtag(partition.tenant)).toEqual(t);
    expect([...partition.subscriptions.values()].map(withoutEtag)).toEqual([sub]);
    expect(partition.subscriptions.get(sub.skuId)?.etag).toBeTruthy();
    expect(
      [...partition.groupLicenses.values()].map(withoutEtag).sort((a, b) => (a.groupId < b.groupId ? -1 : 1)),
    ).toEqual([...licenses].sort((a, b) => (a.groupId < b.groupId ? -1 : 1)));
    expect([...partition.reservations.values()].map(withoutEtag)).toEqual([reservation]);
    expect(partition.healPasses).toEqual(new Map([[sub.skuId, when]]));
    expect(await readTenantPartition(tables, randomUUID())).toBeUndefined();
  });

  it('records the latest heal pass of a SKU over the earlier one', async () => {
    const t = tenant();
    await tables.tenants.createEntity(encodeTenant(t));
    const skuId = randomUUID();
    await recordHealPass(tables, t.id, skuId, when);
    await recordHealPass(tables, t.id, skuId, '2026-03-01T10:05:00.000Z');
    expect((await readTenantPartition(tables, t.id))?.healPasses.get(skuId)).toBe('2026-03-01T10:05:00.000Z');
  });

  it('reads the tenant row alone, with the ETag its updates need', async () => {
    const t = tenant();
    await tables.tenants.createEntity(encodeTenant(t));
    const read = await readTenant(tables, t.id);
    expect(read && withoutEtag(read)).toEqual(t);
    await tables.tenants.updateEntity(encodeTenant({ ...t, displayName: 'Fabrikam' }), 'Replace', {
      etag: read?.etag,
    });
    await expect(
      tables.tenants.updateEntity(encodeTenant(t), 'Replace', { etag: read?.etag }),
    ).rejects.toMatchObject({ statusCode: 412 });
    expect((await readTenant(tables, t.id))?.displayName).toBe('Fabrikam');
    expect(await readTenant(tables, randomUUID())).toBeUndefined();
  });

  it('fails loudly, naming the row, on a corrupt license row', async () => {
    const t = tenant();
    const groupId = randomUUID();
    await tables.tenants.createEntity(encodeTenant(t));
    await tables.tenants.createEntity({
      partitionKey: t.id,
      rowKey: groupLicenseRow(groupId),
      ps: 'X',
      ut: when,
    });
    await expect(readTenantPartition(tables, t.id)).rejects.toThrow(`${t.id}/glic|${groupId}`);
  });
});
