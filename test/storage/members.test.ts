// Group member lists (the MemberListStore port): listed by the members' principal shards, so a job's page over
// shards a..b reads exactly its members; changes are idempotent and the count stays exact. One suite runs against
// the Table adapter on a real Azurite and against the in-memory double; what only the tables have — 256 packed
// buckets, changes spanning more buckets than one transaction holds, several hosts at once — is tested on them.
import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberListStore } from '../../src/application/ports.js';
import { SHARD_COUNT, shardOf } from '../../src/storage/keys.js';
import { bucketOf, MemberLists, type MemberRef } from '../../src/storage/members.js';
import type { StorageTables } from '../../src/storage/tables.js';
import { InMemoryMemberLists } from '../support/in-memory-stores.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;
let tables: StorageTables;
let members: MemberLists;

beforeAll(async () => {
  scratch = await scratchTables('members', (t) => [t.members]);
  tables = scratch.tables;
  members = new MemberLists(tables);
});
afterAll(async () => {
  await scratch?.drop();
});

const joined = Date.parse('2026-03-01T10:00:00.000Z');

function refs(count: number, kind: MemberRef['kind'] = 'user', offsetMs = 0): MemberRef[] {
  return Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    kind,
    joinedAt: new Date(joined + offsetMs + i).toISOString(),
  }));
}

const byId = (a: MemberRef, b: MemberRef) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function contract(name: string, setUp: () => Promise<MemberListStore>) {
  describe(`MemberListStore: ${name}`, () => {
    let members: MemberListStore;
    beforeAll(async () => {
      members = await setUp();
    });

    it('lists exactly the members of a shard range, so pages over consecutive ranges cover the list once', async () => {
      const tenantId = randomUUID();
      const groupId = randomUUID();
      const added = [...refs(300), ...refs(20, 'device', 5000), ...refs(5, 'group', 9000)];
      expect(await members.apply(tenantId, groupId, added, [])).toBe(325);
      expect(await members.count(tenantId, groupId)).toBe(325);

      // Pages of 37 shards, as a job would plan them: each holds only members of its shards, none twice.
      const paged: MemberRef[] = [];
      for (let from = 0; from < SHARD_COUNT; from += 37) {
        const to = Math.min(SHARD_COUNT, from + 37);
        const page = await members.listRange(tenantId, groupId, from, to);
        for (const m of page) expect(shardOf(m.id)).toBeGreaterThanOrEqual(from);
        for (const m of page) expect(shardOf(m.id)).toBeLessThan(to);
        paged.push(...page);
      }
      // Ids, kinds and join times (to the millisecond) come back as written.
      expect(paged.sort(byId)).toEqual([...added].sort(byId));
      expect((await members.listRange(tenantId, groupId)).sort(byId)).toEqual([...added].sort(byId));
      expect(bucketOf(added[0]?.id ?? '')).toBe(shardOf(added[0]?.id ?? ''));
    });

    it('pages the list from a position: every member once, by shard then id, no empty last page', async () => {
      const tenantId = randomUUID();
      const groupId = randomUUID();
      const added = [...refs(600), ...refs(30, 'device', 5000), ...refs(4, 'group', 9000)];
      await members.apply(tenantId, groupId, added, []);
      const order = (a: MemberRef, b: MemberRef) => bucketOf(a.id) - bucketOf(b.id) || byId(a, b);

      const walk = async (limit: number) => {
        const seen: MemberRef[] = [];
        let page = await members.listPage(tenantId, groupId, limit);
        for (let guard = 0; guard < 1000; guard++) {
          expect(page.refs.length).toBe(page.next ? limit : page.refs.length);
          expect(page.refs.length).toBeGreaterThan(0);
          seen.push(...page.refs);
          if (!page.next) return seen;
          expect(page.next).toEqual({
            shard: bucketOf(page.refs.at(-1)?.id ?? ''),
            id: page.refs.at(-1)?.id,
          });
          page = await members.listPage(tenantId, groupId, limit, page.next);
        }
        throw new Error('too many pages');
      };
      expect(await walk(100)).toEqual([...added].sort(order));
      expect(await walk(7)).toEqual([...added].sort(order));
      // A page exactly as long as the list is the last one.
      expect((await members.listPage(tenantId, groupId, added.length)).next).toBeUndefined();
      expect(await members.listPage(randomUUID(), groupId, 10)).toEqual({ refs: [] });

      // Members joining or leaving between pages move nothing already listed: the position is a member, not an offset.
      const first = await members.listPage(tenantId, groupId, 300);
      const after = first.next;
      if (!after) throw new Error('expected more');
      const before = [...added].sort(order).filter((m) => order(m, first.refs.at(-1) ?? m) <= 0);
      await members.apply(tenantId, groupId, [], [before[0]?.id ?? '']);
      const rest: MemberRef[] = [];
      for (let page = await members.listPage(tenantId, groupId, 300, after); ; ) {
        rest.push(...page.refs);
        if (!page.next) break;
        page = await members.listPage(tenantId, groupId, 300, page.next);
      }
      expect([...first.refs, ...rest]).toEqual([...added].sort(order));
    }, 30_000);

    it('ignores adding a present member and removing an absent one (replays are harmless)', async () => {
      const tenantId = randomUUID();
      const groupId = randomUUID();
      const [a, b] = refs(2);
      if (!a || !b) throw new Error('refs');
      expect(await members.apply(tenantId, groupId, [a, b], [])).toBe(2);
      // Replayed join, with a later time: the first join time is kept.
      expect(
        await members.apply(
          tenantId,
          groupId,
          [{ ...a, joinedAt: new Date(joined + 60_000).toISOString() }],
          [],
        ),
      ).toBe(2);
      expect(await members.apply(tenantId, groupId, [], [randomUUID()])).toBe(2);
      expect(await members.has(tenantId, groupId, a.id)).toBe(true);
      expect((await members.listRange(tenantId, groupId)).find((m) => m.id === a.id)?.joinedAt).toBe(
        a.joinedAt,
      );

      expect(await members.apply(tenantId, groupId, [], [a.id])).toBe(1);
      expect(await members.apply(tenantId, groupId, [], [a.id])).toBe(1);
      expect(await members.has(tenantId, groupId, a.id)).toBe(false);
      expect(await members.has(tenantId, groupId, b.id)).toBe(true);
      expect(await members.count(tenantId, randomUUID())).toBe(0);
    });

    // A bucket whose count is unchanged may still have changed: it must be written all the same.
    it('writes a bucket where one member leaves and another joins in the same call', async () => {
      const tenantId = randomUUID();
      const groupId = randomUUID();
      const [leaver] = refs(1);
      if (!leaver) throw new Error('refs');
      let joinerId = randomUUID();
      while (bucketOf(joinerId) !== bucketOf(leaver.id)) joinerId = randomUUID();
      const joiner: MemberRef = {
        id: joinerId,
        kind: 'user',
        joinedAt: new Date(joined + 1000).toISOString(),
      };
      await members.apply(tenantId, groupId, [leaver], []);
      expect(await members.apply(tenantId, groupId, [joiner], [leaver.id])).toBe(1);
      expect(await members.listRange(tenantId, groupId)).toEqual([joiner]);
    });

    it('drops a whole list when its group is deleted', async () => {
      const tenantId = randomUUID();
      const groupId = randomUUID();
      const kept = randomUUID();
      await members.apply(tenantId, groupId, refs(400), []);
      await members.apply(tenantId, kept, refs(3), []);
      await members.drop(tenantId, groupId);
      expect(await members.count(tenantId, groupId)).toBe(0);
      expect(await members.listRange(tenantId, groupId)).toEqual([]);
      expect(await members.count(tenantId, kept)).toBe(3);
      // A list dropped twice (a retried delete) is fine.
      await members.drop(tenantId, groupId);
    }, 30_000);
  });
}

contract('Table adapter (real Azurite)', async () => members);
contract('in-memory double', async () => new InMemoryMemberLists());

/** The tables with the member table's range reads counted, row by row (what a page costs). */
function countingMembers(tables: StorageTables): {
  lists: MemberLists;
  rowsRead: () => number;
  reset: () => void;
} {
  let rows = 0;
  const client = tables.members;
  const members = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'listEntities') return Reflect.get(target, property, receiver);
      return (...args: Parameters<TableClient['listEntities']>) => {
        const listed = target.listEntities(...args);
        return {
          byPage: (settings?: Parameters<typeof listed.byPage>[0]) => {
            const pages = listed.byPage(settings);
            return {
              next: async () => {
                const page = await pages.next();
                if (!page.done) rows += page.value.length;
                return page;
              },
            };
          },
        };
      };
    },
  });
  const counted = new Proxy(tables, {
    get: (target, property, receiver) =>
      property === 'members' ? members : Reflect.get(target, property, receiver),
  });
  return {
    lists: new MemberLists(counted),
    rowsRead: () => rows,
    reset: () => {
      rows = 0;
    },
  };
}

describe('MemberLists on the tables (real Azurite)', () => {
  it('reads only the buckets a page needs, not the whole list (issue 21)', async () => {
    const tenantId = randomUUID();
    const groupId = randomUUID();
    await members.apply(tenantId, groupId, refs(5000), []);
    const counting = countingMembers(tables);
    let page = await counting.lists.listPage(tenantId, groupId, 100);
    let pages = 1;
    let seen = page.refs.length;
    while (page.next) {
      // ~20 members a bucket: a page of 100 needs 6 of the 256 buckets; the read asks for 4, then 8 more.
      expect(counting.rowsRead()).toBeLessThanOrEqual(12);
      counting.reset();
      page = await counting.lists.listPage(tenantId, groupId, 100, page.next);
      pages++;
      seen += page.refs.length;
    }
    expect(seen).toBe(5000);
    expect(pages).toBe(50);
  }, 60_000);

  it('keeps the count exact over changes that span more buckets than one transaction holds', async () => {
    const tenantId = randomUUID();
    const groupId = randomUUID();
    const added = refs(1200);
    // Touches nearly every one of the 256 buckets: three transactions, buckets read with one range query.
    expect(new Set(added.map((m) => bucketOf(m.id))).size).toBeGreaterThan(200);
    expect(await members.apply(tenantId, groupId, added, [])).toBe(1200);
    const leaving = added.filter((_, i) => i % 2 === 0).map((m) => m.id);
    expect(await members.apply(tenantId, groupId, [], leaving)).toBe(600);
    expect(await members.apply(tenantId, groupId, refs(100, 'user', 10_000), [])).toBe(700);
    expect(await members.count(tenantId, groupId)).toBe(700);
    const listed = await members.listRange(tenantId, groupId);
    expect(listed).toHaveLength(700);
    const gone = new Set(leaving);
    expect(listed.some((m) => gone.has(m.id))).toBe(false);
  }, 30_000);

  it('drops the part of a bucket row that a shrinking bucket no longer needs (rows are merged otherwise)', async () => {
    const tenantId = randomUUID();
    const groupId = randomUUID();
    // 700 members of one bucket: 32,200 characters, two properties of the row (30,000 characters each).
    const crowded: MemberRef[] = [];
    while (crowded.length < 700) {
      const id = randomUUID();
      if (bucketOf(id) === 7) crowded.push({ id, kind: 'user', joinedAt: new Date(joined).toISOString() });
    }
    expect(await members.apply(tenantId, groupId, crowded, [])).toBe(700);
    // One more joins: the row keeps its two properties and is merged in place.
    const [late] = refs(1);
    if (!late) throw new Error('no member');
    expect(await members.apply(tenantId, groupId, [late], [])).toBe(701);
    const leaving = crowded.slice(0, 400).map((m) => m.id);
    expect(await members.apply(tenantId, groupId, [], leaving)).toBe(301);
    const listed = await members.listRange(tenantId, groupId);
    // Merged, the row would keep its second property and with it members who left.
    expect(listed).toHaveLength(301);
    const gone = new Set(leaving);
    expect(listed.some((m) => gone.has(m.id))).toBe(false);
  }, 30_000);

  it('starts a change from what the process last wrote, and from a fresh read whenever that is out of date', async () => {
    const tenantId = randomUUID();
    const groupId = randomUUID();
    let reads = 0;
    const client = tables.members;
    const countingClient = new Proxy(client, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if ((property !== 'getEntity' && property !== 'listEntities') || typeof value !== 'function')
          return value;
        return (...args: unknown[]) => {
          reads++;
          return value.apply(target, args);
        };
      },
    });
    const hostA = new MemberLists(
      new Proxy(tables, {
        get: (target, property, receiver) =>
          property === 'members' ? countingClient : Reflect.get(target, property, receiver),
      }),
    );
    const hostB = new MemberLists(scratch.anotherHost());
    const joiners = refs(40);
    const ids = joiners.map((m) => m.id);
    expect(await hostA.apply(tenantId, groupId, joiners, [])).toBe(40);
    // The leaves after the joins (as a batch of changes does): nothing read, the snapshot's ETags hold.
    reads = 0;
    expect(await hostA.apply(tenantId, groupId, [], ids.slice(30))).toBe(30);
    expect(reads).toBe(0);

    // Another host removes a member and adds one in the same bucket as another member A will remove.
    const [gone = '', leaving = ''] = ids;
    let neighbour: MemberRef | undefined;
    while (!neighbour) {
      const [candidate] = refs(1, 'user', 3000);
      if (candidate && bucketOf(candidate.id) === bucketOf(leaving)) neighbour = candidate;
    }
    expect(await hostB.apply(tenantId, groupId, [neighbour], [gone])).toBe(30);
    // A's snapshot says `gone` is a member: a join it would skip is read afresh, and made.
    expect(await hostA.apply(tenantId, groupId, [joiners[0] as MemberRef], [])).toBe(31);
    // A's snapshot is fresh again; B changes the list behind it; A's leave fails on the ETag and is retried.
    expect(await hostB.apply(tenantId, groupId, refs(1, 'user', 5000), [])).toBe(32);
    expect(await hostA.apply(tenantId, groupId, [], [leaving])).toBe(31);
    const listed = await members.listRange(tenantId, groupId);
    expect(listed).toHaveLength(31);
    expect(await members.count(tenantId, groupId)).toBe(31);
    const listedIds = new Set(listed.map((m) => m.id));
    expect(listedIds.has(gone)).toBe(true);
    expect(listedIds.has(neighbour.id)).toBe(true);
    expect(listedIds.has(leaving)).toBe(false);
  }, 30_000);

  it('keeps every member and an exact count with several hosts changing one list at once', async () => {
    const tenantId = randomUUID();
    const groupId = randomUUID();
    const initial = refs(200);
    await members.apply(tenantId, groupId, initial, []);
    const hosts = Array.from({ length: 4 }, () => new MemberLists(scratch.anotherHost()));
    // Two hosts add members, two remove some of the initial ones, all at once.
    const batches = [refs(150, 'user', 1000), refs(150, 'user', 2000)];
    const removed = [initial.slice(0, 50).map((m) => m.id), initial.slice(50, 100).map((m) => m.id)];
    await Promise.all([
      hosts[0]?.apply(tenantId, groupId, batches[0] ?? [], []),
      hosts[1]?.apply(tenantId, groupId, batches[1] ?? [], []),
      hosts[2]?.apply(tenantId, groupId, [], removed[0] ?? []),
      hosts[3]?.apply(tenantId, groupId, [], removed[1] ?? []),
    ]);
    const expected = [...initial.slice(100), ...batches.flat()];
    expect(await members.count(tenantId, groupId)).toBe(expected.length);
    expect((await members.listRange(tenantId, groupId)).sort(byId)).toEqual(expected.sort(byId));
  }, 30_000);
});
