import type { TableClient } from '@azure/data-tables';
import { type StorageClientOptions, type StorageTarget, tableClient } from './connection.js';
import { SHARDS_PER_TABLE } from './keys.js';
import { asRaw, type RawEntity } from './properties.js';

/**
 * The tables the product uses (src/storage/README.md has keys and partition sizes):
 * - tenants: one partition per tenant — the tenant, its subscriptions and seat counters, group license
 *   assignments, open seat reservations;
 * - principals0 … principalsf: users and devices, sharded over 256 partitions per tenant and those partitions
 *   over 16 tables (shards 0x00–0x0f in principals0, …), with waiting-room rows and reservation markers beside
 *   them (written in the same transactions);
 * - groups: groups sharded the same way; members: each group's member list packed in buckets;
 * - names0 … namesf: user principal names → ids; proxies0 … proxiesf: proxy addresses → users and the mailbox
 *   holding them; both sharded over 16 tables the same way (a name's shard is a hash of the name);
 * - jobs: group processing jobs and their pages; audit: the directory audit log;
 * - identity: app registrations (per tenant) and the sign-in authority's signing key;
 * - alerts: alert subscriptions and their deliveries, one partition per tenant.
 *
 * Why 16 tables for each of these: Azurite keeps a table in one in-memory collection, and an insert, update or
 * delete there splices index arrays as long as the whole table, as does every query (a scan of the table). A page
 * of a group job only touches one of the tables, and writes cost a sixteenth; an import of 100,000 users into a
 * store that already holds another such tenant slowed down by half with one names table. On Azure the split costs
 * nothing (tables are free and partitions are what scale).
 */
export const TABLE_NAMES = ['tenants', 'groups', 'members', 'jobs', 'audit', 'identity', 'alerts'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export const PRINCIPAL_TABLES = 16;
/** Tables per sharded kind (principals, names, proxies). */
export const SHARDED_TABLES = PRINCIPAL_TABLES;

/** The principal shard a partition key names (`{tenant}|{shard as two hex digits}`). */
export function shardOfPartition(partitionKey: string): number {
  const shard = Number.parseInt(partitionKey.slice(partitionKey.lastIndexOf('|') + 1), 16);
  if (!Number.isInteger(shard) || shard < 0 || shard > 255)
    throw new Error(`not a principal partition: ${partitionKey}`);
  return shard;
}

export class StorageTables {
  readonly tenants: TableClient;
  readonly groups: TableClient;
  readonly members: TableClient;
  readonly jobs: TableClient;
  readonly audit: TableClient;
  readonly identity: TableClient;
  readonly alerts: TableClient;
  private readonly principalTables: readonly TableClient[];
  private readonly nameTables: readonly TableClient[];
  private readonly proxyTables: readonly TableClient[];

  constructor(
    storage: StorageTarget,
    readonly prefix: string,
    options: StorageClientOptions = {},
  ) {
    const client = (name: string) => tableClient(storage, `${prefix}${name}`, options);
    this.tenants = client('tenants');
    this.groups = client('groups');
    this.members = client('members');
    this.jobs = client('jobs');
    this.audit = client('audit');
    this.identity = client('identity');
    this.alerts = client('alerts');
    const sharded = (kind: string) =>
      Array.from({ length: SHARDED_TABLES }, (_, i) => client(`${kind}${i.toString(16)}`));
    this.principalTables = sharded('principals');
    this.nameTables = sharded('names');
    this.proxyTables = sharded('proxies');
  }

  /** The principal table that holds a shard. */
  principalsForShard(shard: number): TableClient {
    return tableOfShard(this.principalTables, shard);
  }

  /** The names table that holds a partition (`{tenant}|{shard of the name}`). */
  namesFor(partitionKey: string): TableClient {
    return tableOfShard(this.nameTables, shardOfPartition(partitionKey));
  }

  /** The proxies table that holds a partition (`{tenant}|{shard of the address}`). */
  proxiesFor(partitionKey: string): TableClient {
    return tableOfShard(this.proxyTables, shardOfPartition(partitionKey));
  }

  /** The principal table that holds a partition (`{tenant}|{shard}`). */
  principalsFor(partitionKey: string): TableClient {
    return this.principalsForShard(shardOfPartition(partitionKey));
  }

  /** Every principal table, in shard order. */
  allPrincipalTables(): readonly TableClient[] {
    return this.principalTables;
  }

  /** Rows of every principal table matching a filter, table by table (in shard order). */
  async *queryPrincipals(filter: string, select?: string[]): AsyncGenerator<RawEntity> {
    const queryOptions = select
      ? { filter, select: [...new Set(['PartitionKey', 'RowKey', ...select])] }
      : { filter };
    for (const table of this.principalTables) {
      for await (const entity of table.listEntities<Record<string, unknown>>({ queryOptions }))
        yield asRaw(entity);
    }
  }

  all(): TableClient[] {
    return [
      this.tenants,
      this.groups,
      this.members,
      this.jobs,
      this.audit,
      this.identity,
      this.alerts,
      ...this.principalTables,
      ...this.nameTables,
      ...this.proxyTables,
    ];
  }

  /** Creates every table that is missing (idempotent; safe from several instances at once). */
  async ensure(): Promise<void> {
    await Promise.all(this.all().map((t) => t.createTable()));
  }
}

function tableOfShard(tables: readonly TableClient[], shard: number): TableClient {
  const table = tables[Math.floor(shard / SHARDS_PER_TABLE)];
  if (!table) throw new Error(`no table for shard ${shard}`);
  return table;
}
