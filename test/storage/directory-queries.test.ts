// The directory's listings port (src/application/ports.ts): one suite, run against the Table adapter on a real
// Azurite and against the in-memory double use-case tests rely on, so the double answers as storage does.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { DirectoryQueries, LicensingQueries, PageRequest } from '../../src/application/ports.js';
import type { DirectoryAudit, GroupRecord, PrincipalRecord } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { LicenseEntry } from '../../src/engine/index.js';
import { AuditLog } from '../../src/storage/audit.js';
import { TableLicensingQueries } from '../../src/storage/bookkeeping.js';
import { TableDirectoryQueries } from '../../src/storage/directory-queries.js';
import { encodeGroup } from '../../src/storage/group-records.js';
import { encodePrincipal } from '../../src/storage/principal-records.js';
import { StorageTables } from '../../src/storage/tables.js';
import { InMemoryDirectoryQueries, InMemoryLicensingQueries } from '../support/in-memory-queries.js';
import { uniqueName } from '../support/index.js';
import { principalRecord as principal } from '../support/records.js';

const catalog = loadCatalog();
const sku = catalog.skus[0]?.skuId ?? '';
const groupSku = catalog.skus[1]?.skuId ?? '';
const when = '2026-03-01T10:00:00.000Z';

interface Seeded {
  readonly queries: DirectoryQueries;
  readonly licensing: LicensingQueries;
  readonly tenantId: string;
  readonly otherTenantId: string;
  /** A group whose license two members hold and one is in error for. */
  readonly licensedGroupId: string;
}

interface Seeder {
  principals(records: readonly PrincipalRecord[]): Promise<void>;
  groups(records: readonly GroupRecord[]): Promise<void>;
  audits(tenantId: string, records: readonly DirectoryAudit[]): Promise<void>;
}

function activeEntry(skuId: string): LicenseEntry {
  return {
    skuId,
    assignedByGroup: null,
    disabledPlans: [],
    state: 'Active',
    error: 'None',
    lastUpdatedDateTime: when,
    since: when,
    waitingSince: null,
  };
}

/** A license held back because one of the user's addresses is taken (rules.md: mailbox uniqueness). */
function refusedEntry(skuId: string): LicenseEntry {
  return { ...activeEntry(skuId), state: 'Error', error: 'UniquenessViolation' };
}

function group(tenantId: string, displayName: string, securityEnabled: boolean): GroupRecord {
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

function audit(activityDisplayName: string, activityDateTime: string): DirectoryAudit {
  return {
    id: randomUUID(),
    activityDateTime,
    activityDisplayName,
    category: 'UserManagement',
    correlationId: randomUUID(),
    initiatedBy: { app: null },
    loggedByService: 'Core Directory',
    operationType: 'Add',
    result: 'success',
    resultReason: '',
    targetResources: [],
    additionalDetails: [],
  };
}

async function seed(queries: DirectoryQueries, licensing: LicensingQueries, seeder: Seeder): Promise<Seeded> {
  const tenantId = randomUUID();
  const otherTenantId = randomUUID();
  const licensedGroupId = randomUUID();
  const fromGroup = (state: 'Active' | 'Error'): LicenseEntry => ({
    ...activeEntry(groupSku),
    assignedByGroup: licensedGroupId,
    state,
    error: state === 'Error' ? 'CountViolation' : 'None',
  });
  await seeder.principals([
    principal(tenantId, { displayName: 'Adele Vance', usageLocation: 'US', entries: [activeEntry(sku)] }),
    principal(tenantId, { displayName: 'Alex Wilber', usageLocation: 'GB', entries: [refusedEntry(sku)] }),
    principal(tenantId, { displayName: 'Megan Bowen', usageLocation: 'US', accountEnabled: false }),
    // Soft-deleted: no longer counted for the group it was in error from.
    principal(tenantId, { displayName: 'Gone Person', deletedDateTime: when, entries: [fromGroup('Error')] }),
    ...Array.from({ length: 7 }, (_, i) =>
      principal(tenantId, {
        displayName: `Paged User ${i}`,
        entries: i === 0 ? [fromGroup('Active')] : i === 1 ? [fromGroup('Error')] : [],
      }),
    ),

    principal(tenantId, { displayName: 'Lab PC 1', kind: 'device', userPrincipalName: null }),
    principal(tenantId, {
      displayName: 'Lab PC 2',
      kind: 'device',
      userPrincipalName: null,
      accountEnabled: false,
    }),
    principal(otherTenantId, { displayName: 'Adele Vance' }),
  ]);
  await seeder.groups([
    group(tenantId, 'HR Department', true),
    group(tenantId, 'HR Newsletter', false),
    group(tenantId, 'Sales', true),
    group(otherTenantId, 'HR Department', true),
  ]);
  await seeder.audits(tenantId, [
    audit('Add user', '2026-03-01T10:00:00.000Z'),
    audit('Add member to group', '2026-03-01T11:00:00.000Z'),
    audit('Add user', '2026-03-01T12:00:00.000Z'),
  ]);
  await seeder.audits(otherTenantId, [audit('Add user', '2026-03-01T10:30:00.000Z')]);
  return { queries, licensing, tenantId, otherTenantId, licensedGroupId };
}

/** Every item of a listing, page by page, checking no page is larger than asked. */
async function all<T>(list: (page: PageRequest) => Promise<{ items: readonly T[]; continuation?: string }>) {
  const items: T[] = [];
  let continuation: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await list(continuation ? { top: 3, continuation } : { top: 3 });
    expect(page.items.length).toBeLessThanOrEqual(3);
    items.push(...page.items);
    continuation = page.continuation;
    if (!continuation) return items;
  }
  throw new Error('the listing never ended');
}

function contract(name: string, setUp: () => Promise<Seeded>) {
  describe(`DirectoryQueries: ${name}`, () => {
    let seeded: Seeded;
    beforeAll(async () => {
      seeded = await setUp();
    }, 60_000);

    const names = (items: readonly { displayName: string }[]) => items.map((i) => i.displayName).sort();

    it('lists a tenant’s active users, all of them across pages, and counts them', async () => {
      const { queries, tenantId } = seeded;
      const query = { deleted: false, conditions: [] };
      const users = await all((page) => queries.users(tenantId, query, page));
      expect(users).toHaveLength(10);
      expect(new Set(users.map((u) => u.id)).size).toBe(10);
      expect(users.every((u) => u.tenantId === tenantId && u.kind === 'user')).toBe(true);
      expect(await queries.countUsers(tenantId, query)).toBe(10);
    });

    it('filters users by each condition, ignoring case where Graph does', async () => {
      const { queries, tenantId } = seeded;
      const list = async (conditions: Parameters<DirectoryQueries['users']>[1]['conditions']) =>
        names(await all((page) => queries.users(tenantId, { deleted: false, conditions }, page)));
      expect(await list([{ property: 'assignedLicenses', skuId: sku }])).toEqual(['Adele Vance']);
      expect(await list([{ property: 'usageLocation', equals: 'us' }])).toEqual([
        'Adele Vance',
        'Megan Bowen',
      ]);
      expect(await list([{ property: 'accountEnabled', equals: false }])).toEqual(['Megan Bowen']);
      expect(await list([{ property: 'userPrincipalName', equals: 'alexwilber@contoso.test' }])).toEqual([
        'Alex Wilber',
      ]);
      expect(await list([{ property: 'displayName', equals: 'ADELE VANCE' }])).toEqual(['Adele Vance']);
      expect(await list([{ property: 'displayName', startsWith: 'a' }])).toEqual([
        'Adele Vance',
        'Alex Wilber',
      ]);
      expect(
        await list([
          { property: 'displayName', startsWith: 'a' },
          { property: 'usageLocation', equals: 'GB' },
        ]),
      ).toEqual(['Alex Wilber']);
    });

    it('lists deleted users apart from active ones', async () => {
      const { queries, tenantId } = seeded;
      const deleted = await all((page) => queries.users(tenantId, { deleted: true, conditions: [] }, page));
      expect(names(deleted)).toEqual(['Gone Person']);
    });

    it('finds users soft-deleted before a cutoff, and the users refused a mailbox', async () => {
      const { queries, tenantId, otherTenantId } = seeded;
      const deletedBefore = async (id: string, cutoff: string) => {
        const found = [];
        for await (const user of queries.deletedBefore(id, cutoff)) found.push(user);
        return found;
      };
      const after = new Date(Date.parse(when) + 1).toISOString();
      expect(await deletedBefore(tenantId, after)).toEqual([
        { id: expect.any(String), deletedDateTime: when },
      ]);
      expect(await deletedBefore(tenantId, when)).toEqual([]);
      expect(await deletedBefore(otherTenantId, after)).toEqual([]);
      const refused = [];
      for await (const user of queries.refusedMailboxes(tenantId)) refused.push(user.displayName);
      expect(refused).toEqual(['Alex Wilber']);
    });

    it('streams every principal (deleted ones too) and every group of the tenant, and nothing else', async () => {
      const { queries, tenantId } = seeded;
      const principals: string[] = [];
      for await (const p of queries.allPrincipals(tenantId)) principals.push(p.displayName);
      expect(principals).toHaveLength(13);
      expect(principals).toEqual(expect.arrayContaining(['Gone Person', 'Lab PC 1', 'Adele Vance']));
      const groups: string[] = [];
      for await (const g of queries.allGroups(tenantId)) groups.push(g.displayName);
      expect(groups.sort()).toEqual(['HR Department', 'HR Newsletter', 'Sales']);
    });

    it('adds up a group’s outcome from its active members’ license states', async () => {
      const { licensing, tenantId, licensedGroupId } = seeded;
      expect(await licensing.groupCounts(tenantId, licensedGroupId)).toEqual({
        succeeded: 1,
        failed: 1,
        errors: { CountViolation: 1 },
      });
      expect(await licensing.groupCounts(tenantId, randomUUID())).toEqual({
        succeeded: 0,
        failed: 0,
        errors: {},
      });
      const other = randomUUID();
      expect([...(await licensing.groupsWithErrors(tenantId, [licensedGroupId, other]))]).toEqual([
        licensedGroupId,
      ]);
      const inError: string[] = [];
      for await (const id of licensing.principalsInError(tenantId, licensedGroupId)) inError.push(id);
      expect(inError).toHaveLength(1);
      const [member] = await all((page) =>
        seeded.queries.users(
          tenantId,
          { deleted: false, conditions: [{ property: 'displayName', equals: 'Paged User 1' }] },
          page,
        ),
      );
      expect(inError).toEqual([member?.id]);
      // Paged, the rows themselves (membersWithLicenseErrors reads a page, not every member in error).
      const paged = await all((page) => licensing.principalsInErrorPage(tenantId, licensedGroupId, page));
      expect(paged.map((p) => p.id)).toEqual(inError);
      expect(await all((page) => licensing.principalsInErrorPage(tenantId, randomUUID(), page))).toEqual([]);
    });

    it('lists and counts devices with their conditions', async () => {
      const { queries, tenantId } = seeded;
      expect(names(await all((page) => queries.devices(tenantId, [], page)))).toEqual([
        'Lab PC 1',
        'Lab PC 2',
      ]);
      const enabled = [{ property: 'accountEnabled', equals: true } as const];
      expect(names(await all((page) => queries.devices(tenantId, enabled, page)))).toEqual(['Lab PC 1']);
      expect(await queries.countDevices(tenantId, [{ property: 'displayName', startsWith: 'lab' }])).toBe(2);
    });

    it('lists and counts groups with their conditions', async () => {
      const { queries, tenantId } = seeded;
      expect(names(await all((page) => queries.groups(tenantId, [], page)))).toEqual([
        'HR Department',
        'HR Newsletter',
        'Sales',
      ]);
      const hrSecurity = [
        { property: 'displayName', startsWith: 'hr' },
        { property: 'securityEnabled', equals: true },
      ] as const;
      expect(names(await all((page) => queries.groups(tenantId, hrSecurity, page)))).toEqual([
        'HR Department',
      ]);
      expect(await queries.countGroups(tenantId, [{ property: 'mailEnabled', equals: true }])).toBe(1);
    });

    it('lists audits newest first, by activity and time', async () => {
      const { queries, tenantId } = seeded;
      const summary = (items: readonly DirectoryAudit[]) =>
        items.map((a) => `${a.activityDateTime.slice(11, 16)} ${a.activityDisplayName}`);
      expect(summary(await all((page) => queries.audits(tenantId, [], page)))).toEqual([
        '12:00 Add user',
        '11:00 Add member to group',
        '10:00 Add user',
      ]);
      const addUserAfterTen = [
        { property: 'activityDisplayName', equals: 'Add user' },
        { property: 'activityDateTime', op: 'gt', value: '2026-03-01T10:00:00.000Z' },
      ] as const;
      expect(summary(await all((page) => queries.audits(tenantId, addUserAfterTen, page)))).toEqual([
        '12:00 Add user',
      ]);
    });

    it('never answers with another tenant’s objects', async () => {
      const { queries, otherTenantId } = seeded;
      expect(
        names(await all((page) => queries.users(otherTenantId, { deleted: false, conditions: [] }, page))),
      ).toEqual(['Adele Vance']);
      expect(names(await all((page) => queries.groups(otherTenantId, [], page)))).toEqual(['HR Department']);
      expect(await all((page) => queries.audits(otherTenantId, [], page))).toHaveLength(1);
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('dq'));
  await tables.ensure();
  const log = new AuditLog(tables);
  return seed(new TableDirectoryQueries(tables), new TableLicensingQueries(tables), {
    principals: async (records) => {
      for (const record of records) {
        const entity = encodePrincipal(catalog, record);
        await tables.principalsFor(entity.partitionKey).createEntity(entity);
      }
    },
    groups: async (records) => {
      for (const record of records) await tables.groups.createEntity(encodeGroup(record));
    },
    audits: async (tenantId, records) => log.append(tenantId, records),
  });
});

contract('in-memory double', async () => {
  const memory = new InMemoryDirectoryQueries(catalog);
  return seed(memory, new InMemoryLicensingQueries(memory), {
    principals: async (records) => {
      memory.rows.addPrincipals(...records);
    },
    groups: async (records) => {
      memory.rows.addGroups(...records);
    },
    audits: async (tenantId, records) => {
      memory.auditRecords.push(...records.map((r) => ({ ...r, tenantId })));
    },
  });
});
