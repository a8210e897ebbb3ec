import type { TableClient } from '@azure/data-tables';
import { type StorageClientOptions, tableClient } from './connection.js';

/**
 * The tables the product uses (docs/storage.md has keys and partition sizes):
 * - tenants: one partition per tenant — the tenant, its subscriptions and seat counters, group license
 *   assignments, open seat reservations;
 * - principals: users and devices sharded over 256 partitions per tenant, with per-shard group outcome counters,
 *   waiting-room rows and reservation markers beside them (written in the same transactions);
 * - groups: groups sharded the same way; members: each group's member list packed in buckets;
 * - names: user principal names → ids; proxies: proxy addresses → users and the mailbox holding them;
 * - jobs: group processing jobs and their pages; audit: the directory audit log.
 */
export const TABLE_NAMES = [
  'tenants',
  'principals',
  'groups',
  'members',
  'names',
  'proxies',
  'jobs',
  'audit',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export class StorageTables {
  readonly tenants: TableClient;
  readonly principals: TableClient;
  readonly groups: TableClient;
  readonly members: TableClient;
  readonly names: TableClient;
  readonly proxies: TableClient;
  readonly jobs: TableClient;
  readonly audit: TableClient;

  constructor(
    connectionString: string,
    readonly prefix: string,
    options: StorageClientOptions = {},
  ) {
    const client = (name: TableName) => tableClient(connectionString, `${prefix}${name}`, options);
    this.tenants = client('tenants');
    this.principals = client('principals');
    this.groups = client('groups');
    this.members = client('members');
    this.names = client('names');
    this.proxies = client('proxies');
    this.jobs = client('jobs');
    this.audit = client('audit');
  }

  all(): TableClient[] {
    return [
      this.tenants,
      this.principals,
      this.groups,
      this.members,
      this.names,
      this.proxies,
      this.jobs,
      this.audit,
    ];
  }

  /** Creates every table that is missing (idempotent; safe from several instances at once). */
  async ensure(): Promise<void> {
    await Promise.all(this.all().map((t) => t.createTable()));
  }
}
