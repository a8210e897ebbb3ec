// The principal writes port and the reads over what it keeps: one suite against the Table adapter on a real Azurite
// (read back through the directory store and licensing queries adapters) and against the in-memory double (read
// back through their doubles, on the same rows). Rows go in transactions of at most 100 operations per partition,
// each with its chunk's marker; a principal changed since it was read fails its whole chunk; the waiting room's
// order and a group's counts follow the rows that justify them. How the rows are encoded is tested on Azurite only.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirectoryStore, LicensingQueries, PrincipalWrites } from '../../src/application/ports.js';
import type { PrincipalRecord } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { LicenseEntry } from '../../src/engine/index.js';
import { TableLicensingQueries } from '../../src/storage/bookkeeping.js';
import { TableDirectoryStore } from '../../src/storage/directory-store.js';
import { guidProperty, principalPartition, shardOf } from '../../src/storage/keys.js';
import { readPrincipal, readPrincipalShards, readPrincipals } from '../../src/storage/principal-reads.js';
import { encodePrincipal } from '../../src/storage/principal-records.js';
import {
  type PlannedChunk,
  type PrincipalWrite,
  PrincipalWriter,
  planChunks,
  updateMode,
} from '../../src/storage/principal-writer.js';
import { getRow } from '../../src/storage/properties.js';
import { markerRow } from '../../src/storage/seat-ledger.js';
import type { StorageTables } from '../../src/storage/tables.js';
import { InMemoryDirectoryQueries, InMemoryLicensingQueries } from '../support/in-memory-queries.js';
import { DirectoryRows } from '../support/in-memory-rows.js';
import { InMemoryPrincipalWrites } from '../support/in-memory-seats.js';
import { InMemoryDirectoryStore } from '../support/in-memory-stores.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

const catalog = loadCatalog();
const sku = catalog.skus[0]?.skuId ?? '';
const when = '2026-03-01T10:00:00.000Z';

let scratch: ScratchTables;
let tables: StorageTables;
let tableWriter: PrincipalWriter;

beforeAll(async () => {
  scratch = await scratchTables('pw', (t) => [...t.allPrincipalTables()]);
  tables = scratch.tables;
  tableWriter = new PrincipalWriter(tables, catalog);
});
afterAll(async () => {
  await scratch?.drop();
});

function principal(tenantId: string, id: string, overrides: Partial<PrincipalRecord> = {}): PrincipalRecord {
  return {
    tenantId,
    id,
    kind: 'user',
    displayName: `User ${id.slice(0, 8)}`,
    userPrincipalName: `${id.slice(0, 8)}@contoso.test`,
    mailNickname: null,
    usageLocation: 'US',
    proxyAddresses: [],
    accountEnabled: true,
    department: null,
    device: null,
    profile: {},
    createdDateTime: when,
    deletedDateTime: null,
    directLicenses: [],
    memberOf: [],
    removedMemberships: [],
    entries: [],
    mailboxActive: false,
    sharedProxy: false,
    ...overrides,
  };
}

function entry(overrides: Partial<LicenseEntry> = {}): LicenseEntry {
  return {
    skuId: sku,
    assignedByGroup: null,
    disabledPlans: [],
    state: 'Active',
    error: 'None',
    lastUpdatedDateTime: when,
    since: when,
    waitingSince: null,
    ...overrides,
  };
}

const waiting = (since: string, group: string | null = null) =>
  entry({ assignedByGroup: group, state: 'Error', error: 'CountViolation', waitingSince: since, since });

/** `count` ids whose principal rows share one partition (the same shard). */
function idsInShard(shard: number, count: number): string[] {
  const ids: string[] = [];
  while (ids.length < count) {
    const id = randomUUID();
    if (shardOf(id) === shard) ids.push(id);
  }
  return ids;
}

const create = (after: PrincipalRecord, gains: string[] = []): PrincipalWrite => ({
  before: undefined,
  after,
  gains,
  loses: [],
});

const withoutEtag = ({ etag: _etag, ...record }: PrincipalRecord) => record;

function contract(
  name: string,
  setUp: () => Promise<{ writer: PrincipalWrites; directory: DirectoryStore; licensing: LicensingQueries }>,
) {
  let writer: PrincipalWrites;
  let directory: DirectoryStore;
  let licensing: LicensingQueries;
  beforeAll(async () => {
    ({ writer, directory, licensing } = await setUp());
  });

  async function landed(chunks: readonly PlannedChunk[], withMarkers = true) {
    const outcomes = await writer.write(chunks, withMarkers);
    expect(outcomes.every((o) => o.landed)).toBe(true);
    return outcomes;
  }

  describe(`PrincipalWrites: ${name}`, () => {
    it('writes a partition in transactions of at most 100 operations, each chunk with its marker', async () => {
      const tenantId = randomUUID();
      const ids = idsInShard(7, 250);
      const records = ids.map((id) => principal(tenantId, id, { entries: [entry()] }));
      const chunks = writer.plan(
        tenantId,
        records.map((r) => create(r, [sku])),
        'res-1.0',
      );
      // 99 principals and the marker per transaction.
      expect(chunks.map((c) => c.writes.length)).toEqual([99, 99, 52]);
      expect(chunks.map((c) => c.plan.gains[sku])).toEqual([99, 99, 52]);
      expect(new Set(chunks.map((c) => c.plan.key)).size).toBe(3);
      const outcomes = await landed(chunks);

      const partition = principalPartition(tenantId, ids[0] ?? '');
      const { records: read, markers } = await directory.principalShardsWithMarkers(tenantId, 7, 8);
      expect(read.size).toBe(250);
      expect(markers.get(partition)?.sort()).toEqual(chunks.map((c) => markerRow(c.plan.key)).sort());
      // The ETags handed back are the rows' own: the next write of a principal needs no read.
      const some = ids[123] ?? '';
      const etag = outcomes.flatMap((o) => [...o.etags]).find(([id]) => id === some)?.[1];
      expect(etag).toBe(read.get(some)?.etag);
      expect(withoutEtag(read.get(some) ?? principal(tenantId, 'x'))).toEqual(records[123]);
    });

    it('leaves room for waiting-room rows in the same transaction', async () => {
      const tenantId = randomUUID();
      const ids = idsInShard(200, 120);
      const records = ids.map((id, i) =>
        principal(tenantId, id, { entries: [waiting(new Date(Date.parse(when) + i).toISOString())] }),
      );
      const chunks = writer.plan(
        tenantId,
        records.map((r) => create(r)),
        'res-2.0',
      );
      // A waiter is its row and its waiting-room row: 49 of them and the marker fill a transaction.
      expect(chunks.map((c) => c.writes.length)).toEqual([49, 49, 22]);
      await landed(chunks);
      const waiters = await licensing.waiters(tenantId, sku);
      expect(waiters.map((w) => w.principalId)).toEqual(ids);
    });

    it('fails a whole chunk when one of its principals changed since it was read, and lands the others', async () => {
      const tenantId = randomUUID();
      const inA = idsInShard(3, 5);
      const inB = idsInShard(40, 5);
      await landed(
        writer.plan(
          tenantId,
          [...inA, ...inB].map((id) => create(principal(tenantId, id))),
          'seed',
        ),
        false,
      );
      const read = await directory.principals(tenantId, [...inA, ...inB]);
      // Another worker changes one principal of partition A after it was read.
      const raced = read.get(inA[2] ?? '');
      if (!raced) throw new Error('not read');
      await landed(
        writer.plan(
          tenantId,
          [{ before: raced, after: { ...raced, department: 'Other' }, gains: [], loses: [] }],
          'other',
        ),
        false,
      );

      const writes = [...read.values()].map((before) => ({
        before,
        after: { ...before, department: 'Sales' },
        gains: [],
        loses: [],
      }));
      const chunks = writer.plan(tenantId, writes, 'res-3.0');
      const outcomes = await writer.write(chunks, true);
      const byPartition = new Map(outcomes.map((o) => [o.chunk.plan.partition, o]));
      const a = principalPartition(tenantId, inA[0] ?? '');
      const b = principalPartition(tenantId, inB[0] ?? '');
      expect(byPartition.get(a)?.landed).toBe(false);
      expect(byPartition.get(b)?.landed).toBe(true);
      const after = await directory.principals(tenantId, [...inA, ...inB]);
      expect(inA.map((id) => after.get(id)?.department)).toEqual([null, null, 'Other', null, null]);
      expect(inB.map((id) => after.get(id)?.department)).toEqual(Array(5).fill('Sales'));
      // No marker for the chunk that did not land: the ledger will know its seats were not used.
      const markers = (await directory.principalShardsWithMarkers(tenantId, 0, 256)).markers;
      expect(markers.get(a)).toBeUndefined();
      expect(markers.get(b)).toEqual([markerRow(byPartition.get(b)?.chunk.plan.key ?? '')]);
    });

    it('moves the waiting-room rows with the principal: granted a seat, deleted, first come first served', async () => {
      const tenantId = randomUUID();
      const early = randomUUID();
      const late = randomUUID();
      const tie = [randomUUID(), randomUUID()].sort();
      const at = (minutes: number) => new Date(Date.parse(when) + minutes * 60_000).toISOString();
      const records = [
        principal(tenantId, late, { entries: [waiting(at(5))] }),
        principal(tenantId, early, { entries: [waiting(at(1))] }),
        principal(tenantId, tie[1] ?? '', { entries: [waiting(at(3))] }),
        principal(tenantId, tie[0] ?? '', { entries: [waiting(at(3))] }),
      ];
      await landed(
        writer.plan(
          tenantId,
          records.map((r) => create(r)),
          'w',
        ),
      );
      expect((await licensing.waiters(tenantId, sku)).map((w) => [w.principalId, w.waitingSince])).toEqual([
        [early, at(1)],
        [tie[0], at(3)],
        [tie[1], at(3)],
        [late, at(5)],
      ]);
      const read = await directory.principals(tenantId, [early, late]);
      const promoted = read.get(early);
      const removed = read.get(late);
      if (!promoted || !removed) throw new Error('not read');
      await landed(
        writer.plan(
          tenantId,
          [
            { before: promoted, after: { ...promoted, entries: [entry()] }, gains: [sku], loses: [] },
            { before: removed, after: { ...removed, deletedDateTime: at(10) }, gains: [], loses: [] },
          ],
          'promote',
        ),
      );
      expect((await licensing.waiters(tenantId, sku)).map((w) => w.principalId)).toEqual(tie);
    });

    it('keeps group outcome flags on the rows: counts, errors by type, members in error', async () => {
      const tenantId = randomUUID();
      const group = randomUUID();
      const clean = randomUUID();
      const ok = [randomUUID(), randomUUID()];
      const count = randomUUID();
      const exclusive = randomUUID();
      const deleted = randomUUID();
      const fromGroup = (overrides: Partial<LicenseEntry>) => [
        entry({ assignedByGroup: group, ...overrides }),
      ];
      const records = [
        ...ok.map((id) => principal(tenantId, id, { entries: fromGroup({}) })),
        principal(tenantId, count, { entries: [waiting(when, group)] }),
        principal(tenantId, exclusive, {
          entries: fromGroup({ state: 'Error', error: 'MutuallyExclusiveViolation' }),
        }),
        principal(tenantId, deleted, {
          deletedDateTime: when,
          entries: fromGroup({ state: 'Error', error: 'CountViolation' }),
        }),
        principal(tenantId, randomUUID(), { entries: [entry({ assignedByGroup: clean })] }),
      ];
      await landed(
        writer.plan(
          tenantId,
          records.map((r) => create(r)),
          'g',
        ),
      );
      expect(await licensing.groupCounts(tenantId, group)).toEqual({
        succeeded: 2,
        failed: 2,
        errors: { CountViolation: 1, MutuallyExclusiveViolation: 1 },
      });
      expect(await licensing.groupsWithErrors(tenantId, [group, clean, randomUUID()])).toEqual(
        new Set([group]),
      );
      const inError: string[] = [];
      for await (const id of licensing.principalsInError(tenantId, group)) inError.push(id);
      expect(inError.sort()).toEqual([count, exclusive].sort());
      // Another tenant's rows never count.
      expect(await licensing.groupCounts(randomUUID(), group)).toEqual({
        succeeded: 0,
        failed: 0,
        errors: {},
      });
    });

    it('hard-deletes a principal after writing it as holding nothing, and clears stale markers on the way', async () => {
      const tenantId = randomUUID();
      const [gone, stays, live] = idsInShard(90, 3);
      if (!gone || !stays || !live) throw new Error('ids');
      const seeded = writer.plan(
        tenantId,
        [create(principal(tenantId, gone, { entries: [entry()] }), [sku])],
        'old',
      );
      await landed(seeded);
      // A marker of a reservation still open (another run's chunk in the same partition) must stay.
      const open = writer.plan(tenantId, [create(principal(tenantId, live))], 'live');
      await landed(open);
      const before = await directory.principal(tenantId, gone);
      if (!before) throw new Error('not written');
      const partition = principalPartition(tenantId, gone);
      const outcomes = await writer.write(
        writer.plan(
          tenantId,
          [
            {
              before,
              after: { ...before, deletedDateTime: when, entries: [] },
              gains: [],
              loses: [sku],
              purge: true,
            },
            create(principal(tenantId, stays)),
          ],
          'purge',
        ),
        true,
        {
          markers: new Map([[partition, [...seeded, ...open].map((c) => markerRow(c.plan.key))]]),
          openReservations: new Set(['live', 'purge']),
        },
      );
      expect(outcomes.map((o) => [o.landed, [...o.unpurged]])).toEqual([[true, []]]);
      expect(outcomes[0]?.chunk.plan.loses).toEqual({ [sku]: 1 });
      expect(await directory.principal(tenantId, gone)).toBeUndefined();
      const { records, markers } = await directory.principalShardsWithMarkers(tenantId, 90, 91);
      expect([...records.keys()].sort()).toEqual([stays, live].sort());
      // The closed reservation's marker went with this chunk; the open one's and the new one are left.
      expect(markers.get(partition)?.sort()).toEqual(
        [...open, ...outcomes.map((o) => o.chunk)].map((c) => markerRow(c.plan.key)).sort(),
      );
    });
  });
}

contract('Table adapter (real Azurite)', async () => ({
  writer: tableWriter,
  directory: new TableDirectoryStore(tables, catalog),
  licensing: new TableLicensingQueries(tables),
}));

contract('in-memory double', async () => {
  const rows = new DirectoryRows();
  return {
    writer: new InMemoryPrincipalWrites(rows, catalog),
    directory: new InMemoryDirectoryStore(rows),
    licensing: new InMemoryLicensingQueries(new InMemoryDirectoryQueries(catalog, rows)),
  };
});

describe('principal rows (real Azurite only)', () => {
  const writer = {
    plan: planChunks,
    write: (chunks: readonly PlannedChunk[]) => tableWriter.write(chunks, true),
  };
  async function landed(chunks: readonly PlannedChunk[]) {
    expect((await writer.write(chunks)).every((o) => o.landed)).toBe(true);
  }

  it('keeps a held seat as a filterable flag on the row (`assignedLicenses/any`)', async () => {
    const tenantId = randomUUID();
    const holder = principal(tenantId, randomUUID(), { entries: [entry()] });
    await landed(writer.plan(tenantId, [create(holder, [sku])], 'flag'));
    const partition = principalPartition(tenantId, holder.id);
    expect(
      (await getRow(tables.principalsFor(partition), partition, holder.id))?.[guidProperty('L', sku)],
    ).toBe(true);
  });

  it('leaves a row exactly as the written principal, whether the write adds properties or drops them', async () => {
    const tenantId = randomUUID();
    const id = randomUUID();
    const partition = principalPartition(tenantId, id);
    const table = tables.principalsFor(partition);
    const stored = async () => {
      const row = await getRow(table, partition, id);
      // The row's own properties, without the service's (ETag, timestamp, OData metadata).
      return Object.fromEntries(
        Object.entries(row ?? {}).filter(([key]) => !['etag', 'timestamp', 'odata.metadata'].includes(key)),
      );
    };
    const bare = principal(tenantId, id, { department: 'Sales' });
    await landed(writer.plan(tenantId, [create(bare)], 'bare'));
    const read = async () => (await readPrincipal(tables, tenantId, id)) ?? bare;

    // Only adds and changes properties (a license and its flag): the row is the new entity, nothing more.
    const first = await read();
    const licensed = { ...first, entries: [entry()], mailboxActive: true };
    expect(updateMode(encodePrincipal(catalog, first), encodePrincipal(catalog, licensed))).toBe('Merge');
    await landed(writer.plan(tenantId, [{ before: first, after: licensed, gains: [sku], loses: [] }], 'add'));
    expect(await stored()).toEqual(encodePrincipal(catalog, licensed));

    // Drops properties (the license flag, the user principal name): they are gone from the row.
    const second = await read();
    const bareAgain = { ...second, entries: [], userPrincipalName: null, department: null };
    expect(updateMode(encodePrincipal(catalog, second), encodePrincipal(catalog, bareAgain))).toBe('Replace');
    await landed(
      writer.plan(tenantId, [{ before: second, after: bareAgain, gains: [], loses: [sku] }], 'drop'),
    );
    const row = await stored();
    expect(row).toEqual(encodePrincipal(catalog, bareAgain));
    expect(row[guidProperty('L', sku)]).toBeUndefined();
    expect(withoutEtag(await read())).toEqual(withoutEtag(bareAgain));

    // A write with a stale ETag is refused either way.
    const licensedAgain = { ...bareAgain, entries: [entry()] };
    const [outcome] = await tableWriter.write(
      writer.plan(tenantId, [{ before: second, after: licensedAgain, gains: [sku], loses: [] }], 'stale'),
      true,
    );
    expect(outcome?.landed).toBe(false);
  });

  it('writes the rows a write carries with the same update mode as rows it encodes itself', async () => {
    const tenantId = randomUUID();
    const id = randomUUID();
    const partition = principalPartition(tenantId, id);
    await landed(writer.plan(tenantId, [create(principal(tenantId, id))], 'bare'));
    const read = async () => (await readPrincipal(tables, tenantId, id)) ?? principal(tenantId, id);
    const stored = async () => {
      const row = await getRow(tables.principalsFor(partition), partition, id);
      return Object.fromEntries(
        Object.entries(row ?? {}).filter(([key]) => !['etag', 'timestamp', 'odata.metadata'].includes(key)),
      );
    };
    // As planning hands them on: no seat moves, both records encoded to compare them.
    const carried = (before: PrincipalRecord, after: PrincipalRecord): PrincipalWrite => ({
      before,
      after,
      gains: [],
      loses: [],
      rows: { before: encodePrincipal(catalog, before), after: encodePrincipal(catalog, after) },
    });

    // Adds a property (a department) and changes one (the name): merged, the row is the new entity.
    const first = await read();
    const renamed = { ...first, displayName: 'Renamed', department: 'Sales' };
    const merge = carried(first, renamed);
    expect(merge.rows && updateMode(merge.rows.before, merge.rows.after)).toBe('Merge');
    await landed(writer.plan(tenantId, [merge], 'merge'));
    expect(await stored()).toEqual(encodePrincipal(catalog, renamed));

    // Drops properties (the user principal name, the usage location): replaced, they are gone from the row.
    const second = await read();
    const unnamed = { ...second, userPrincipalName: null, usageLocation: null };
    const replace = carried(second, unnamed);
    expect(replace.rows && updateMode(replace.rows.before, replace.rows.after)).toBe('Replace');
    await landed(writer.plan(tenantId, [replace], 'replace'));
    const row = await stored();
    expect(row).toEqual(encodePrincipal(catalog, unnamed));
    expect(row).not.toHaveProperty('upn');
    expect(row).not.toHaveProperty('ul');
  });

  it('round-trips every field of a principal, and reads shard ranges across tables', async () => {
    const tenantId = randomUUID();
    // In a shard outside the ranges read below, which must find only the principals placed there.
    const full = principal(tenantId, idsInShard(200, 1)[0] ?? '', {
      kind: 'device',
      userPrincipalName: null,
      usageLocation: null,
      mailNickname: 'dev',
      proxyAddresses: ['SMTP:a@contoso.test', 'smtp:b@contoso.test'],
      accountEnabled: false,
      department: 'R&D',
      device: {
        deviceId: randomUUID(),
        operatingSystem: 'Windows',
        operatingSystemVersion: '11',
        alternativeSecurityIds: [{ type: 2, key: 'abc' }],
      },
      profile: {
        jobTitle: 'Engineer',
        employeeId: 7,
        onPremisesSyncEnabled: false,
        otherMails: ['x@y.test'],
        city: null,
      },
      directLicenses: [{ skuId: sku, disabledPlans: ['p1'], since: when }],
      memberOf: [{ groupId: randomUUID(), joinedAt: when, bucket: 12, sequence: 4 }],
      removedMemberships: [{ groupId: randomUUID(), removedAt: when, sequence: 9 }],
      entries: [entry({ disabledPlans: ['p1'] })],
      mailboxActive: true,
      sharedProxy: true,
      lifecycleSequence: 3,
    });
    await landed(writer.plan(tenantId, [create(full)], 'full'));
    const read = await readPrincipal(tables, tenantId, full.id);
    expect(read?.etag).toBeTruthy();
    expect(withoutEtag(read ?? full)).toEqual(full);

    // One principal in each of shards 10, 20, 40 (tables 0, 1 and 2); a range 15..41 reads the last two.
    const spread = [10, 20, 40].map((shard) => idsInShard(shard, 1)[0] ?? '');
    await landed(
      writer.plan(
        tenantId,
        spread.map((id) => create(principal(tenantId, id))),
        'spread',
      ),
    );
    expect([...(await readPrincipalShards(tables, tenantId, 15, 41)).keys()].sort()).toEqual(
      [spread[1], spread[2]].sort(),
    );
    const wanted = new Set([spread[2] ?? '']);
    expect([...(await readPrincipalShards(tables, tenantId, 0, 256, wanted)).keys()]).toEqual([spread[2]]);
    expect((await readPrincipals(tables, tenantId, [...spread, randomUUID()])).size).toBe(3);
    expect(await readPrincipal(tables, randomUUID(), full.id)).toBeUndefined();
  });
});
