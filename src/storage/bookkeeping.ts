import { odata, tenantRangeEnd } from './keys.js';
import { decodeCounter, type GroupCounter, groupCounterRow } from './principal-writer.js';
import { queryRows } from './properties.js';
import type { StorageTables } from './tables.js';

/**
 * Reads of the bookkeeping rows the principal writer keeps beside principals (see principal-writer.ts). Each is one
 * query over the tenant's principal partitions, filtered on the row key.
 */
function tenantRange(tenantId: string): string {
  return `PartitionKey ge ${odata(`${tenantId}|`)} and PartitionKey lt ${odata(tenantRangeEnd(tenantId))}`;
}

/** A group's outcome over all members: succeeded, failed, errors by type. */
export async function readGroupCounters(
  tables: StorageTables,
  tenantId: string,
  groupId: string,
): Promise<GroupCounter> {
  const total: GroupCounter = { succeeded: 0, failed: 0, errors: {} };
  const filter = `${tenantRange(tenantId)} and RowKey eq ${odata(groupCounterRow(groupId))}`;
  for await (const entity of queryRows(tables.principals, filter)) {
    const counter = decodeCounter(entity);
    total.succeeded += counter.succeeded;
    total.failed += counter.failed;
    for (const [type, n] of Object.entries(counter.errors))
      total.errors[type] = (total.errors[type] ?? 0) + n;
  }
  return total;
}

/** Every group's failed-member count, for `hasMembersWithLicenseErrors`. */
export async function readGroupsWithErrors(tables: StorageTables, tenantId: string): Promise<Set<string>> {
  const failed = new Map<string, number>();
  const filter = `${tenantRange(tenantId)} and RowKey ge '~g|' and RowKey lt '~g}'`;
  for await (const entity of queryRows(tables.principals, filter)) {
    const groupId = entity.rowKey.slice(3);
    failed.set(groupId, (failed.get(groupId) ?? 0) + decodeCounter(entity).failed);
  }
  return new Set([...failed].filter(([, n]) => n > 0).map(([g]) => g));
}

export interface WaitingRow {
  readonly principalId: string;
  readonly skuId: string;
  readonly waitingSince: string;
}

/** Everyone waiting for a seat of a SKU, first come first served. */
export async function readWaiters(
  tables: StorageTables,
  tenantId: string,
  skuId: string,
): Promise<WaitingRow[]> {
  const prefix = `~w|${skuId}|`;
  const filter = `${tenantRange(tenantId)} and RowKey ge ${odata(prefix)} and RowKey lt ${odata(`${prefix}~`)}`;
  const waiters: WaitingRow[] = [];
  for await (const entity of queryRows(tables.principals, filter, ['PartitionKey', 'RowKey'])) {
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
  const flag = `E${groupId.replace(/-/g, '')}`;
  const filter = `${tenantRange(tenantId)} and ${flag} eq true`;
  for await (const entity of queryRows(tables.principals, filter, ['PartitionKey', 'RowKey']))
    yield entity.rowKey;
}
