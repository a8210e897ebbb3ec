// Group rows on a real Azurite: every field round-trips, a tenant lists only its own groups, and the group cache
// loads a group with every group it is nested in (device licenses follow nesting), cycles included.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupCache } from '../../src/application/group-cache.js';
import type { GroupRecord } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { TableDirectoryStore } from '../../src/storage/directory-store.js';
import { encodeGroup, listGroups, readGroup } from '../../src/storage/group-records.js';
import type { StorageTables } from '../../src/storage/tables.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;
let tables: StorageTables;

beforeAll(async () => {
  scratch = await scratchTables('groups', (t) => [t.groups]);
  tables = scratch.tables;
});
afterAll(async () => {
  await scratch?.drop();
});

const when = '2026-03-01T10:00:00.000Z';

function group(tenantId: string, overrides: Partial<GroupRecord> = {}): GroupRecord {
  const id = overrides.id ?? randomUUID();
  return {
    tenantId,
    id,
    displayName: `Group ${id.slice(0, 6)}`,
    description: null,
    mailNickname: `g${id.slice(0, 6)}`,
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: [],
    createdDateTime: when,
    memberOf: [],
    removedMemberships: [],
    ...overrides,
  };
}

const nestedIn = (parent: string) => ({ groupId: parent, joinedAt: when, bucket: 3 });

async function put(...groups: GroupRecord[]): Promise<void> {
  for (const g of groups) await tables.groups.createEntity(encodeGroup(g));
}

const withoutEtag = ({ etag: _etag, ...rest }: GroupRecord) => rest;

describe('group records (real Azurite)', () => {
  it('round-trips every field of a group', async () => {
    const tenantId = randomUUID();
    const full = group(tenantId, {
      displayName: 'Sales – EMEA',
      description: 'Everyone selling',
      securityEnabled: false,
      mailEnabled: true,
      groupTypes: ['Unified'],
      memberOf: [{ groupId: randomUUID(), joinedAt: when, bucket: 200, sequence: 12 }],
      removedMemberships: [{ groupId: randomUUID(), removedAt: when, sequence: 3 }],
    });
    await put(full);
    const read = await readGroup(tables, tenantId, full.id);
    expect(read?.etag).toBeTruthy();
    expect(read && withoutEtag(read)).toEqual(full);
    expect(await readGroup(tables, randomUUID(), full.id)).toBeUndefined();
  });

  it('lists only the tenant’s own groups', async () => {
    const tenantId = randomUUID();
    const mine = [group(tenantId), group(tenantId), group(tenantId)];
    await put(...mine, group(randomUUID()));
    const listed: string[] = [];
    for await (const g of listGroups(tables, tenantId)) listed.push(g.id);
    expect(listed.sort()).toEqual(mine.map((g) => g.id).sort());
  });

  it('loads a group with every group it is nested in, through a cycle', async () => {
    const tenantId = randomUUID();
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // a ⊂ b ⊂ c ⊂ a (a cycle), and a ⊂ d; d names a parent that no longer exists.
    await put(
      group(tenantId, { id: a, memberOf: [nestedIn(b), nestedIn(d)] }),
      group(tenantId, { id: b, memberOf: [nestedIn(c)] }),
      group(tenantId, { id: c, memberOf: [nestedIn(a)] }),
      group(tenantId, { id: d, memberOf: [nestedIn(randomUUID())] }),
    );
    const cache = new GroupCache(new TableDirectoryStore(tables, loadCatalog()), tenantId);
    await cache.loadWithAncestors([a]);
    expect([a, b, c, d].map((id) => cache.known(id)?.id)).toEqual([a, b, c, d]);
    const unrelated = randomUUID();
    await put(group(tenantId, { id: unrelated }));
    expect(cache.known(unrelated)).toBeUndefined();
    // A group's read is shared: asking again returns the same record without another read.
    expect(await cache.get(b)).toBe(cache.known(b));
  });
});
