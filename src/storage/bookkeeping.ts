import type {
  GroupCounts,
  LicensingQueries,
  Page,
  PageRequest,
  WaitingPrincipal,
} from '../application/ports.js';
import type { PrincipalRecord } from '../application/records.js';
import { pageOfTables } from './directory-queries.js';
import { guidProperty, odata, tenantRangeEnd } from './keys.js';
import { decodePrincipal } from './principal-records.js';
import type { StorageTables } from './tables.js';

/**
 * Reads over what the principal writer keeps on and beside principal rows: the group outcome flags on each row
 * (`G<group>`, `E<group>`) and the waiting-room rows. Each is one query over the tenant's principal partitions.
 */
function tenantRange(tenantId: string): string {
  return `PartitionKey ge ${odata(`${tenantId}|`)} and PartitionKey lt ${odata(tenantRangeEnd(tenantId))}`;
}

/** A group's outcome over its members: succeeded, failed, and the errors of the failed ones by type. */
export async function readGroupCounters(
  tables: StorageTables,
  tenantId: string,
  groupId: string,
): Promise<GroupCounts> {
  const counts: GroupCounts = { succeeded: 0, failed: 0, errors: {} };
  const member = guidProperty('G', groupId);
  const failing = guidProperty('E', groupId);
  const filter = `${tenantRange(tenantId)} and ${member} eq true and dd eq false`;
  for await (const row of tables.queryPrincipals(filter, ['PartitionKey', 'RowKey', failing])) {
    if (row[failing] === true) counts.failed++;
    else counts.succeeded++;
  }
  if (counts.failed > 0) {
    for await (const row of tables.queryPrincipals(
      `${tenantRange(tenantId)} and ${failing} eq true and dd eq false`,
    )) {
      const error =
        decodePrincipal(tenantId, row).entries.find(
          (e) => e.assignedByGroup === groupId && e.state === 'Error',
        )?.error ?? 'Other';
      counts.errors[error] = (counts.errors[error] ?? 0) + 1;
    }
  }
  return counts;
}

/** Which of these groups have a member in error from them (`hasMembersWithLicenseErrors`). */
export async function readGroupsWithErrors(
  tables: StorageTables,
  tenantId: string,
  groupIds: Iterable<string>,
): Promise<Set<string>> {
  const withErrors = new Set<string>();
  for (const groupId of groupIds) {
    const filter = `${tenantRange(tenantId)} and ${guidProperty('E', groupId)} eq true and dd eq false`;
    for await (const _ of tables.queryPrincipals(filter, ['PartitionKey'])) {
      withErrors.add(groupId);
      break;
    }
  }
  return withErrors;
}

/** Everyone waiting for a seat of a SKU, first come first served. */
export async function readWaiters(
  tables: StorageTables,
  tenantId: string,
  skuId: string,
): Promise<WaitingPrincipal[]> {
  const prefix = `~w|${skuId}|`;
  const filter = `${tenantRange(tenantId)} and RowKey ge ${odata(prefix)} and RowKey lt ${odata(`${prefix}~`)}`;
  const waiters: WaitingPrincipal[] = [];
  for await (const entity of tables.queryPrincipals(filter, ['PartitionKey', 'RowKey'])) {
    const [, , since, principalId] = entity.rowKey.split('|');
    if (since && principalId) waiters.push({ principalId, skuId, waitingSince: since });
  }
  return waiters.sort((a, b) =>
    a.waitingSince !== b.waitingSince
      ? a.waitingSince < b.waitingSince
        ? -1
        : 1
      : a.principalId < b.principalId
        ? -1
        : a.principalId > b.principalId
          ? 1
          : 0,
  );
}

/** Ids of principals with an error from a group's assignment (`membersWithLicenseErrors`). */
export async function* principalsInErrorFrom(
  tables: StorageTables,
  tenantId: string,
  groupId: string,
): AsyncGenerator<string> {
  for await (const entity of tables.queryPrincipals(inErrorFilter(tenantId, groupId), [
    'PartitionKey',
    'RowKey',
  ]))
    yield entity.rowKey;
}

function inErrorFilter(tenantId: string, groupId: string): string {
  return `${tenantRange(tenantId)} and ${guidProperty('E', groupId)} eq true and dd eq false`;
}

/** The licensing queries on the principal tables. */
export class TableLicensingQueries implements LicensingQueries {
  constructor(private readonly tables: StorageTables) {}

  groupCounts(tenantId: string, groupId: string): Promise<GroupCounts> {
    return readGroupCounters(this.tables, tenantId, groupId);
  }

  groupsWithErrors(tenantId: string, groupIds: Iterable<string>): Promise<Set<string>> {
    return readGroupsWithErrors(this.tables, tenantId, groupIds);
  }

  principalsInError(tenantId: string, groupId: string): AsyncIterable<string> {
    return principalsInErrorFrom(this.tables, tenantId, groupId);
  }

  /** The rows themselves, a page at a time (the continuation names the principal table and its own token). */
  async principalsInErrorPage(
    tenantId: string,
    groupId: string,
    page: PageRequest,
  ): Promise<Page<PrincipalRecord>> {
    const rows = await pageOfTables(this.tables.allPrincipalTables(), inErrorFilter(tenantId, groupId), page);
    const items = rows.items.map((row) => decodePrincipal(tenantId, row));
    return rows.continuation ? { items, continuation: rows.continuation } : { items };
  }

  waiters(tenantId: string, skuId: string): Promise<WaitingPrincipal[]> {
    return readWaiters(this.tables, tenantId, skuId);
  }
}
