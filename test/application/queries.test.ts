// Listings the Graph edge narrows in the application (src/application/queries.ts), on the in-memory ports.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  groupLicensesWith,
  groupsWithLicenseErrors,
  licensedGroups,
  waitersWithPrincipals,
} from '../../src/application/queries.js';
import type { GroupLicenseRecord, GroupRecord, PrincipalRecord } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { LicenseEntry } from '../../src/engine/index.js';
import { InMemoryDirectoryQueries, InMemoryLicensingQueries } from '../support/in-memory-queries.js';
import { InMemoryDirectoryStore } from '../support/in-memory-stores.js';
import { principalRecord } from '../support/records.js';

const catalog = loadCatalog();
const sku = catalog.skus[0]?.skuId ?? '';
const when = '2026-03-01T10:00:00.000Z';

function group(tenantId: string, displayName: string, securityEnabled = true): GroupRecord {
  return {
    tenantId,
    id: randomUUID(),
    displayName,
    description: null,
    mailNickname: displayName.replace(/\W/g, ''),
    securityEnabled,
    mailEnabled: !securityEnabled,
    groupTypes: [],
    createdDateTime: when,
    memberOf: [],
    removedMemberships: [],
  };
}

function member(tenantId: string, groupId: string, state: 'Active' | 'Error'): PrincipalRecord {
  const entry: LicenseEntry = {
    skuId: sku,
    assignedByGroup: groupId,
    disabledPlans: [],
    state,
    error: state === 'Error' ? 'CountViolation' : 'None',
    lastUpdatedDateTime: when,
    since: when,
    waitingSince: null,
  };
  return principalRecord(tenantId, { displayName: 'Member', usageLocation: 'US', entries: [entry] });
}

function licensing(groupId: string): GroupLicenseRecord {
  return {
    groupId,
    licenses: [{ skuId: sku, disabledPlans: [] }],
    licensedSince: when,
    jobId: null,
    processingState: 'ProcessingComplete',
    updatedDateTime: when,
  };
}

describe('groups with license errors', () => {
  it('are the licensed groups a member is in error for, narrowed by the listing conditions, by id', async () => {
    const tenantId = randomUUID();
    const directory = new InMemoryDirectoryStore();
    const listings = new InMemoryDirectoryQueries(catalog);
    const ctx = { directory, licensing: new InMemoryLicensingQueries(listings) };
    const hr = await directory.createGroup(group(tenantId, 'HR Department'));
    const hrNews = await directory.createGroup(group(tenantId, 'HR Newsletter', false));
    const sales = await directory.createGroup(group(tenantId, 'Sales'));
    const fine = await directory.createGroup(group(tenantId, 'HR Fine'));
    listings.rows.addPrincipals(
      member(tenantId, hr.id, 'Error'),
      member(tenantId, hrNews.id, 'Error'),
      member(tenantId, sales.id, 'Error'),
      member(tenantId, fine.id, 'Active'),
    );
    const licensed = new Map([hr, hrNews, sales, fine].map((g) => [g.id, licensing(g.id)]));
    const names = async (conditions: Parameters<typeof groupsWithLicenseErrors>[2], only = licensed) =>
      (await groupsWithLicenseErrors(ctx, tenantId, conditions, only)).map((g) => g.displayName);

    expect((await names([])).sort()).toEqual(['HR Department', 'HR Newsletter', 'Sales']);
    expect(await names([{ property: 'displayName', startsWith: 'hr' }])).toEqual(
      [hr, hrNews].sort((a, b) => (a.id < b.id ? -1 : 1)).map((g) => g.displayName),
    );
    expect(await names([{ property: 'displayName', equals: 'SALES' }])).toEqual(['Sales']);
    expect(await names([{ property: 'securityEnabled', equals: false }])).toEqual(['HR Newsletter']);
    expect(
      await names([
        { property: 'mailEnabled', equals: false },
        { property: 'displayName', startsWith: 'HR' },
      ]),
    ).toEqual(['HR Department']);
    // A group no longer carrying licenses is not listed, though its members' rows still say so.
    expect(await names([], new Map([[sales.id, licensing(sales.id)]]))).toEqual(['Sales']);
  });
});

describe('groups carrying a SKU', () => {
  it('are found from the license rows: every SKU asked for, narrowed by the conditions, by id', async () => {
    const tenantId = randomUUID();
    const other = catalog.skus[1]?.skuId ?? '';
    const directory = new InMemoryDirectoryStore();
    const a = await directory.createGroup(group(tenantId, 'Alpha'));
    const b = await directory.createGroup(group(tenantId, 'Beta', false));
    const c = await directory.createGroup(group(tenantId, 'Gamma'));
    const gone = randomUUID();
    const licensed = new Map<string, GroupLicenseRecord>([
      [a.id, licensing(a.id)],
      [
        b.id,
        {
          ...licensing(b.id),
          licenses: [
            { skuId: sku, disabledPlans: [] },
            { skuId: other, disabledPlans: [] },
          ],
        },
      ],
      [c.id, { ...licensing(c.id), licenses: [] }],
      // A row whose group is gone (deleted meanwhile) names nothing.
      [gone, licensing(gone)],
    ]);
    const byId = (...groups: GroupRecord[]) => groups.map((g) => g.id).sort();
    const found = async (skuIds: string[], conditions: Parameters<typeof licensedGroups>[2] = []) =>
      (await licensedGroups({ directory }, tenantId, conditions, groupLicensesWith(licensed, skuIds))).map(
        (g) => g.id,
      );
    expect(await found([sku])).toEqual(byId(a, b));
    expect(await found([other])).toEqual(byId(b));
    expect(await found([sku, other])).toEqual(byId(b));
    expect(await found([sku], [{ property: 'securityEnabled', equals: true }])).toEqual(byId(a));
    expect(await found([randomUUID()])).toEqual([]);
  });
});

describe('waiters with their principals', () => {
  it('keep the waiting order and leave out principals gone or soft-deleted', async () => {
    const tenantId = randomUUID();
    const directory = new InMemoryDirectoryStore();
    const first = await directory.createPrincipal(principalRecord(tenantId, { displayName: 'First' }));
    const deleted = await directory.createPrincipal(
      principalRecord(tenantId, { displayName: 'Deleted', deletedDateTime: when }),
    );
    const last = await directory.createPrincipal(principalRecord(tenantId, { displayName: 'Last' }));
    const waiters = [first, deleted, { id: randomUUID() }, last].map((p, i) => ({
      principalId: p.id,
      skuId: sku,
      waitingSince: when,
      position: i + 1,
    }));
    const named = await waitersWithPrincipals({ directory }, tenantId, waiters);
    expect(named.map(({ waiter, principal }) => [waiter.position, principal.displayName])).toEqual([
      [1, 'First'],
      [4, 'Last'],
    ]);
  });
});
