/**
 * The licensing engine's vocabulary: plain data, no I/O. Ids are lowercase GUID strings and times are ISO-8601
 * UTC strings, so that every value compares and serialises the same way in storage, tests and the simulator.
 */

export type Guid = string;
export type IsoTime = string;

export type PrincipalKind = 'user' | 'device';
/** What a group's member can be: a user, a device or (nesting) another group. */
export type MemberKind = PrincipalKind | 'group';

/** Graph `licenseAssignmentState.error` values (rules.md §3, in check order, plus the removal-time hold). */
export const LICENSE_ERRORS = [
  'ProhibitedInUsageLocationViolation',
  'MutuallyExclusiveViolation',
  'UniquenessViolation',
  'CountViolation',
  'Other',
  'DependencyViolation',
] as const;
export type LicenseError = (typeof LICENSE_ERRORS)[number];

/** Graph `licenseAssignmentState.state`; `Disabled` marks the suspended licenses of a soft-deleted user. */
export type LicenseState = 'Active' | 'Error' | 'Disabled';

export type LicenseErrorHealing = 'automatic' | 'manual';

export interface TenantSettings {
  /** ISO 3166 alpha-2; the usage location that group sources fall back to. */
  readonly countryLetterCode: string;
  readonly licenseErrorHealing: LicenseErrorHealing;
}

export interface PrepaidUnits {
  readonly enabled: number;
  readonly warning: number;
  readonly suspended: number;
  readonly lockedOut: number;
}

/**
 * A subscription's lifecycle stages (subscriptions.ts): Microsoft 365's Active > Expired > Disabled > Deleted, in
 * Graph's `capabilityStatus` words.
 */
export const SUBSCRIPTION_STATES = ['Active', 'Warning', 'Suspended', 'LockedOut'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

export interface SubscriptionLifecycle {
  readonly state: SubscriptionState;
  readonly startDate: IsoTime;
  /** When the subscription moves to its next stage; `null` when it never does (no end date, or LockedOut). */
  readonly nextLifecycleDate: IsoTime | null;
}

/** What the tenant bought of one SKU, and how many seats are taken. */
export interface Subscription {
  readonly skuId: Guid;
  readonly prepaidUnits: PrepaidUnits;
  readonly consumedUnits: number;
  /** Its dates and stage, when it has them (subscriptions.ts); without, its units are set by hand. */
  readonly lifecycle?: SubscriptionLifecycle;
}

/** The facts of a user or device that licensing looks at. */
export interface PrincipalFacts {
  readonly id: Guid;
  readonly kind: PrincipalKind;
  /** Users only; `null` when unset. Devices have none and are never location-checked. */
  readonly usageLocation: string | null;
  /** Users only; compared case-insensitively. */
  readonly proxyAddresses: readonly string[];
}

export interface LicenseChoice {
  readonly skuId: Guid;
  readonly disabledPlans: readonly Guid[];
}

/**
 * One reason a principal should hold licenses: a direct assignment of one SKU (`groupId: null`), or a group's
 * assignment (all the group's SKUs that apply to this kind of principal, granted all or nothing).
 */
export interface LicenseSource {
  readonly groupId: Guid | null;
  readonly licenses: readonly LicenseChoice[];
  /** When the source reached the principal: the later of the assignment and the membership. */
  readonly since: IsoTime;
}

/** One `licenseAssignmentState` entry: a source's SKU and how it stands. */
export interface LicenseEntry {
  readonly skuId: Guid;
  readonly assignedByGroup: Guid | null;
  readonly disabledPlans: readonly Guid[];
  readonly state: LicenseState;
  readonly error: LicenseError | 'None';
  readonly lastUpdatedDateTime: IsoTime;
  /** When the source reached the principal (ordering key; not a Graph property). */
  readonly since: IsoTime;
  /** Set while the entry is in `CountViolation`: when it started waiting for a seat (FIFO key). */
  readonly waitingSince: IsoTime | null;
}

/** `assignedLicenses` item. */
export interface AssignedLicense {
  readonly skuId: Guid;
  readonly disabledPlans: readonly Guid[];
}

export type CapabilityStatus = 'Enabled' | 'Suspended';

/** `assignedPlans` item (without the Graph `service` name, which adapters add from the catalog). */
export interface AssignedPlan {
  readonly servicePlanId: Guid;
  readonly skuId: Guid;
  readonly capabilityStatus: CapabilityStatus;
}

/** A user's or device's license picture as Graph shows it. */
export interface EffectiveLicenses {
  readonly assignedLicenses: readonly AssignedLicense[];
  readonly assignedPlans: readonly AssignedPlan[];
}

/** Group processing state as Graph's `licenseProcessingState.state`. */
export type ProcessingState = 'QueuedForProcessing' | 'ProcessingInProgress' | 'ProcessingComplete';

export type GroupStatus = 'inProgress' | 'allLicensesAssigned' | 'errorsAndIssues';

/** A group's license assignment as recorded on the group. */
export interface GroupLicenseAssignment {
  readonly skuId: Guid;
  readonly disabledPlans: readonly Guid[];
}

export interface GroupFacts {
  readonly id: Guid;
  readonly securityEnabled: boolean;
  readonly mailEnabled: boolean;
  readonly groupTypes: readonly string[];
}
