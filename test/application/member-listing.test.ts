// Listing a group's members a page at a time (listGroupMembers, issue 21): a page reads its own stretch of the member
// list and its own principals — a range read of the page's shards for a group that is most of its tenant, point reads
// for a small one — never the whole list. Reads are counted through the in-memory ports; no timing.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DirectoryStore, MemberListStore } from '../../src/application/ports.js';
import { type DirectoryObject, listGroupMembers } from '../../src/application/queries.js';
import type { GroupRecord, MemberRef } from '../../src/application/records.js';
import { shardOf } from '../../src/storage/keys.js';
import { InMemoryDirectoryStore, InMemoryMemberLists } from '../support/in-memory-stores.js';
import { principalRecord } from '../support/records.js';

const when = '2026-03-01T10:00:00.000Z';

interface Reads {
  /** Principal rows a range read went over (every principal of its shards), per call, the sizing sample included. */
  ranges: number[];
  /** Ids point-read, per call. */
  points: number[];
  wholeLists: number;
  pages: number;
}

/** A tenant of `users` users, a group holding the first `members` of them, a device and a nested group. */
async function tenantWithGroup(users: number, members: number) {
  const tenantId = randomUUID();
  const groupId = randomUUID();
  const store = new InMemoryDirectoryStore();
  const lists = new InMemoryMemberLists();
  const ids: string[] = [];
  for (let n = 0; n < users; n++) {
    const user = principalRecord(tenantId, { displayName: `User ${n}` });
    store.putPrincipal(user);
    ids.push(user.id);
  }
  const device = principalRecord(tenantId, { displayName: 'Kiosk', kind: 'device' });
  store.putPrincipal(device);
  const nested: GroupRecord = await store.createGroup({
    tenantId,
    id: randomUUID(),
    displayName: 'Nested',
    description: null,
    mailNickname: 'nested',
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: [],
    createdDateTime: when,
    memberOf: [],
    removedMemberships: [],
  });
  const refs: MemberRef[] = [
    ...ids.slice(0, members).map((id) => ({ id, kind: 'user' as const, joinedAt: when })),
    { id: device.id, kind: 'device', joinedAt: when },
    { id: nested.id, kind: 'group', joinedAt: when },
  ];
  await lists.apply(tenantId, groupId, refs, []);

  const reads: Reads = { ranges: [], points: [], wholeLists: 0, pages: 0 };
  const directory = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'principalShards') {
        return async (...args: Parameters<DirectoryStore['principalShards']>) => {
          const [tenant, from, to] = args;
          reads.ranges.push((await target.principalShards(tenant, from, to)).size);
          return target.principalShards(...args);
        };
      }
      if (property === 'principals') {
        return (tenant: string, wanted: readonly string[]) => {
          reads.points.push(wanted.length);
          return target.principals(tenant, wanted);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
  const memberLists = new Proxy(lists, {
    get(target, property, receiver) {
      if (property === 'listRange') {
        return (...args: Parameters<MemberListStore['listRange']>) => {
          reads.wholeLists++;
          return target.listRange(...args);
        };
      }
      if (property === 'listPage') {
        return (...args: Parameters<MemberListStore['listPage']>) => {
          reads.pages++;
          return target.listPage(...args);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
  const ctx = { directory, members: memberLists };
  const expected = [...refs].sort(
    (a, b) => shardOf(a.id) - shardOf(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return { ctx, tenantId, groupId, expected, reads };
}

function idOf(object: DirectoryObject): string {
  return object.kind === 'group' ? object.group.id : object.principal.id;
}

describe('listing a group’s members a page at a time', () => {
  it('lists 2,500 members in pages of 100: each once, in a stable order, each page reading only its shards', async () => {
    const { ctx, tenantId, groupId, expected, reads } = await tenantWithGroup(2500, 2500);
    const walk = async (top: number) => {
      const listed: string[] = [];
      let page = await listGroupMembers(ctx, tenantId, groupId, { top });
      for (let guard = 0; guard < 100; guard++) {
        expect(page.items.length).toBeLessThanOrEqual(top);
        listed.push(...page.items.map(idOf));
        if (!page.continuation) return listed;
        page = await listGroupMembers(ctx, tenantId, groupId, { top, continuation: page.continuation });
      }
      throw new Error('too many pages');
    };
    const listed = await walk(100);
    expect(listed).toEqual(expected.map((m) => m.id));
    expect(new Set(listed).size).toBe(2502);
    // The same walk again gives the same order.
    expect(await walk(100)).toEqual(listed);

    // The group is the tenant: each page reads its principals with one range read of its own ~10 of 256 shards
    // (~100 rows), never the whole list and never a point read per member.
    expect(reads.wholeLists).toBe(0);
    expect(reads.points).toEqual([]);
    const [sample, ...pageReads] = reads.ranges;
    expect(sample).toBeLessThan(50); // the first page's sizing sample: one shard
    expect(pageReads.length).toBeGreaterThanOrEqual(2 * 26);
    for (const rows of pageReads) expect(rows).toBeLessThanOrEqual(250);
    expect(reads.pages).toBe(2 * 26);
  });

  it('point-reads just the page’s members of a group that is a small part of its tenant', async () => {
    // 200 members or fewer are always point-read (readsDensely), whatever the tenant's sample says.
    const { ctx, tenantId, groupId, expected, reads } = await tenantWithGroup(2500, 180);
    const listed: string[] = [];
    let continuation: string | undefined;
    do {
      const page = await listGroupMembers(ctx, tenantId, groupId, {
        top: 50,
        ...(continuation ? { continuation } : {}),
      });
      listed.push(...page.items.map(idOf));
      continuation = page.continuation;
    } while (continuation);
    expect(listed).toEqual(expected.map((m) => m.id));
    expect(reads.wholeLists).toBe(0);
    expect(reads.ranges).toHaveLength(1); // the sizing sample only
    for (const ids of reads.points) expect(ids).toBeLessThanOrEqual(50);
    expect(reads.points.reduce((a, b) => a + b, 0)).toBe(181); // users and the device, once each
  });

  it('leaves soft-deleted users out of their page, and starts again on a continuation it cannot read', async () => {
    const { ctx, tenantId, groupId, expected } = await tenantWithGroup(40, 40);
    const gone = expected.find((m) => m.kind === 'user');
    if (!gone) throw new Error('no user');
    const record = await ctx.directory.principal(tenantId, gone.id);
    if (!record) throw new Error('no record');
    (ctx.directory as unknown as InMemoryDirectoryStore).putPrincipal({ ...record, deletedDateTime: when });
    const page = await listGroupMembers(ctx, tenantId, groupId, { top: 999 });
    expect(page.items.map(idOf)).toEqual(expected.map((m) => m.id).filter((id) => id !== gone.id));
    expect(page.continuation).toBeUndefined();
    const first = await listGroupMembers(ctx, tenantId, groupId, { top: 5 });
    const junk = await listGroupMembers(ctx, tenantId, groupId, { top: 5, continuation: 'not json' });
    expect(junk).toEqual(first);
  });
});
