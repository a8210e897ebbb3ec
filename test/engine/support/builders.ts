import type { Catalog } from '../../../src/engine/catalog.js';
import type { EvaluationContext, ProxyAddressView } from '../../../src/engine/evaluate.js';
import type { ObservedTenant } from '../../../src/engine/invariants.js';
import type {
  Guid,
  IsoTime,
  LicenseEntry,
  LicenseError,
  LicenseSource,
  LicenseState,
  PrincipalFacts,
  TenantSettings,
} from '../../../src/engine/model.js';
import type { ReferenceTenant } from '../../../src/engine/reference.js';
import { CountingSeatBudget } from '../../../src/engine/seats.js';
import { testCatalog } from './catalog.js';
import { at } from './ids.js';

export function user(
  id: Guid,
  usageLocation: string | null = 'US',
  proxyAddresses: readonly string[] = [],
): PrincipalFacts {
  return { id, kind: 'user', usageLocation, proxyAddresses };
}

export function device(id: Guid): PrincipalFacts {
  return { id, kind: 'device', usageLocation: null, proxyAddresses: [] };
}

/** A group source carrying the given SKUs (`[skuId, ...disabledPlans]` each). */
export function groupSource(
  groupId: Guid,
  since: IsoTime,
  ...licenses: readonly (readonly [Guid, ...Guid[]])[]
): LicenseSource {
  return {
    groupId,
    since,
    licenses: licenses.map(([skuId, ...disabledPlans]) => ({ skuId, disabledPlans })),
  };
}

export function directSource(skuId: Guid, since: IsoTime, ...disabledPlans: Guid[]): LicenseSource {
  return { groupId: null, since, licenses: [{ skuId, disabledPlans }] };
}

export interface ContextOptions {
  readonly catalog?: Catalog;
  /** Free seats per SKU; every SKU named is subscribed. Defaults to plenty of each SKU of the catalog. */
  readonly seats?: Readonly<Record<Guid, number>>;
  readonly subscribed?: readonly Guid[];
  readonly country?: string;
  readonly healing?: TenantSettings['licenseErrorHealing'];
  /** Addresses (any case) whose mailbox another principal already holds. */
  readonly heldAddresses?: readonly string[];
  readonly now?: IsoTime;
}

export interface TestContext extends EvaluationContext {
  /** The context's seats, readable by the test. */
  readonly budget: CountingSeatBudget;
}

export function evaluationContext(options: ContextOptions = {}): TestContext {
  const catalog = options.catalog ?? testCatalog;
  const seats = options.seats ?? Object.fromEntries(catalog.skus.map((s) => [s.skuId, 1000]));
  const subscribed = new Set(options.subscribed ?? Object.keys(seats));
  const budget = new CountingSeatBudget(Object.entries(seats));
  const held = new Set((options.heldAddresses ?? []).map((a) => a.toLowerCase()));
  const proxyAddresses: ProxyAddressView = { isHeldByAnother: (address) => held.has(address) };
  return {
    catalog,
    tenant: {
      countryLetterCode: options.country ?? 'US',
      licenseErrorHealing: options.healing ?? 'automatic',
    },
    isSubscribed: (skuId) => subscribed.has(skuId),
    seats: budget,
    budget,
    proxyAddresses,
    now: options.now ?? at(100),
  };
}

/** An entry as a previous evaluation would have left it. */
export function entry(
  skuId: Guid,
  assignedByGroup: Guid | null,
  state: LicenseState,
  error: LicenseError | 'None' = 'None',
  options: { disabledPlans?: readonly Guid[]; since?: IsoTime; waitingSince?: IsoTime | null } = {},
): LicenseEntry {
  return {
    skuId,
    assignedByGroup,
    disabledPlans: options.disabledPlans ?? [],
    state,
    error,
    lastUpdatedDateTime: options.since ?? at(0),
    since: options.since ?? at(0),
    waitingSince: options.waitingSince ?? (error === 'CountViolation' ? (options.since ?? at(0)) : null),
  };
}

/** What a reader sees of an entry: the fields tests state expectations about. */
export interface EntryView {
  readonly skuId: Guid;
  readonly assignedByGroup: Guid | null;
  readonly state: LicenseState;
  readonly error: LicenseError | 'None';
  readonly disabledPlans: readonly Guid[];
}

export function view(entries: readonly LicenseEntry[]): EntryView[] {
  return entries.map((e) => ({
    skuId: e.skuId,
    assignedByGroup: e.assignedByGroup,
    state: e.state,
    error: e.error,
    disabledPlans: e.disabledPlans,
  }));
}

/** Expected view of an entry; disabled plans default to none. */
export function expectEntry(
  skuId: Guid,
  assignedByGroup: Guid | null,
  state: LicenseState,
  error: LicenseError | 'None' = 'None',
  disabledPlans: readonly Guid[] = [],
): EntryView {
  return { skuId, assignedByGroup, state, error, disabledPlans };
}

/** The tenant as the invariant checker reads it. */
export function observe(tenant: ReferenceTenant): ObservedTenant {
  return { snapshot: tenant.snapshot(), entries: tenant.allEntries(), consumedUnits: tenant.allConsumed() };
}
