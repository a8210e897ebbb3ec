// The directory store port (src/application/ports.ts): one suite against the Table adapter on a real Azurite and
// against the in-memory double, so creates refuse taken ids and group writes refuse stale reads alike.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { DirectoryStore } from '../../src/application/ports.js';
import type { GroupRecord, PrincipalRecord } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { TableDirectoryStore } from '../../src/storage/directory-store.js';
import { SHARD_COUNT, shardOf } from '../../src/storage/keys.js';
import { hasStatus, isConflict } from '../../src/storage/properties.js';
import { StorageTables } from '../../src/storage/tables.js';
import { InMemoryDirectoryStore } from '../support/in-memory-stores.js';
import { uniqueName } from '../support/index.js';
import { principalRecord } from '../support/records.js';

const catalog = loadCatalog();
const when = '2026-03-01T10:00:00.000Z';

function user(tenantId: string, displayName: string): PrincipalRecord {
  const lower = displayName.toLowerCase();
  return principalRecord(tenantId, {
    displayName,
    userPrincipalName: `${lower}@contoso.test`,
    mailNickname: lower,
    usageLocation: 'US',
    proxyAddresses: [`SMTP:${lower}@contoso.test`],
    department: 'HR',
    profile: { jobTitle: 'Clerk' },
  });
}

function group(tenantId: string, displayName: string): GroupRecord {
  return {
    tenantId,
    id: randomUUID(),
    displayName,
    description: null,
    mailNickname: displayName,
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: [],
    createdDateTime: when,
    memberOf: [],
    removedMemberships: [],
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

const withoutEtag = <T extends { etag?: string }>({ etag: _etag, ...rest }: T) => rest;

function contract(name: string, setUp: () => Promise<DirectoryStore>) {
  describe(`DirectoryStore: ${name}`, () => {
    it('creates principals once and reads them back, one or many, only in their tenant', async () => {
      const store = await setUp();
      const tenantId = randomUUID();
      const adele = await store.createPrincipal(user(tenantId, 'Adele'));
      const alex = await store.createPrincipal(user(tenantId, 'Alex'));
      expect(adele.etag).toEqual(expect.any(String));
      expect(isConflict(await rejection(store.createPrincipal({ ...adele, displayName: 'Twin' })))).toBe(
        true,
      );
      expect(withoutEtag((await store.principal(tenantId, adele.id)) ?? adele)).toEqual(withoutEtag(adele));
      expect(await store.principal(randomUUID(), adele.id)).toBeUndefined();
      const many = await store.principals(tenantId, [adele.id, alex.id, randomUUID()]);
      expect([...many.keys()].sort()).toEqual([adele.id, alex.id].sort());
    });

    it('creates, replaces under the ETag, and deletes groups', async () => {
      const store = await setUp();
      const tenantId = randomUUID();
      const hr = await store.createGroup(group(tenantId, 'HR'));
      expect(isConflict(await rejection(store.createGroup({ ...hr, displayName: 'Twin' })))).toBe(true);
      const read = await store.group(tenantId, hr.id);
      if (!read) throw new Error('not created');
      const renamed = await store.replaceGroup({ ...read, displayName: 'Human Resources' });
      expect(isConflict(await rejection(store.replaceGroup({ ...read, displayName: 'Lost' })))).toBe(true);
      expect((await store.group(tenantId, hr.id))?.displayName).toBe('Human Resources');
      await store.deleteGroup(renamed);
      expect(await store.group(tenantId, hr.id)).toBeUndefined();
      expect(hasStatus(await rejection(store.deleteGroup(renamed)), 404)).toBe(true);
    });

    it('creates in bulk, leaving out only what is taken, and reads a range of shards', async () => {
      const store = await setUp();
      const tenantId = randomUUID();
      // 120 users of one batch: more than one transaction's worth.
      const batches = new Map<string, PrincipalRecord[]>();
      let full: PrincipalRecord[] | undefined;
      for (let i = 0; !full; i++) {
        const record = user(tenantId, `User${i}`);
        const batch = store.batchOf('principal', tenantId, record.id);
        const list = [...(batches.get(batch) ?? []), record];
        batches.set(batch, list);
        if (list.length === 120) full = list;
      }
      const [first, second] = full;
      if (!first || !second) throw new Error('no users');
      await store.createPrincipal(first);
      const taken = await store.createPrincipals(full);
      expect(taken.map((r) => r.id)).toEqual([first.id]);
      const shard = shardOf(first.id);
      const range = await store.principalShards(tenantId, shard, shard + 1);
      expect([...range.keys()].sort()).toEqual(full.map((r) => r.id).sort());
      const wanted = await store.principalShards(tenantId, shard, shard + 1, new Set([second.id]));
      expect([...wanted.keys()]).toEqual([second.id]);
      expect((await store.principalShardsWithMarkers(tenantId, 0, SHARD_COUNT)).records.size).toBe(120);

      const hr = group(tenantId, 'HR');
      const groups = [hr];
      while (groups.length < 3) {
        const next = group(tenantId, `G${groups.length}`);
        if (store.batchOf('group', tenantId, next.id) === store.batchOf('group', tenantId, hr.id))
          groups.push(next);
      }
      await store.createGroup(hr);
      expect((await store.createGroups(groups)).map((g) => g.id)).toEqual([hr.id]);
      for (const g of groups) expect((await store.group(tenantId, g.id))?.displayName).toBe(g.displayName);
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('dst'));
  await tables.ensure();
  return new TableDirectoryStore(tables, catalog);
});

contract('in-memory double', async () => new InMemoryDirectoryStore());
