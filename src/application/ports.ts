import type { QueueNames } from '../config/queues.js';
import type { ProcessingState } from '../engine/index.js';
import type {
  AddressRow,
  AlertDeliveryRecord,
  AlertDeliveryStatus,
  AlertSubscriptionRecord,
  ApplicationRecord,
  AuditInput,
  ChunkOutcome,
  ChunkPlan,
  ClaimResult,
  ClaimTicket,
  DirectoryAudit,
  GroupLicenseRecord,
  GroupRecord,
  JobRecord,
  MailboxCheck,
  MemberRef,
  MembershipRuleRecord,
  OpenReservation,
  OutboxRecord,
  PageResult,
  PlannedChunk,
  PrincipalRecord,
  PrincipalWrite,
  SigningKeyRecord,
  SubscriptionRecord,
  TenantPartition,
  TenantRecord,
} from './records.js';

/*
 * The ports: what the use cases ask of storage, as interfaces the storage adapters implement (src/storage). What
 * may be asked is typed here; how it is answered (table filters over storage columns, continuation tokens) is the
 * adapter's business.
 */

/** A string property compared as Graph compares directory strings: case-insensitively. */
export type TextCondition = { readonly equals: string } | { readonly startsWith: string };

export type UserCondition =
  | { readonly property: 'assignedLicenses'; readonly skuId: string }
  | { readonly property: 'usageLocation'; readonly equals: string }
  | { readonly property: 'accountEnabled'; readonly equals: boolean }
  | { readonly property: 'userPrincipalName'; readonly equals: string }
  | ({ readonly property: 'displayName' } & TextCondition);

export type DeviceCondition =
  | { readonly property: 'accountEnabled'; readonly equals: boolean }
  | ({ readonly property: 'displayName' } & TextCondition);

export type GroupCondition =
  | { readonly property: 'securityEnabled'; readonly equals: boolean }
  | { readonly property: 'mailEnabled'; readonly equals: boolean }
  | ({ readonly property: 'displayName' } & TextCondition);

export type AuditCondition =
  | ({ readonly property: 'activityDisplayName' } & TextCondition)
  | {
      readonly property: 'activityDateTime';
      readonly op: 'ge' | 'gt' | 'le' | 'lt';
      /** An ISO 8601 instant. */
      readonly value: string;
    };

export interface UserQuery {
  /** Soft-deleted users (the directory's deleted items) instead of active ones. */
  readonly deleted: boolean;
  readonly conditions: readonly UserCondition[];
}

/** Where a listing resumes: the page size and the position a previous page ended at. */
export interface PageRequest {
  readonly top: number;
  /** Opaque: what the previous page's `continuation` said. */
  readonly continuation?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Set when more remain. */
  readonly continuation?: string;
}

export interface DeletedUser {
  readonly id: string;
  readonly deletedDateTime: string;
}

/** The directory's listings (src/storage/directory-queries.ts). */
export interface DirectoryQueries {
  users(tenantId: string, query: UserQuery, page: PageRequest): Promise<Page<PrincipalRecord>>;
  countUsers(tenantId: string, query: UserQuery): Promise<number>;
  devices(
    tenantId: string,
    conditions: readonly DeviceCondition[],
    page: PageRequest,
  ): Promise<Page<PrincipalRecord>>;
  countDevices(tenantId: string, conditions: readonly DeviceCondition[]): Promise<number>;
  groups(
    tenantId: string,
    conditions: readonly GroupCondition[],
    page: PageRequest,
  ): Promise<Page<GroupRecord>>;
  countGroups(tenantId: string, conditions: readonly GroupCondition[]): Promise<number>;
  /** The users soft-deleted before `cutoff` (an ISO instant). */
  deletedBefore(tenantId: string, cutoff: string): AsyncIterable<DeletedUser>;
  /** Active principals whose mailbox was refused because an address was taken (rechecked by the sweeper). */
  refusedMailboxes(tenantId: string): AsyncIterable<PrincipalRecord>;
  /** Every user and device of the tenant, soft-deleted ones included (for whole-tenant checks, not hot paths). */
  allPrincipals(tenantId: string): AsyncIterable<PrincipalRecord>;
  allGroups(tenantId: string): AsyncIterable<GroupRecord>;
  /** Newest first. */
  audits(
    tenantId: string,
    conditions: readonly AuditCondition[],
    page: PageRequest,
  ): Promise<Page<DirectoryAudit>>;
}

/*
 * Optimistic writes: a record carries the ETag it was read with; writing it back under that ETag rejects with an
 * error `isConflict` recognises (src/storage/properties.ts; in-memory doubles throw WriteConflictError) when
 * another writer got there first, and the use case retries the whole read-modify-write (retryOnConflict).
 */

/**
 * What committed changes still owe (src/storage/README.md, "Outbox"). Rows are created together with the state
 * they belong to (`TenantStore.commitGroupLicensing`) or on their own (`put`), relayed by their writer, and by the
 * sweep once `relayAfter` has passed.
 */
export interface OutboxStore {
  read(tenantId: string, id: string): Promise<OutboxRecord | undefined>;
  /** Writes the row on its own (replacing one of the same id); returns it with its ETag. */
  put(tenantId: string, record: OutboxRecord): Promise<OutboxRecord>;
  /** Rows whose `relayAfter` has passed, in id order, at most `limit`. */
  due(tenantId: string, now: Date, limit: number): Promise<OutboxRecord[]>;
  /** How many rows are waiting. */
  pending(tenantId: string): Promise<number>;
  /**
   * Deletes the row once what it owes is done, only while it is still the version given (a newer one written since
   * by a later request for the same work stays); a row already gone is fine.
   */
  remove(tenantId: string, record: OutboxRecord): Promise<void>;
}

/** What `commitGroupLicensing` writes together. */
export interface GroupLicensingCommit {
  /** License rows: written back under the ETag `current` was read with, or created when there is no `current`. */
  readonly licenses?: readonly {
    readonly current: GroupLicenseRecord | undefined;
    readonly next: GroupLicenseRecord;
  }[];
  /** Only the processing state of a license row changes (under the ETag it was read with). */
  readonly processingState?: { readonly current: GroupLicenseRecord; readonly state: ProcessingState };
  readonly createOutbox?: OutboxRecord;
  /** An outbox row written back under the ETag it was read with. */
  readonly replaceOutbox?: OutboxRecord;
}

/** What `commitMembershipRule` writes together. */
export interface MembershipRuleCommit {
  readonly groupId: string;
  /** The rule row as read (its ETag guards the write), or undefined to create it. */
  readonly current: MembershipRuleRecord | undefined;
  /** The new rule row, or null to delete it (the group is no longer dynamic, or is gone). */
  readonly next: MembershipRuleRecord | null;
  readonly createOutbox?: OutboxRecord;
}

/** The tenants and their control partition: subscriptions, group licenses, seat reservations (src/storage). */
export interface TenantStore {
  /** Creates the tenant row; rejects with a conflict if the id is taken. */
  create(tenant: TenantRecord): Promise<void>;
  read(tenantId: string): Promise<TenantRecord | undefined>;
  /** The tenant row with every control row of its partition, read together. */
  partition(tenantId: string): Promise<TenantPartition | undefined>;
  /** Writes the tenant back under the ETag it was read with; returns it with its new ETag. */
  replace(tenant: TenantRecord): Promise<TenantRecord>;
  /** Creates the subscription (no ETag) or writes it back under the ETag it was read with. */
  saveSubscription(tenantId: string, subscription: SubscriptionRecord): Promise<SubscriptionRecord>;
  /** Records that a heal pass of the SKU begun at `startedAt` finished (last writer wins: it only coalesces). */
  recordHealPass(tenantId: string, skuId: string, startedAt: string): Promise<void>;
  /**
   * Marks the group's license processing failed for good (a poisoned message), under the ETag the record was read
   * with, so a newer assignment is never overwritten.
   */
  markGroupLicenseFailed(tenantId: string, license: GroupLicenseRecord, reason: string): Promise<void>;
  /** Removes a group's license row (the group is gone); one already gone is fine. */
  deleteGroupLicense(tenantId: string, groupId: string): Promise<void>;
  /**
   * Commits group licensing's changes of the tenant partition in one transaction, so license rows never exist
   * without the outbox row that owes their work (and a job's state never changes without its *Finish* record).
   * Rejects with a conflict when a row changed since it was read. Returns the new ETag of the created outbox row.
   */
  commitGroupLicensing(tenantId: string, commit: GroupLicensingCommit): Promise<{ outboxEtag?: string }>;
  /**
   * Writes, replaces or deletes a dynamic group's rule row together with the outbox row owing its evaluation, in one
   * transaction. Rejects with a conflict when the row changed since it was read (or exists, for a create).
   */
  commitMembershipRule(tenantId: string, commit: MembershipRuleCommit): Promise<{ outboxEtag?: string }>;
  /** Every tenant's id (the sweeper's round). */
  ids(): AsyncIterable<string>;
}

/** App registrations and the sign-in authority's key (src/storage/identity.ts). */
export interface IdentityStore {
  createApplication(app: ApplicationRecord): Promise<void>;
  readApplication(tenantId: string, appId: string): Promise<ApplicationRecord | undefined>;
  /** Oldest first. */
  listApplications(tenantId: string): Promise<ApplicationRecord[]>;
  /**
   * Writes the registration back under the ETag it was read with; another change meanwhile rejects with
   * StorageContentionError (the caller is told to retry).
   */
  replaceApplication(app: ApplicationRecord): Promise<void>;
  /** False when there was nothing to delete. */
  deleteApplication(tenantId: string, appId: string): Promise<boolean>;
  readSigningKey(): Promise<SigningKeyRecord | undefined>;
  /** Stores the key unless one exists, and returns the one stored (the first instance to start wins). */
  createSigningKey(key: SigningKeyRecord): Promise<SigningKeyRecord>;
}

/** The work queues (src/storage/queues.ts): messages are JSON; a queue's work is done by its trigger. */
export interface WorkSender {
  send(queue: keyof QueueNames, message: unknown): Promise<void>;
  sendAll(queue: keyof QueueNames, messages: readonly unknown[]): Promise<void>;
  /** Approximate messages waiting, per queue name. */
  depth(): Promise<Record<string, number>>;
}

/**
 * The directory's objects one at a time (src/storage/directory-store.ts). Creates reject with a conflict when the
 * id is taken; a replace is an optimistic write under the ETag the record was read with.
 */
export interface DirectoryStore {
  principal(tenantId: string, id: string): Promise<PrincipalRecord | undefined>;
  /** Point reads of scattered principals, many in flight; ids not found are left out. */
  principals(tenantId: string, ids: readonly string[]): Promise<Map<string, PrincipalRecord>>;
  createPrincipal(record: PrincipalRecord): Promise<PrincipalRecord>;
  group(tenantId: string, id: string): Promise<GroupRecord | undefined>;
  createGroup(group: GroupRecord): Promise<GroupRecord>;
  replaceGroup(group: GroupRecord): Promise<GroupRecord>;
  deleteGroup(group: GroupRecord): Promise<void>;
  /**
   * Every principal of a range of principal shards (`fromShard` ≤ shard < `toShard`), in one range read: for pages
   * where most of the range is wanted. `wanted`: keep only these ids. With `markers`, also the seat reservation
   * markers of those partitions (src/storage/README.md, "Seats"), which a writer deletes once they are stale.
   */
  principalShards(
    tenantId: string,
    fromShard: number,
    toShard: number,
    wanted?: ReadonlySet<string>,
  ): Promise<Map<string, PrincipalRecord>>;
  principalShardsWithMarkers(
    tenantId: string,
    fromShard: number,
    toShard: number,
    wanted?: ReadonlySet<string>,
  ): Promise<{ records: Map<string, PrincipalRecord>; markers: Map<string, string[]> }>;
  /**
   * Bulk creation (the import): objects with the same `batchOf` key may be created in one transaction of up to 100.
   * Returns the objects not created because their id is taken; the others are created.
   */
  batchOf(kind: 'principal' | 'group', tenantId: string, id: string): string;
  createPrincipals(records: readonly PrincipalRecord[]): Promise<PrincipalRecord[]>;
  createGroups(groups: readonly GroupRecord[]): Promise<GroupRecord[]>;
}

/** A place in a member list's order (shard, then id): the last member a page returned. */
export interface MemberPosition {
  readonly shard: number;
  readonly id: string;
}

export interface MemberListPage {
  readonly refs: readonly MemberRef[];
  /** Where the next page starts after; absent on the last page. */
  readonly next?: MemberPosition;
}

/**
 * Each group's member list, the group-side index of its members (src/storage/members.ts): listed by the principal
 * shards the members live in, so a job's page over shards a..b reads exactly its members. The member's own row
 * (its memberOf) is the source of truth; changes are idempotent, so replays are harmless.
 */
export interface MemberListStore {
  /** Members whose principal shard is in `fromShard..toShard` (exclusive); the whole list by default. */
  listRange(tenantId: string, groupId: string, fromShard?: number, toShard?: number): Promise<MemberRef[]>;
  /**
   * At most `limit` members after `after`, in the list's stable order: by principal shard, then by id. Reads only
   * the buckets the page needs, so a page costs what it holds, not the group. `next` is set when more remain.
   */
  listPage(tenantId: string, groupId: string, limit: number, after?: MemberPosition): Promise<MemberListPage>;
  count(tenantId: string, groupId: string): Promise<number>;
  has(tenantId: string, groupId: string, memberId: string): Promise<boolean>;
  /**
   * Adds and removes members (adding a present one, or removing an absent one, changes nothing: a present member
   * keeps its first join time). Returns the new count.
   */
  apply(
    tenantId: string,
    groupId: string,
    adds: readonly MemberRef[],
    removes: readonly string[],
  ): Promise<number>;
  /** Removes the whole list (the group was deleted); a list gone already is fine. */
  drop(tenantId: string, groupId: string): Promise<void>;
}

/** Who holds a user principal name, as read: what a take-over is conditional on. */
export interface NameHolding {
  /** The id of the user the name was reserved for. */
  readonly id: string | undefined;
  /** When the name was last written (ISO): how old the reservation is. */
  readonly writtenAt: string | undefined;
  /** Opaque version: a take-over succeeds only if the name is unchanged since. */
  readonly etag: string;
}

/** User principal names, unique per tenant (src/storage/names.ts). */
export interface NameRegistry {
  /** Reserves the name for `id`; false when it is held already (by anyone, `id` included). */
  reserve(tenantId: string, userPrincipalName: string, id: string): Promise<boolean>;
  /** Names with the same key may be reserved in one transaction of up to 100 (`reserveMany`). */
  batchOf(tenantId: string, userPrincipalName: string): string;
  /** Reserves names of one batch; returns those held already (the others are reserved). */
  reserveMany(
    tenantId: string,
    names: readonly { readonly userPrincipalName: string; readonly id: string }[],
  ): Promise<string[]>;
  read(tenantId: string, userPrincipalName: string): Promise<NameHolding | undefined>;
  /** Gives a held name to `id` if it is still as read; false when another writer changed it meanwhile. */
  takeOver(tenantId: string, userPrincipalName: string, holding: NameHolding, id: string): Promise<boolean>;
  /** Frees the name; one already free is fine. */
  release(tenantId: string, userPrincipalName: string): Promise<void>;
}

/** A group's outcome over its members: succeeded, failed, and the failed ones' errors by type. */
export interface GroupCounts {
  succeeded: number;
  failed: number;
  errors: Record<string, number>;
}

/** Someone waiting for a seat of a SKU (the waiting room, rules.md §6). */
export interface WaitingPrincipal {
  readonly principalId: string;
  readonly skuId: string;
  readonly waitingSince: string;
}

/** What the principals' license states add up to (src/storage/bookkeeping.ts): group outcomes, waiting rooms. */
export interface LicensingQueries {
  groupCounts(tenantId: string, groupId: string): Promise<GroupCounts>;
  /** Which of these groups have a member in error from them (`hasMembersWithLicenseErrors`). */
  groupsWithErrors(tenantId: string, groupIds: Iterable<string>): Promise<Set<string>>;
  /** Ids of the active principals with an error from the group's assignment (`membersWithLicenseErrors`). */
  principalsInError(tenantId: string, groupId: string): AsyncIterable<string>;
  /** One page of those principals' rows, in a stable order (`membersWithLicenseErrors`, paged). */
  principalsInErrorPage(tenantId: string, groupId: string, page: PageRequest): Promise<Page<PrincipalRecord>>;
  /** Everyone waiting for a seat of the SKU, first come first served (ties by principal id). */
  waiters(tenantId: string, skuId: string): Promise<WaitingPrincipal[]>;
}

/** The directory audit log (src/storage/audit.ts); records are read back through DirectoryQueries.audits. */
export interface AuditTrail {
  /**
   * Appends records. A record with an `idempotencyKey` gets an id derived from it, so appending it again (a retried
   * handler, a duplicated notification) leaves one record.
   */
  append(tenantId: string, inputs: readonly (AuditInput & { idempotencyKey?: string })[]): Promise<void>;
}

/** Group jobs and their pages (src/storage/jobs.ts): the fan-out of one group's license change. */
export interface GroupJobs {
  read(tenantId: string, jobId: string): Promise<JobRecord | undefined>;
  /** Creates the job once; a replayed planning message gets the first plan back. */
  create(job: Omit<JobRecord, 'done' | 'etag'>): Promise<JobRecord>;
  /**
   * Records a page's result and marks it done together; `allDone` is true exactly when this call completed the
   * last page (or found every page done). A replayed page writes its result again, counted once.
   */
  finishPage(
    tenantId: string,
    jobId: string,
    page: number,
    result: PageResult,
  ): Promise<{ allDone: boolean }>;
  /** The sum of the page results written so far. */
  progress(
    tenantId: string,
    jobId: string,
  ): Promise<PageResult & { pagesDone: number; poisonedPages: number }>;
}

/**
 * The seat ledger (src/storage/README.md, "Seats"): per-SKU counters changed only with their ETags, and
 * reservations recording each claim's planned chunks, so a crash at any point is settled exactly by whoever resumes
 * the reservation. Seats are never granted beyond what the tenant owns.
 */
export interface SeatReservations {
  /** Runs `work` once no other run of the same reservation is under way in this process. */
  inTurn<T>(tenantId: string, id: string, work: () => Promise<T>): Promise<T>;
  /** Like `inTurn`, but does nothing (undefined) when a run of the reservation is under way in this process. */
  ifIdle<T>(tenantId: string, id: string, work: () => Promise<T>): Promise<T | undefined>;
  /**
   * Opens or resumes a reservation, resolving an earlier attempt's chunks by their markers (`known`: chunks whose
   * fate this run saw itself). Without `takeOver`, a reservation whose owner's lease runs on is refused (busy).
   */
  open(
    partition: TenantPartition,
    id: string,
    owner: string,
    now: Date,
    options?: { takeOver?: boolean; known?: ReadonlyMap<string, boolean> },
  ): Promise<OpenReservation>;
  /** Claims the seats the planned chunks gain (less those held unused) and records the plan. */
  claim(
    tenantId: string,
    subscriptions: ReadonlyMap<string, SubscriptionRecord>,
    open: OpenReservation,
    chunks: readonly ChunkPlan[],
    now: Date,
  ): Promise<ClaimResult>;
  /** Gives back the seats the landed chunks released and deletes the reservation. */
  close(
    tenantId: string,
    open: OpenReservation,
    landedChunks: readonly ChunkPlan[],
    readSubscriptions: () => Promise<ReadonlyMap<string, SubscriptionRecord>>,
  ): Promise<void>;
  /** Removes markers of reservations no longer open (asked for only after the markers are listed). */
  removeStaleMarkers(tenantId: string, openReservations: () => Promise<ReadonlySet<string>>): Promise<number>;
}

/** Markers seen in principal partitions, and the reservations open when they were read after them. */
export interface MarkerCleanup {
  readonly markers: ReadonlyMap<string, readonly string[]>;
  readonly openReservations: ReadonlySet<string>;
}

/**
 * Principal rows written in chunks of one partition and one transaction each, with their ETags, keeping the
 * partition's bookkeeping (waiting rooms, group outcome flags) and, when seats move, the chunk's marker.
 */
export interface PrincipalWrites {
  /** Splits writes into chunks keyed `<chunkPrefix>.<index>`, with the seats each gains and releases. */
  plan(tenantId: string, writes: readonly PrincipalWrite[], chunkPrefix: string): PlannedChunk[];
  /** Writes the chunks; a chunk that lost an ETag race has `landed: false`. `cleanup`: stale markers to delete. */
  write(
    chunks: readonly PlannedChunk[],
    withMarkers: boolean,
    cleanup?: MarkerCleanup,
  ): Promise<ChunkOutcome[]>;
}

/**
 * Proxy addresses (rules.md §3.3): the users listing each, and the one whose mailbox holds it, a lock taken by
 * `claim` before a row giving its user a mailbox is written and let go only by `settle`.
 */
export interface ProxyAddressStore {
  read(tenantId: string, address: string): Promise<AddressRow>;
  /** `userId` now lists `addresses` (no longer `previous`); returns, per address touched, who lists it now. */
  register(
    tenantId: string,
    userId: string,
    previous: readonly string[],
    addresses: readonly string[],
  ): Promise<Map<string, readonly string[]>>;
  /** Bulk registration (the import); returns the users who now share an address. */
  registerMany(tenantId: string, pairs: readonly { address: string; userId: string }[]): Promise<Set<string>>;
  claim(tenantId: string, address: string, userId: string, ticket: ClaimTicket, now: Date): Promise<boolean>;
  settle(
    tenantId: string,
    address: string,
    ticketId: string | null,
    now: Date,
    holdsMailbox: MailboxCheck,
  ): Promise<{ holder: string | null; released: readonly string[] }>;
}

/**
 * Alert subscriptions and their deliveries (src/storage/alerts.ts): one partition per tenant, so a decision — the new
 * baseline of a subscription and the delivery announcing what grew — commits in one transaction.
 */
export interface AlertStore {
  subscriptions(tenantId: string): Promise<AlertSubscriptionRecord[]>;
  subscription(tenantId: string, id: string): Promise<AlertSubscriptionRecord | undefined>;
  /** Rejects with a conflict when the id is taken. */
  createSubscription(record: AlertSubscriptionRecord): Promise<AlertSubscriptionRecord>;
  /** Writes the subscription back under the ETag it was read with (a conflict otherwise). */
  replaceSubscription(record: AlertSubscriptionRecord): Promise<AlertSubscriptionRecord>;
  /** False when there was nothing to delete. */
  deleteSubscription(tenantId: string, id: string): Promise<boolean>;
  /**
   * Commits an evaluation's decision in one transaction: the subscription's new baseline (under its ETag) and the
   * deliveries announcing what appeared or grew (at most 99). Rejects with a conflict when the subscription
   * changed since it was read (another evaluation decided first).
   */
  commitDecision(
    subscription: AlertSubscriptionRecord,
    deliveries: readonly AlertDeliveryRecord[],
  ): Promise<void>;
  delivery(tenantId: string, alertId: string, id: string): Promise<AlertDeliveryRecord | undefined>;
  /** Writes the delivery back under the ETag it was read with (a conflict otherwise). */
  replaceDelivery(record: AlertDeliveryRecord): Promise<AlertDeliveryRecord>;
  /** A subscription's deliveries, oldest first, optionally of one status; at most `limit`. */
  deliveries(
    tenantId: string,
    alertId: string,
    options?: { readonly status?: AlertDeliveryStatus; readonly limit?: number },
  ): Promise<AlertDeliveryRecord[]>;
  /** Pending deliveries of the tenant whose next attempt was due before `before` (their message was lost). */
  overdueDeliveries(tenantId: string, before: Date, limit: number): Promise<AlertDeliveryRecord[]>;
  /**
   * Coalesces evaluation requests: true (and the evaluation recorded as queued until `until`) unless one is
   * already queued to run after `now` — then that one will see this request's state, and the caller sends nothing.
   */
  markEvaluationQueued(tenantId: string, now: Date, until: Date): Promise<boolean>;
}

/** The alert queues (src/storage/alert-queues.ts): messages delayed on purpose. */
export interface AlertQueue {
  evaluate(tenantId: string, delaySeconds: number): Promise<void>;
  deliver(
    message: { readonly tenantId: string; readonly alertId: string; readonly deliveryId: string },
    delaySeconds: number,
  ): Promise<void>;
}

/** What a receiver answered (or why it did not). */
export interface ReceiverAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** Outgoing HTTPS to alert receivers (src/application/receivers.ts); rejects on a network failure or timeout. */
export interface AlertReceivers {
  post(
    url: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    timeoutMs: number,
  ): Promise<ReceiverAnswer>;
}
