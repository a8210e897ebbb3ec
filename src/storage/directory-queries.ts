import type { TableClient } from '@azure/data-tables';
import type {
  AuditCondition,
  DeletedUser,
  DeviceCondition,
  DirectoryQueries,
  GroupCondition,
  Page,
  PageRequest,
  TextCondition,
  UserCondition,
  UserQuery,
} from '../application/ports.js';
import type { GroupRecord, PrincipalRecord } from '../application/records.js';
import { auditFilter, decodeAudit } from './audit.js';
import { decodeGroup, listGroups } from './group-records.js';
import { guidProperty, odata, tenantRangeEnd } from './keys.js';
import { decodePrincipal, isPrincipalRow } from './principal-records.js';
import { asRaw, getString, type RawEntity } from './properties.js';
import type { StorageTables } from './tables.js';

/**
 * The directory's listings over the tables (src/storage/README.md): users and devices are rows of the sharded principal
 * tables (`k` tells which), groups rows of the groups table, audits rows of the audit table; each condition becomes
 * a filter on the column that holds it (`nl` is the lower-cased display name, so comparisons ignore case).
 */
export class TableDirectoryQueries implements DirectoryQueries {
  constructor(private readonly tables: StorageTables) {}

  async users(tenantId: string, query: UserQuery, page: PageRequest) {
    const rows = await pageOfTables(this.tables.allPrincipalTables(), userFilter(tenantId, query), page);
    return mapPage(rows, (row) => decodePrincipal(tenantId, row));
  }

  async *deletedBefore(tenantId: string, cutoff: string): AsyncIterable<DeletedUser> {
    const filter = `${tenantRange(tenantId).join(' and ')} and del lt ${odata(cutoff)}`;
    for await (const row of this.tables.queryPrincipals(filter, ['del'])) {
      const deletedDateTime = getString(row, 'del');
      if (deletedDateTime) yield { id: row.rowKey, deletedDateTime };
    }
  }

  async *refusedMailboxes(tenantId: string): AsyncIterable<PrincipalRecord> {
    const filter = `${tenantRange(tenantId).join(' and ')} and mr eq true`;
    for await (const row of this.tables.queryPrincipals(filter)) {
      const record = decodePrincipal(tenantId, row);
      if (record.deletedDateTime === null) yield record;
    }
  }

  async *allPrincipals(tenantId: string): AsyncIterable<PrincipalRecord> {
    const filter = `${tenantRange(tenantId).join(' and ')} and RowKey lt '~'`;
    for await (const entity of this.tables.queryPrincipals(filter)) {
      if (isPrincipalRow(entity)) yield decodePrincipal(tenantId, entity);
    }
  }

  allGroups(tenantId: string): AsyncIterable<GroupRecord> {
    return listGroups(this.tables, tenantId);
  }

  countUsers(tenantId: string, query: UserQuery) {
    return countRows(this.tables.allPrincipalTables(), userFilter(tenantId, query));
  }

  async devices(tenantId: string, conditions: readonly DeviceCondition[], page: PageRequest) {
    const rows = await pageOfTables(
      this.tables.allPrincipalTables(),
      deviceFilter(tenantId, conditions),
      page,
    );
    return mapPage(rows, (row) => decodePrincipal(tenantId, row));
  }

  countDevices(tenantId: string, conditions: readonly DeviceCondition[]) {
    return countRows(this.tables.allPrincipalTables(), deviceFilter(tenantId, conditions));
  }

  async groups(tenantId: string, conditions: readonly GroupCondition[], page: PageRequest) {
    const rows = await pageOfRows(this.tables.groups, groupFilter(tenantId, conditions), page);
    return mapPage(rows, (row) => decodeGroup(tenantId, row));
  }

  countGroups(tenantId: string, conditions: readonly GroupCondition[]) {
    return countRows([this.tables.groups], groupFilter(tenantId, conditions));
  }

  async audits(tenantId: string, conditions: readonly AuditCondition[], page: PageRequest) {
    const rows = await pageOfRows(this.tables.audit, auditFilter(tenantId, auditClauses(conditions)), page);
    return mapPage(rows, decodeAudit);
  }
}

function tenantRange(tenantId: string): string[] {
  return [`PartitionKey ge ${odata(`${tenantId}|`)}`, `PartitionKey lt ${odata(tenantRangeEnd(tenantId))}`];
}

function text(column: string, condition: TextCondition): string[] {
  if ('equals' in condition) return [`${column} eq ${odata(condition.equals.toLowerCase())}`];
  const prefix = condition.startsWith.toLowerCase();
  return [`${column} ge ${odata(prefix)}`, `${column} lt ${odata(`${prefix}\uffff`)}`];
}

function userFilter(tenantId: string, query: UserQuery): string {
  const parts = [...tenantRange(tenantId), `RowKey lt '~'`, `k eq 'u'`, `dd eq ${query.deleted}`];
  for (const condition of query.conditions) parts.push(...userClause(condition));
  return parts.join(' and ');
}

function userClause(condition: UserCondition): string[] {
  switch (condition.property) {
    case 'assignedLicenses':
      return [`${guidProperty('L', condition.skuId)} eq true`];
    case 'usageLocation':
      return [`ul eq ${odata(condition.equals.toUpperCase())}`];
    case 'accountEnabled':
      return [`ae eq ${condition.equals}`];
    case 'userPrincipalName':
      return [`upn eq ${odata(condition.equals)}`];
    case 'displayName':
      return text('nl', condition);
  }
}

function deviceFilter(tenantId: string, conditions: readonly DeviceCondition[]): string {
  const parts = [...tenantRange(tenantId), `RowKey lt '~'`, `k eq 'd'`];
  for (const condition of conditions) {
    if (condition.property === 'accountEnabled') parts.push(`ae eq ${condition.equals}`);
    else parts.push(...text('nl', condition));
  }
  return parts.join(' and ');
}

function groupFilter(tenantId: string, conditions: readonly GroupCondition[]): string {
  const parts = tenantRange(tenantId);
  for (const condition of conditions) {
    if (condition.property === 'securityEnabled') parts.push(`se eq ${condition.equals}`);
    else if (condition.property === 'mailEnabled') parts.push(`me eq ${condition.equals}`);
    else parts.push(...text('nl', condition));
  }
  return parts.join(' and ');
}

function auditClauses(conditions: readonly AuditCondition[]): string | undefined {
  const parts: string[] = [];
  for (const condition of conditions) {
    if (condition.property === 'activityDateTime') {
      parts.push(`t ${condition.op} ${odata(new Date(condition.value).toISOString())}`);
    } else if ('equals' in condition) {
      // Activity names are the service's own constants: compared as written.
      parts.push(`a eq ${odata(condition.equals)}`);
    } else {
      parts.push(`a ge ${odata(condition.startsWith)}`, `a lt ${odata(`${condition.startsWith}\uffff`)}`);
    }
  }
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

function mapPage<T>(page: Page<RawEntity>, decode: (row: RawEntity) => T): Page<T> {
  const items = page.items.map(decode);
  return page.continuation ? { items, continuation: page.continuation } : { items };
}

/** One page of a table query: `top` rows at most, and the storage continuation token when more remain. */
async function pageOfRows(client: TableClient, filter: string, page: PageRequest): Promise<Page<RawEntity>> {
  const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({
    maxPageSize: page.top,
    ...(page.continuation ? { continuationToken: page.continuation } : {}),
  });
  const first = await pages.next();
  if (first.done) return { items: [] };
  const items = first.value.map(asRaw);
  const token = first.value.continuationToken;
  return token ? { items, continuation: token } : { items };
}

/**
 * One page of the same query run over several tables in turn (the principal tables): the continuation says which
 * table the listing is in and that table's own continuation token.
 */
export async function pageOfTables(
  clients: readonly TableClient[],
  filter: string,
  page: PageRequest,
): Promise<Page<RawEntity>> {
  let table = 0;
  let continuationToken: string | undefined;
  const position = parsePosition(page.continuation);
  if (position) {
    table = Math.max(0, Math.min(clients.length, Math.floor(position.t)));
    continuationToken = position.c;
  }
  const items: RawEntity[] = [];
  while (table < clients.length && items.length < page.top) {
    const client = clients[table];
    if (!client) break;
    const pages = client
      .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
      .byPage({ maxPageSize: page.top - items.length, ...(continuationToken ? { continuationToken } : {}) });
    const next = await pages.next();
    if (!next.done) items.push(...next.value.map(asRaw));
    continuationToken = next.done ? undefined : next.value.continuationToken;
    if (!continuationToken) table++;
  }
  if (table >= clients.length) return { items };
  return {
    items,
    continuation: JSON.stringify({ t: table, ...(continuationToken ? { c: continuationToken } : {}) }),
  };
}

function parsePosition(continuation: string | undefined): { t: number; c?: string } | undefined {
  if (!continuation) return undefined;
  try {
    const parsed: unknown = JSON.parse(continuation);
    if (typeof parsed !== 'object' || parsed === null || !('t' in parsed) || typeof parsed.t !== 'number')
      return undefined;
    return 'c' in parsed && typeof parsed.c === 'string' ? { t: parsed.t, c: parsed.c } : { t: parsed.t };
  } catch {
    return undefined;
  }
}

/** Counts the rows of a query (keys only) for `$count=true`. */
async function countRows(clients: readonly TableClient[], filter: string): Promise<number> {
  let count = 0;
  for (const client of clients) {
    for await (const _ of client.listEntities({ queryOptions: { filter, select: ['PartitionKey'] } }))
      count++;
  }
  return count;
}
