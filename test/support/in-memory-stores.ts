// In-memory doubles of the application's storage ports (src/application/ports.ts) for use-case unit tests. Each
// keeps the contract the Table adapter keeps — the contract tests in test/storage/ run one suite against both —
// including optimistic writes: a record written back under an ETag that is no longer current is refused with
// WriteConflictError, as storage refuses it with 412.
import { StorageContentionError, WriteConflictError } from '../../src/application/errors.js';
import type {
  DirectoryStore,
  GroupJobs,
  GroupLicensingCommit,
  IdentityStore,
  MemberListPage,
  MemberListStore,
  MemberPosition,
  MembershipRuleCommit,
  NameHolding,
  NameRegistry,
  OutboxStore,
  ProxyAddressStore,
  TenantStore,
  WorkSender,
} from '../../src/application/ports.js';
import type {
  AddressRow,
  ApplicationRecord,
  GroupLicenseRecord,
  GroupRecord,
  JobRecord,
  MemberRef,
  MembershipRuleRecord,
  OutboxRecord,
  PageResult,
  PrincipalRecord,
  ReservationRecord,
  SigningKeyRecord,
  SubscriptionRecord,
  TenantPartition,
  TenantRecord,
} from '../../src/application/records.js';
import type { QueueNames } from '../../src/config/queues.js';
import { principalShardPartition, SHARD_COUNT, shardOf } from '../../src/storage/keys.js';
import { pageEntries, pageFrom } from '../../src/storage/members.js';
import {
  AddressRows,
  type AddressState,
  NO_ADDRESS_ROW,
  sameState,
  sharers,
  withListers,
} from '../../src/storage/proxy-rows.js';
import { DirectoryRows, nextEtag } from './in-memory-rows.js';

interface StoredTenant {
  tenant: TenantRecord;
  readonly subscriptions: Map<string, SubscriptionRecord>;
  readonly groupLicenses: Map<string, GroupLicenseRecord>;
  readonly reservations: Map<string, ReservationRecord>;
  readonly healPasses: Map<string, string>;
  readonly membershipRules: Map<string, MembershipRuleRecord>;
  readonly outbox: Map<string, OutboxRecord>;
}

export class InMemoryTenantStore implements TenantStore {
  private readonly tenants = new Map<string, StoredTenant>();

  async create(tenant: TenantRecord): Promise<void> {
    if (this.tenants.has(tenant.id)) throw new WriteConflictError(`tenant ${tenant.id}`);
    this.tenants.set(tenant.id, {
      tenant: { ...tenant, etag: nextEtag() },
      subscriptions: new Map(),
      groupLicenses: new Map(),
      reservations: new Map(),
      healPasses: new Map(),
      membershipRules: new Map(),
      outbox: new Map(),
    });
  }

  async read(tenantId: string): Promise<TenantRecord | undefined> {
    return this.tenants.get(tenantId)?.tenant;
  }

  async partition(tenantId: string): Promise<TenantPartition | undefined> {
    const stored = this.tenants.get(tenantId);
    if (!stored) return undefined;
    // Copies: what a caller holds is a read, not a live view (as with storage).
    return {
      tenant: stored.tenant,
      subscriptions: new Map(stored.subscriptions),
      groupLicenses: new Map(stored.groupLicenses),
      reservations: new Map(stored.reservations),
      healPasses: new Map(stored.healPasses),
      membershipRules: new Map(stored.membershipRules),
    };
  }

  async replace(tenant: TenantRecord): Promise<TenantRecord> {
    const stored = this.stored(tenant.id);
    if (tenant.etag === undefined) throw new Error(`tenant ${tenant.id} was not read from storage (no ETag)`);
    if (stored.tenant.etag !== tenant.etag) throw new WriteConflictError(`tenant ${tenant.id}`);
    stored.tenant = { ...tenant, etag: nextEtag() };
    return stored.tenant;
  }

  async saveSubscription(tenantId: string, subscription: SubscriptionRecord): Promise<SubscriptionRecord> {
    const stored = this.stored(tenantId);
    const current = stored.subscriptions.get(subscription.skuId);
    const what = `subscription ${subscription.skuId} of tenant ${tenantId}`;
    if (subscription.etag === undefined ? current !== undefined : current?.etag !== subscription.etag)
      throw new WriteConflictError(what);
    const saved = { ...subscription, etag: nextEtag() };
    stored.subscriptions.set(subscription.skuId, saved);
    return saved;
  }

  async recordHealPass(tenantId: string, skuId: string, startedAt: string): Promise<void> {
    this.stored(tenantId).healPasses.set(skuId, startedAt);
  }

  async markGroupLicenseFailed(tenantId: string, license: GroupLicenseRecord, reason: string): Promise<void> {
    const stored = this.stored(tenantId);
    const current = stored.groupLicenses.get(license.groupId);
    if (!current || current.etag !== license.etag)
      throw new WriteConflictError(`the license assignment of group ${license.groupId}`);
    stored.groupLicenses.set(license.groupId, {
      ...current,
      processingState: 'ProcessingComplete',
      lastFailure: reason,
      etag: nextEtag(),
    });
  }

  async deleteGroupLicense(tenantId: string, groupId: string): Promise<void> {
    this.stored(tenantId).groupLicenses.delete(groupId);
  }

  async commitGroupLicensing(
    tenantId: string,
    commit: GroupLicensingCommit,
  ): Promise<{ outboxEtag?: string }> {
    const stored = this.stored(tenantId);
    const what = (groupId: string) => `the license assignment of group ${groupId}`;
    // All or nothing, as a transaction: every condition is checked before anything is written.
    for (const { current, next } of commit.licenses ?? []) {
      const now = stored.groupLicenses.get(next.groupId);
      if (current ? now?.etag !== current.etag : now !== undefined)
        throw new WriteConflictError(what(next.groupId));
    }
    const state = commit.processingState;
    if (state && stored.groupLicenses.get(state.current.groupId)?.etag !== state.current.etag)
      throw new WriteConflictError(what(state.current.groupId));
    if (commit.createOutbox && stored.outbox.has(commit.createOutbox.id))
      throw new WriteConflictError(`outbox row ${commit.createOutbox.id}`);
    const replaced = commit.replaceOutbox;
    if (replaced && stored.outbox.get(replaced.id)?.etag !== replaced.etag)
      throw new WriteConflictError(`outbox row ${replaced.id}`);

    for (const { next } of commit.licenses ?? [])
      stored.groupLicenses.set(next.groupId, { ...next, etag: nextEtag() });
    if (state) {
      stored.groupLicenses.set(state.current.groupId, {
        ...state.current,
        processingState: state.state,
        etag: nextEtag(),
      });
    }
    if (replaced) stored.outbox.set(replaced.id, { ...replaced, etag: nextEtag() });
    if (!commit.createOutbox) return {};
    const created = { ...commit.createOutbox, etag: nextEtag() };
    stored.outbox.set(created.id, created);
    return { outboxEtag: created.etag };
  }

  async commitMembershipRule(
    tenantId: string,
    commit: MembershipRuleCommit,
  ): Promise<{ outboxEtag?: string }> {
    const stored = this.stored(tenantId);
    const now = stored.membershipRules.get(commit.groupId);
    // As the table transaction: a delete is unconditional, a replace needs the ETag read, a create an empty row.
    if (commit.next !== null && (commit.current ? now?.etag !== commit.current.etag : now !== undefined))
      throw new WriteConflictError(`the membership rule of group ${commit.groupId}`);
    if (commit.createOutbox && stored.outbox.has(commit.createOutbox.id))
      throw new WriteConflictError(`outbox row ${commit.createOutbox.id}`);
    if (commit.next === null) stored.membershipRules.delete(commit.groupId);
    else stored.membershipRules.set(commit.groupId, { ...commit.next, etag: nextEtag() });
    if (!commit.createOutbox) return {};
    const created = { ...commit.createOutbox, etag: nextEtag() };
    stored.outbox.set(created.id, created);
    return { outboxEtag: created.etag };
  }

  async *ids(): AsyncIterable<string> {
    yield* [...this.tenants.keys()];
  }

  /** The tenant's outbox rows, which the outbox double shares (they are rows of the tenant partition). */
  outboxOf(tenantId: string): Map<string, OutboxRecord> {
    return this.stored(tenantId).outbox;
  }

  /** The tenant's seat counters and reservations, which the seat ledger double changes (rows of this partition). */
  seatRowsOf(tenantId: string): {
    readonly subscriptions: Map<string, SubscriptionRecord>;
    readonly reservations: Map<string, ReservationRecord>;
  } {
    return this.stored(tenantId);
  }

  /** Test set-up: a group license as group licensing would have written it. */
  putGroupLicense(tenantId: string, license: GroupLicenseRecord): GroupLicenseRecord {
    const saved = { ...license, etag: nextEtag() };
    this.stored(tenantId).groupLicenses.set(license.groupId, saved);
    return saved;
  }

  private stored(tenantId: string): StoredTenant {
    const stored = this.tenants.get(tenantId);
    // Storage answers 404 for an update of a row that does not exist; a use case never gets here without a read.
    if (!stored) throw new Error(`tenant ${tenantId} does not exist`);
    return stored;
  }
}

/** The outbox on the rows of an in-memory tenant store, where group licensing commits them too. */
export class InMemoryOutbox implements OutboxStore {
  constructor(private readonly tenants: InMemoryTenantStore) {}

  async read(tenantId: string, id: string): Promise<OutboxRecord | undefined> {
    return this.tenants.outboxOf(tenantId).get(id);
  }

  async put(tenantId: string, record: OutboxRecord): Promise<OutboxRecord> {
    const saved = { ...record, etag: nextEtag() };
    this.tenants.outboxOf(tenantId).set(record.id, saved);
    return saved;
  }

  async due(tenantId: string, now: Date, limit: number): Promise<OutboxRecord[]> {
    return [...this.tenants.outboxOf(tenantId).values()]
      .filter((record) => Date.parse(record.relayAfter) <= now.getTime())
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async pending(tenantId: string): Promise<number> {
    return this.tenants.outboxOf(tenantId).size;
  }

  async remove(tenantId: string, record: OutboxRecord): Promise<void> {
    const rows = this.tenants.outboxOf(tenantId);
    const stored = rows.get(record.id);
    if (!stored) return;
    const same = record.etag
      ? stored.etag === record.etag
      : stored.createdDateTime === record.createdDateTime &&
        JSON.stringify(stored.payload) === JSON.stringify(record.payload);
    if (same) rows.delete(record.id);
  }
}

/** Member lists as plain maps; a member's bucket is its principal shard, as on the tables. */
export class InMemoryMemberLists implements MemberListStore {
  private readonly lists = new Map<string, Map<string, MemberRef>>();

  async listRange(
    tenantId: string,
    groupId: string,
    fromShard = 0,
    toShard = SHARD_COUNT,
  ): Promise<MemberRef[]> {
    return [...(this.lists.get(`${tenantId}/${groupId}`)?.values() ?? [])].filter(
      (m) => shardOf(m.id) >= fromShard && shardOf(m.id) < toShard,
    );
  }

  /** The adapter's page order and cut (shared pure functions), over every bucket at once. */
  async listPage(
    tenantId: string,
    groupId: string,
    limit: number,
    after?: MemberPosition,
  ): Promise<MemberListPage> {
    const buckets = new Map<number, MemberRef[]>();
    for (const ref of this.lists.get(`${tenantId}/${groupId}`)?.values() ?? []) {
      const bucket = shardOf(ref.id);
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), ref]);
    }
    const refs = [...buckets.keys()]
      .sort((a, b) => a - b)
      .flatMap((bucket) => pageEntries(buckets.get(bucket) ?? [], bucket, after));
    return pageFrom(refs, limit);
  }

  async count(tenantId: string, groupId: string): Promise<number> {
    return this.lists.get(`${tenantId}/${groupId}`)?.size ?? 0;
  }

  async has(tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    return this.lists.get(`${tenantId}/${groupId}`)?.has(memberId) ?? false;
  }

  async apply(
    tenantId: string,
    groupId: string,
    adds: readonly MemberRef[],
    removes: readonly string[],
  ): Promise<number> {
    const key = `${tenantId}/${groupId}`;
    const list = this.lists.get(key) ?? new Map<string, MemberRef>();
    this.lists.set(key, list);
    for (const id of removes) list.delete(id);
    for (const add of adds) if (!list.has(add.id)) list.set(add.id, add);
    return list.size;
  }

  async drop(tenantId: string, groupId: string): Promise<void> {
    this.lists.delete(`${tenantId}/${groupId}`);
  }
}

/**
 * Proxy addresses as plain rows with versions, changed by the adapter's own transitions (storage/proxy-rows.ts): a
 * change computed from a row that another change replaced meanwhile is computed again from the new row, as the
 * Table adapter retries on its ETag.
 */
export class InMemoryProxyAddresses extends AddressRows implements ProxyAddressStore {
  private readonly rows = new Map<string, AddressRow>();

  async read(tenantId: string, address: string): Promise<AddressRow> {
    return this.rows.get(`${tenantId}/${address.toLowerCase()}`) ?? NO_ADDRESS_ROW;
  }

  async registerMany(
    tenantId: string,
    pairs: readonly { address: string; userId: string }[],
  ): Promise<Set<string>> {
    const byAddress = new Map<string, string[]>();
    for (const { address, userId } of pairs) {
      const key = address.toLowerCase();
      byAddress.set(key, [...(byAddress.get(key) ?? []), userId]);
    }
    const sharing = new Set<string>();
    for (const [address, users] of byAddress) {
      const next = await this.update(tenantId, address, (row) => withListers(row, users));
      for (const u of sharers(next)) sharing.add(u);
    }
    return sharing;
  }

  protected async update(
    tenantId: string,
    address: string,
    change: (row: AddressRow) => AddressState | Promise<AddressState>,
  ): Promise<AddressState> {
    const key = `${tenantId}/${address.toLowerCase()}`;
    for (;;) {
      const row = await this.read(tenantId, address);
      const next = await change(row);
      // Nothing to write: the row and its ETag stay as they are, as the adapter leaves them.
      if (sameState(row, next)) return row;
      // Another change landed while this one was computed (an await in `change`): compute it again.
      if (this.rows.get(key)?.etag !== row.etag) continue;
      this.rows.set(key, { ...next, etag: nextEtag() });
      return next;
    }
  }
}

export class InMemoryIdentityStore implements IdentityStore {
  private readonly applications = new Map<string, ApplicationRecord>();
  private signingKey: SigningKeyRecord | undefined;

  async createApplication(app: ApplicationRecord): Promise<void> {
    const key = `${app.tenantId}/${app.appId}`;
    if (this.applications.has(key)) throw new WriteConflictError(`application ${app.appId}`);
    this.applications.set(key, { ...app, etag: nextEtag() });
  }

  async readApplication(tenantId: string, appId: string): Promise<ApplicationRecord | undefined> {
    return this.applications.get(`${tenantId}/${appId}`);
  }

  async listApplications(tenantId: string): Promise<ApplicationRecord[]> {
    return [...this.applications.values()]
      .filter((app) => app.tenantId === tenantId)
      .sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime));
  }

  async replaceApplication(app: ApplicationRecord): Promise<void> {
    if (!app.etag) throw new Error('replaceApplication needs the row as read (with its ETag)');
    const key = `${app.tenantId}/${app.appId}`;
    if (this.applications.get(key)?.etag !== app.etag) {
      // As the Table adapter: the caller is told to retry.
      throw new StorageContentionError(`Updating application ${app.appId}`, 1);
    }
    this.applications.set(key, { ...app, etag: nextEtag() });
  }

  async deleteApplication(tenantId: string, appId: string): Promise<boolean> {
    return this.applications.delete(`${tenantId}/${appId}`);
  }

  async readSigningKey(): Promise<SigningKeyRecord | undefined> {
    return this.signingKey;
  }

  async createSigningKey(key: SigningKeyRecord): Promise<SigningKeyRecord> {
    this.signingKey ??= key;
    return this.signingKey;
  }
}

/** Work queues that only record what was sent, for use cases whose triggers are not under test. */
export class RecordingQueues implements WorkSender {
  readonly sent: { readonly queue: keyof QueueNames; readonly message: unknown }[] = [];

  async send(queue: keyof QueueNames, message: unknown): Promise<void> {
    this.sent.push({ queue, message });
  }

  async sendAll(queue: keyof QueueNames, messages: readonly unknown[]): Promise<void> {
    for (const message of messages) this.sent.push({ queue, message });
  }

  async depth(): Promise<Record<string, number>> {
    const depths: Record<string, number> = {};
    for (const { queue } of this.sent) depths[queue] = (depths[queue] ?? 0) + 1;
    return depths;
  }

  /** The messages sent to one queue. */
  to(queue: keyof QueueNames): unknown[] {
    return this.sent.filter((s) => s.queue === queue).map((s) => s.message);
  }
}

/** Users, devices and groups on rows shared with the other directory doubles (`DirectoryRows`). */
export class InMemoryDirectoryStore implements DirectoryStore {
  private readonly principalRows: Map<string, PrincipalRecord>;
  private readonly groupRows: Map<string, GroupRecord>;

  constructor(private readonly rows = new DirectoryRows()) {
    this.principalRows = rows.principals;
    this.groupRows = rows.groups;
  }

  async principal(tenantId: string, id: string): Promise<PrincipalRecord | undefined> {
    return this.principalRows.get(`${tenantId}/${id}`);
  }

  async principals(tenantId: string, ids: readonly string[]): Promise<Map<string, PrincipalRecord>> {
    const found = new Map<string, PrincipalRecord>();
    for (const id of ids) {
      const record = this.principalRows.get(`${tenantId}/${id}`);
      if (record) found.set(id, record);
    }
    return found;
  }

  async createPrincipal(record: PrincipalRecord): Promise<PrincipalRecord> {
    return create(this.principalRows, `${record.tenantId}/${record.id}`, record, `principal ${record.id}`);
  }

  /** Test set-up: a principal row as the principal writer would have left it. */
  putPrincipal(record: PrincipalRecord): void {
    this.principalRows.set(`${record.tenantId}/${record.id}`, { ...record, etag: nextEtag() });
  }

  async group(tenantId: string, id: string): Promise<GroupRecord | undefined> {
    return this.groupRows.get(`${tenantId}/${id}`);
  }

  async createGroup(group: GroupRecord): Promise<GroupRecord> {
    return create(this.groupRows, `${group.tenantId}/${group.id}`, group, `group ${group.id}`);
  }

  async replaceGroup(group: GroupRecord): Promise<GroupRecord> {
    const key = `${group.tenantId}/${group.id}`;
    if (group.etag === undefined) throw new Error(`group ${group.id} was not read from storage (no ETag)`);
    if (this.groupRows.get(key)?.etag !== group.etag) throw new WriteConflictError(`group ${group.id}`);
    const saved = { ...group, etag: nextEtag() };
    this.groupRows.set(key, saved);
    return saved;
  }

  async deleteGroup(group: GroupRecord): Promise<void> {
    // As storage: deleting a row that is gone is a 404.
    if (!this.groupRows.delete(`${group.tenantId}/${group.id}`))
      throw Object.assign(new Error('gone'), { statusCode: 404 });
  }

  async principalShards(
    tenantId: string,
    fromShard: number,
    toShard: number,
    wanted?: ReadonlySet<string>,
  ): Promise<Map<string, PrincipalRecord>> {
    const found = new Map<string, PrincipalRecord>();
    for (const record of this.principalRows.values()) {
      const shard = shardOf(record.id);
      if (record.tenantId !== tenantId || shard < fromShard || shard >= toShard) continue;
      if (!wanted || wanted.has(record.id)) found.set(record.id, record);
    }
    return found;
  }

  /** With the markers the principal writes double left in those partitions. */
  async principalShardsWithMarkers(
    tenantId: string,
    fromShard: number,
    toShard: number,
    wanted?: ReadonlySet<string>,
  ): Promise<{ records: Map<string, PrincipalRecord>; markers: Map<string, string[]> }> {
    const markers = new Map<string, string[]>();
    for (let shard = fromShard; shard < toShard; shard++) {
      const partition = principalShardPartition(tenantId, shard);
      // Fences stay a lease after they were put up, longer than any test's run.
      const keys = [...(this.rows.markers.get(partition) ?? [])].filter(
        (key) => !this.rows.fences.has(`${partition}/${key}`),
      );
      if (keys.length > 0) markers.set(partition, keys.sort());
    }
    return { records: await this.principalShards(tenantId, fromShard, toShard, wanted), markers };
  }

  batchOf(kind: 'principal' | 'group', tenantId: string, id: string): string {
    return `${kind}/${tenantId}/${shardOf(id)}`;
  }

  async createPrincipals(records: readonly PrincipalRecord[]): Promise<PrincipalRecord[]> {
    return createEach(records, (record) => this.createPrincipal(record));
  }

  async createGroups(groups: readonly GroupRecord[]): Promise<GroupRecord[]> {
    return createEach(groups, (group) => this.createGroup(group));
  }
}

/** Creates each object; returns those refused because their id is taken. */
async function createEach<T>(objects: readonly T[], create: (object: T) => Promise<unknown>): Promise<T[]> {
  const taken: T[] = [];
  for (const object of objects) {
    try {
      await create(object);
    } catch (error: unknown) {
      if (!(error instanceof WriteConflictError)) throw error;
      taken.push(object);
    }
  }
  return taken;
}

function create<T extends { readonly etag?: string }>(
  rows: Map<string, T>,
  key: string,
  record: T,
  what: string,
): T {
  if (rows.has(key)) throw new WriteConflictError(what);
  const saved = { ...record, etag: nextEtag() };
  rows.set(key, saved);
  return saved;
}

/** User principal names; `now` stamps each write, as storage's Timestamp does. */
export class InMemoryNameRegistry implements NameRegistry {
  private readonly rows = new Map<string, NameHolding>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async reserve(tenantId: string, userPrincipalName: string, id: string): Promise<boolean> {
    const key = `${tenantId}/${userPrincipalName.toLowerCase()}`;
    if (this.rows.has(key)) return false;
    this.rows.set(key, { id, writtenAt: this.now().toISOString(), etag: nextEtag() });
    return true;
  }

  batchOf(tenantId: string, userPrincipalName: string): string {
    return `${tenantId}/${shardOf(userPrincipalName.toLowerCase())}`;
  }

  async reserveMany(
    tenantId: string,
    names: readonly { readonly userPrincipalName: string; readonly id: string }[],
  ): Promise<string[]> {
    const held: string[] = [];
    for (const { userPrincipalName, id } of names)
      if (!(await this.reserve(tenantId, userPrincipalName, id))) held.push(userPrincipalName);
    return held;
  }

  async read(tenantId: string, userPrincipalName: string): Promise<NameHolding | undefined> {
    return this.rows.get(`${tenantId}/${userPrincipalName.toLowerCase()}`);
  }

  async takeOver(
    tenantId: string,
    userPrincipalName: string,
    holding: NameHolding,
    id: string,
  ): Promise<boolean> {
    const key = `${tenantId}/${userPrincipalName.toLowerCase()}`;
    if (this.rows.get(key)?.etag !== holding.etag) return false;
    this.rows.set(key, { id, writtenAt: this.now().toISOString(), etag: nextEtag() });
    return true;
  }

  async release(tenantId: string, userPrincipalName: string): Promise<void> {
    this.rows.delete(`${tenantId}/${userPrincipalName.toLowerCase()}`);
  }
}

/** Group jobs: a job's bitmap and its page results, marked done together as the table adapter's transaction does. */
export class InMemoryGroupJobs implements GroupJobs {
  private readonly jobs = new Map<string, { job: JobRecord; pages: Map<number, PageResult> }>();

  async read(tenantId: string, jobId: string): Promise<JobRecord | undefined> {
    return this.jobs.get(`${tenantId}/${jobId}`)?.job;
  }

  async create(job: Omit<JobRecord, 'done' | 'etag'>): Promise<JobRecord> {
    const key = `${job.tenantId}/${job.jobId}`;
    const stored = this.jobs.get(key) ?? {
      job: { ...job, done: '0'.repeat(job.pages), etag: nextEtag() },
      pages: new Map<number, PageResult>(),
    };
    this.jobs.set(key, stored);
    return stored.job;
  }

  async finishPage(
    tenantId: string,
    jobId: string,
    page: number,
    result: PageResult,
  ): Promise<{ allDone: boolean }> {
    const stored = this.jobs.get(`${tenantId}/${jobId}`);
    if (!stored) throw new Error(`job ${jobId} not found`);
    stored.pages.set(page, result);
    const { done } = stored.job;
    if (done.charAt(page) === '1') return { allDone: !done.includes('0') };
    const next = `${done.slice(0, page)}1${done.slice(page + 1)}`;
    stored.job = { ...stored.job, done: next, etag: nextEtag() };
    return { allDone: !next.includes('0') };
  }

  async progress(
    tenantId: string,
    jobId: string,
  ): Promise<PageResult & { pagesDone: number; poisonedPages: number }> {
    const errors: Record<string, number> = {};
    const sum = { processed: 0, succeeded: 0, failed: 0, pagesDone: 0, poisonedPages: 0 };
    for (const result of this.jobs.get(`${tenantId}/${jobId}`)?.pages.values() ?? []) {
      sum.pagesDone++;
      if (result.poisoned === true) sum.poisonedPages++;
      sum.processed += result.processed;
      sum.succeeded += result.succeeded;
      sum.failed += result.failed;
      for (const [type, n] of Object.entries(result.errors)) errors[type] = (errors[type] ?? 0) + n;
    }
    return { ...sum, errors };
  }
}
