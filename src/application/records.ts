import type {
  DirectLicense,
  GroupLicenseAssignment,
  LicenseEntry,
  LicenseErrorHealing,
  MemberKind,
  PrincipalKind,
  ProcessingState,
  Subscription,
  SubscriptionState,
  TenantSettings,
} from '../engine/index.js';

export type { MemberKind };

/*
 * The records the use cases work with: the directory, the tenant's licensing and its app registrations, as plain
 * data. The storage adapters encode and decode them (src/storage); the HTTP edge shapes them for Graph (src/api).
 */

/** A membership as recorded on the member: the source of truth for "M is in G". */
export interface MemberOfEntry {
  readonly groupId: string;
  readonly joinedAt: string;
  /** The bucket of the group's member list that holds this member. */
  readonly bucket: number;
  /** The last change-notification sequence applied to this membership (for reordering), if any. */
  readonly sequence?: number;
}

/** A membership that ended, remembered for a while so a replayed or late "add" cannot resurrect it. */
export interface RemovedMembership {
  readonly groupId: string;
  readonly removedAt: string;
  readonly sequence?: number;
}

export interface DeviceProperties {
  readonly deviceId: string;
  readonly operatingSystem: string;
  readonly operatingSystemVersion: string;
  readonly alternativeSecurityIds: readonly unknown[];
}

/** Graph properties the directory mirror keeps but licensing does not read. */
export type Profile = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

/** A user or device as stored: directory facts, memberships and license state in one row. */
export interface PrincipalRecord {
  readonly tenantId: string;
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly displayName: string;
  readonly userPrincipalName: string | null;
  readonly mailNickname: string | null;
  readonly usageLocation: string | null;
  readonly proxyAddresses: readonly string[];
  readonly accountEnabled: boolean;
  readonly department: string | null;
  readonly device: DeviceProperties | null;
  readonly profile: Profile;
  readonly createdDateTime: string;
  /** Set while soft-deleted. */
  readonly deletedDateTime: string | null;
  readonly directLicenses: readonly DirectLicense[];
  readonly memberOf: readonly MemberOfEntry[];
  readonly removedMemberships: readonly RemovedMembership[];
  readonly entries: readonly LicenseEntry[];
  readonly mailboxActive: boolean;
  /** One of its proxy addresses is shared with another user, so mailbox grants must claim it. */
  readonly sharedProxy: boolean;
  /** The sequence of the last lifecycle notification applied (soft delete, restore), for ordering replays. */
  readonly lifecycleSequence?: number;
  readonly etag?: string;
}

/** A group as stored (its license assignment lives in the tenant partition, see tenant-records.ts). */
export interface GroupRecord {
  readonly tenantId: string;
  readonly id: string;
  readonly displayName: string;
  readonly description: string | null;
  readonly mailNickname: string;
  readonly securityEnabled: boolean;
  readonly mailEnabled: boolean;
  readonly groupTypes: readonly string[];
  readonly createdDateTime: string;
  /** Groups this group is a direct member of (nesting, which device licenses follow). */
  readonly memberOf: readonly MemberOfEntry[];
  readonly removedMemberships: readonly RemovedMembership[];
  readonly etag?: string;
}

/** The tenant row. */
export interface TenantRecord {
  readonly id: string;
  readonly displayName: string;
  readonly countryLetterCode: string;
  readonly licenseErrorHealing: LicenseErrorHealing;
  /** The secret every change notification for this tenant must carry. */
  readonly clientState: string;
  readonly createdDateTime: string;
  readonly etag?: string;
}

/** The tenant's settings the engine evaluates with. */
export function settingsOf(tenant: TenantRecord): TenantSettings {
  return { countryLetterCode: tenant.countryLetterCode, licenseErrorHealing: tenant.licenseErrorHealing };
}

/** A subscription row: what was bought, and the seat counter that guards it. */
export interface SubscriptionRecord extends Subscription {
  readonly createdDateTime: string;
  /**
   * A stage change whose effects (audit record, re-evaluation of the SKU's holders, heal) are still owed: written
   * with the change in the same ETag write and cleared once they are done, so a crash between the two leaves the
   * debt for the sweep (a one-row outbox; src/application/subscription-lifecycle.ts).
   */
  readonly lifecycleOwed?: LifecycleOwed;
  readonly etag?: string;
}

export interface LifecycleOwed {
  /** Keys the audit record, so relaying twice writes the same record. */
  readonly id: string;
  readonly from: SubscriptionState | null;
  readonly to: SubscriptionState;
  readonly at: string;
  /** Who changed it: the operator, or the sweep's clock. */
  readonly by: 'operator' | 'sweep';
  /** Whether usable seats grew (the waiting room is woken). */
  readonly moreSeats: boolean;
}

/** A planned write of one chunk of principal rows, and the seats it takes and gives back. */
export interface ChunkPlan {
  readonly key: string;
  readonly partition: string;
  readonly gains: Readonly<Record<string, number>>;
  readonly loses: Readonly<Record<string, number>>;
}

/** Seats claimed for work in flight (src/storage/README.md, "Seats"). */
export interface ReservationRecord {
  readonly id: string;
  readonly createdDateTime: string;
  readonly owner: string;
  readonly leaseUntil: string;
  readonly chunks: readonly ChunkPlan[];
  /** Seats given back by chunks already written, not yet taken off the counters. */
  readonly settledLoses: Readonly<Record<string, number>>;
  readonly etag?: string;
}

export interface TenantPartition {
  readonly tenant: TenantRecord;
  readonly subscriptions: ReadonlyMap<string, SubscriptionRecord>;
  readonly groupLicenses: ReadonlyMap<string, GroupLicenseRecord>;
  readonly reservations: ReadonlyMap<string, ReservationRecord>;
  /** Per SKU, when the latest heal pass that finished had begun (coalesces heal messages queued before it). */
  readonly healPasses: ReadonlyMap<string, string>;
  /** The dynamic groups' rules, by group id: every change of a rule-read property is checked against them. */
  readonly membershipRules: ReadonlyMap<string, MembershipRuleRecord>;
}

/** Graph beta's `membershipRuleProcessingStatus.status`. */
export type RuleProcessingStatus = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed';

/**
 * A dynamic group's rule and the state of its processing. Kept in the tenant's control partition, beside the group
 * licenses: every principal change reads them all in the one partition query it already makes.
 */
export interface MembershipRuleRecord {
  readonly groupId: string;
  readonly membershipRule: string;
  /** `Paused` freezes membership: neither evaluations nor principal changes move members in or out. */
  readonly processingState: 'On' | 'Paused';
  /** The evaluation of the whole tenant that applies the current rule; an older one sees it is superseded. */
  readonly jobId: string | null;
  readonly status: RuleProcessingStatus;
  /** When an evaluation last changed the group's members. */
  readonly lastMembershipUpdated: string | null;
  readonly errorMessage: string | null;
  readonly updatedDateTime: string;
  readonly etag?: string;
}

/** A group's license assignment and the state of its processing (rules.md §4). */
export interface GroupLicenseRecord {
  readonly groupId: string;
  readonly licenses: readonly GroupLicenseAssignment[];
  readonly licensedSince: string | null;
  /** The job that processes the latest change; older jobs see they are superseded and stop. */
  readonly jobId: string | null;
  readonly processingState: ProcessingState;
  readonly updatedDateTime: string;
  /** The code of work for this group that failed for good (`GroupProcessingFailure`), until the next change. */
  readonly lastFailure?: string | null;
  readonly etag?: string;
}

export interface PasswordCredentialRecord {
  readonly keyId: string;
  readonly displayName: string | null;
  /** The first three characters of the secret, as Entra shows them. */
  readonly hint: string;
  /** SHA-256 of the secret (base64): secrets are 256-bit random, so a fast hash leaves nothing to guess. */
  readonly secretHash: string;
  readonly startDateTime: string;
  readonly endDateTime: string;
}

export interface ApplicationRecord {
  readonly tenantId: string;
  readonly appId: string;
  /** The object id (Graph's `application.id`); also the service principal's id in tokens (`oid`, `sub`). */
  readonly id: string;
  readonly displayName: string;
  /** Application permissions granted (the `roles` claim of its tokens). */
  readonly roles: readonly string[];
  readonly passwordCredentials: readonly PasswordCredentialRecord[];
  readonly createdDateTime: string;
  readonly etag?: string;
}

/** The authority's private key as a JWK (RSA), with the id tokens name it by. */
export interface SigningKeyRecord {
  readonly kid: string;
  readonly privateJwk: Readonly<Record<string, unknown>>;
  readonly createdDateTime: string;
}

export interface MemberRef {
  readonly id: string;
  readonly kind: MemberKind;
  readonly joinedAt: string;
}

/** Graph's `directoryAudit` (rules.md §8, api.md). */
export interface DirectoryAudit {
  readonly id: string;
  readonly activityDateTime: string;
  readonly activityDisplayName: string;
  readonly category: 'GroupManagement' | 'UserManagement' | 'DeviceManagement' | 'DirectoryManagement';
  readonly correlationId: string;
  readonly initiatedBy: { readonly app: { readonly displayName: string } | null };
  readonly loggedByService: 'Core Directory';
  readonly operationType: 'Add' | 'Assign' | 'Update' | 'Unassign' | 'Delete' | 'Restore';
  readonly result: 'success' | 'failure';
  readonly resultReason: string;
  readonly targetResources: readonly {
    readonly id: string;
    readonly displayName: string | null;
    readonly type: 'Group' | 'User' | 'Device' | 'Other';
    readonly modifiedProperties: readonly {
      displayName: string;
      oldValue: string | null;
      newValue: string | null;
    }[];
  }[];
  readonly additionalDetails: readonly { key: string; value: string }[];
}

/** An audit record as a use case hands it over; the audit log gives it its id and the service name. */
export type AuditInput = Omit<
  DirectoryAudit,
  'id' | 'loggedByService' | 'correlationId' | 'additionalDetails'
> & {
  readonly correlationId?: string;
  readonly additionalDetails?: readonly { key: string; value: string }[];
};

/** Who acts when the service itself applies group licenses (the name Entra shows). */
export const GROUP_LICENSING_APP = {
  app: { displayName: 'Microsoft Entra ID Group-Based Licensing' },
} as const;

/** A group job: one license change (or reprocess) of one group, fanned out in pages. */
export interface JobRecord {
  readonly tenantId: string;
  readonly jobId: string;
  readonly groupId: string;
  readonly pages: number;
  /** Members the job planned to evaluate. */
  readonly membersTotal: number;
  /** One character per page: '1' once the page is done. */
  readonly done: string;
  readonly startedDateTime: string;
  readonly etag?: string;
}

export interface PageResult {
  /** The page's message was poisoned: its members were not processed. */
  readonly poisoned?: boolean;
  readonly processed: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
}

/**
 * A row of the outbox (src/storage/README.md, "Outbox"): what a committed change still owes — audit records to
 * write, queue messages to send, a request's directory change to finish. It is committed in the same transaction
 * as the state it belongs to, deleted once what it owes is done, and relayed by the sweep if its writer died.
 */
export interface OutboxRecord {
  readonly id: string;
  readonly createdDateTime: string;
  /** Until then the writer is presumed alive and relaying the row itself; after it, the sweep relays it. */
  readonly relayAfter: string;
  /** What is owed, in the application's terms (it validates the payload when it relays the row). */
  readonly payload: unknown;
  readonly etag?: string;
}

/** Seats per SKU id. */
export type Counts = Record<string, number>;

export function addCounts(target: Counts, source: Readonly<Counts>): void {
  for (const [key, value] of Object.entries(source)) target[key] = (target[key] ?? 0) + value;
}

/** How long an owner may hold a seat reservation (or a mailbox claim) before someone else may resolve it. */
export const RESERVATION_LEASE_MS = 12 * 60 * 1000;

/** One principal's change: the row as read (with its ETag) and as it should be; seats it takes and gives back. */
export interface PrincipalWrite {
  readonly before: PrincipalRecord | undefined;
  /** The row as it should be; for a hard delete (`purge`), the principal as it is removed: deleted, holding no seat. */
  readonly after: PrincipalRecord;
  readonly gains: readonly string[];
  readonly loses: readonly string[];
  /**
   * A hard delete: the row is written as `after` under the ETag it was read with, and only then deleted with the
   * ETag that write returned, so a change in between fails the delete and the principal is read and evaluated
   * again (src/storage/principal-writer.ts explains why a delete inside a transaction cannot be conditional).
   */
  readonly purge?: boolean;
  /**
   * `before` and `after` as storage encodes them, when planning already encoded both to compare them: the writer
   * takes them instead of encoding the same records again. Only ever the encodings of exactly these two records.
   */
  readonly rows?: { readonly before: PrincipalRow; readonly after: PrincipalRow };
}

/** A principal row as storage encodes it (src/storage/principal-records.ts); opaque to the use cases. */
export type PrincipalRow = Readonly<Record<string, unknown>> & {
  readonly partitionKey: string;
  readonly rowKey: string;
};

/** A chunk: writes to one partition that fit one transaction, with the marker they carry. */
export interface PlannedChunk {
  readonly plan: ChunkPlan;
  readonly writes: readonly PrincipalWrite[];
}

export interface ChunkOutcome {
  readonly chunk: PlannedChunk;
  readonly landed: boolean;
  /** New ETags of the written principal rows, by id. */
  readonly etags: ReadonlyMap<string, string>;
  /**
   * Hard-deleted principals of a landed chunk whose row changed between the chunk and its deletion: the row is
   * still there, as the other writer left it, and must be read and deleted again.
   */
  readonly unpurged: ReadonlySet<string>;
}

/**
 * An open seat reservation: what an earlier attempt left behind, resolved against its markers. Seats it claimed for
 * chunks that never landed (`unusedGains`) are still counted as consumed, so this attempt may use them again.
 */
export interface OpenReservation {
  readonly id: string;
  readonly owner: string;
  readonly existing: ReservationRecord | undefined;
  readonly unusedGains: Counts;
  readonly settledLoses: Counts;
  /** Markers of chunks that landed, to clean up once the reservation is closed. */
  readonly landedMarkers: readonly { partition: string; key: string }[];
}

export type ClaimOutcome = 'claimed' | 'not-needed' | 'conflict';

export interface ClaimResult {
  readonly outcome: ClaimOutcome;
  readonly subscriptions: ReadonlyMap<string, SubscriptionRecord>;
  readonly returned: Readonly<Counts>;
}

/**
 * A mailbox claim in flight: taken (with the holder) before a row giving its user a mailbox is written, and
 * removed by `settle` once that work is over, landed or not. A claim whose work died is dead after `until`.
 */
export interface ClaimTicket {
  readonly id: string;
  readonly until: string;
}

/** Whether `userId`'s principal row, read now, has a working mailbox on `address` (lowercased). */
export type MailboxCheck = (userId: string, address: string) => Promise<boolean>;

/** A proxy address as read: the users listing it, the one whose mailbox holds it, claims in flight. */
export interface AddressRow {
  readonly users: readonly string[];
  readonly holder: string | null;
  readonly claims: readonly ClaimTicket[];
  readonly etag: string | undefined;
}

/** What an alert subscription watches (docs/api.md, "Alerts"). */
export const ALERT_KINDS = [
  'licenseErrors',
  'seatUsage',
  'waitingPrincipals',
  'subscriptionState',
  'groupProcessing',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * An alert subscription of a tenant: where its notifications go, what it watches, and the figures already alerted
 * (`baseline`, by condition key), against which the next evaluation decides what appeared or grew.
 */
export interface AlertSubscriptionRecord {
  readonly tenantId: string;
  readonly id: string;
  readonly kinds: readonly AlertKind[];
  readonly notificationUrl: string;
  readonly clientState: string | null;
  /** Signs every delivery (HMAC-SHA256 of the body); shown once, when the subscription is created. */
  readonly secret: string;
  /** `seatUsage` alerts when a SKU's consumed seats reach this share of its usable seats. */
  readonly seatUsagePercent: number;
  readonly createdDateTime: string;
  readonly baseline: Readonly<Record<string, number>>;
  readonly etag?: string;
}

export type AlertDeliveryStatus = 'pending' | 'delivered' | 'parked' | 'cancelled';

/** One change notification of an alert, in Graph's shape. */
export interface AlertNotification {
  readonly subscriptionId: string;
  readonly clientState: string | null;
  readonly changeType: 'created';
  readonly resource: string;
  readonly tenantId: string;
  readonly resourceData: Readonly<Record<string, unknown>>;
}

/**
 * One POST owed to a receiver: committed with the baseline that decided it (so a decided alert cannot vanish), then
 * attempted until it is delivered or parked. Its body never changes, so every attempt carries the same signature.
 */
export interface AlertDeliveryRecord {
  readonly tenantId: string;
  readonly alertId: string;
  readonly id: string;
  readonly createdDateTime: string;
  readonly status: AlertDeliveryStatus;
  readonly attempts: number;
  /** While pending: when the next attempt is due (the sweep sends the message again once it is well past). */
  readonly nextAttemptDateTime: string;
  readonly lastAttemptDateTime: string | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly notifications: readonly AlertNotification[];
  readonly etag?: string;
}
