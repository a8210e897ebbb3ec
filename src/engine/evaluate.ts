import type { Catalog } from './catalog.js';
import { holdsSeat } from './effective.js';
import type {
  Guid,
  IsoTime,
  LicenseChoice,
  LicenseEntry,
  LicenseError,
  LicenseSource,
  PrincipalFacts,
  TenantSettings,
} from './model.js';
import type { SeatBudget } from './seats.js';

/** Who else has a working mailbox with an address (rules.md §3.3). Addresses are passed lowercased. */
export interface ProxyAddressView {
  isHeldByAnother(address: string, principalId: Guid): boolean;
}

export const NO_PROXY_CONFLICTS: ProxyAddressView = { isHeldByAnother: () => false };

export interface EvaluationContext {
  readonly catalog: Catalog;
  readonly tenant: TenantSettings;
  /** Whether the tenant has a subscription of the SKU at all (one it never bought, or let go, is `Other`). */
  readonly isSubscribed: (skuId: Guid) => boolean;
  readonly seats: SeatBudget;
  readonly proxyAddresses: ProxyAddressView;
  readonly now: IsoTime;
}

export interface PrincipalEvaluation {
  /** The new entries, in canonical order (direct first, then by group id, then by SKU id). */
  readonly entries: LicenseEntry[];
  /** SKUs the principal consumes a seat of afterwards. */
  readonly heldSkus: ReadonlySet<Guid>;
  /** SKUs it took a new seat of, and SKUs whose seat it gave back. */
  readonly seatsTaken: readonly Guid[];
  readonly seatsReleased: readonly Guid[];
  /** Whether it holds an enabled mailbox plan afterwards (its proxy addresses are then taken). */
  readonly mailboxActive: boolean;
  /** Whether anything a reader can see changed (timestamps aside). */
  readonly changed: boolean;
}

/** Identifies a source among a principal's entries: the group, or the directly assigned SKU. */
export function sourceKey(groupId: Guid | null, skuId: Guid): string {
  return groupId === null ? `direct:${skuId}` : `group:${groupId}`;
}

interface PreparedSource {
  readonly key: string;
  readonly source: LicenseSource;
  readonly licenses: readonly LicenseChoice[];
  readonly enabledPlans: readonly Guid[];
  readonly wasGranted: boolean;
}

interface Verdict {
  readonly granted: boolean;
  readonly error: LicenseError | 'None';
}

const GRANTED: Verdict = { granted: true, error: 'None' };

/** The reasons rules.md §3 checks after conflicts. */
const CHECKED_AFTER_CONFLICTS: ReadonlySet<LicenseError | 'None'> = new Set([
  'UniquenessViolation',
  'CountViolation',
  'Other',
]);

/**
 * Evaluates one principal (rules.md §3): walks its sources in the fixed order — sources already granted first,
 * then by the time they reached the principal, then by group id — and grants each source all or nothing, or
 * records the first failing reason. Sources that went away but still carry a prerequisite of a held plan stay as
 * `DependencyViolation`. Seats come from `context.seats`; the principal's own held seats are its own.
 */
export function evaluatePrincipal(
  context: EvaluationContext,
  principal: PrincipalFacts,
  sources: readonly LicenseSource[],
  previous: readonly LicenseEntry[],
): PrincipalEvaluation {
  const { catalog } = context;
  const previouslyHeld = new Set<Guid>();
  const previousBySource = new Map<string, LicenseEntry[]>();
  for (const entry of previous) {
    if (holdsSeat(entry)) previouslyHeld.add(entry.skuId);
    const key = sourceKey(entry.assignedByGroup, entry.skuId);
    const list = previousBySource.get(key);
    if (list) list.push(entry);
    else previousBySource.set(key, [entry]);
  }

  const prepared = prepareSources(catalog, principal, sources, previousBySource);
  const heldPlans = new Set<Guid>();
  const heldSkus = new Set<Guid>();
  let mailboxActive = false;
  const verdicts = new Map<string, Verdict>();

  for (const candidate of prepared) {
    const verdict = judge(context, principal, candidate, heldPlans, heldSkus, previouslyHeld, mailboxActive);
    verdicts.set(candidate.key, verdict);
    if (!verdict.granted) continue;
    for (const plan of candidate.enabledPlans) {
      heldPlans.add(plan);
      if (catalog.isMailboxPlan(plan)) mailboxActive = true;
    }
    for (const license of candidate.licenses) heldSkus.add(license.skuId);
  }

  // rules.md §3 reports the *first* failing reason, and conflicts (check 2) come before uniqueness, seats and the
  // rest: a source that failed one of those is checked again against everything the principal ends up holding, so a
  // conflict with a source granted after it in the order is reported as the conflict it is. Otherwise the reason
  // would depend on the order of evaluation, and evaluating again (granted sources go first) would change it.
  for (const candidate of prepared) {
    const verdict = verdicts.get(candidate.key);
    if (!verdict || verdict.granted || !CHECKED_AFTER_CONFLICTS.has(verdict.error)) continue;
    if (conflictsWith(catalog, candidate.enabledPlans, heldPlans)) {
      verdicts.set(candidate.key, { granted: false, error: 'MutuallyExclusiveViolation' });
    }
  }

  const currentKeys = new Set(prepared.map((p) => p.key));
  // A suspended source (its user was soft-deleted) gave its seat back, so holding it again needs a new one.
  const takeSeatsFor = (entries: readonly LicenseEntry[]): boolean => {
    const needed = [...new Set(entries.map((e) => e.skuId))].filter(
      (skuId) => !heldSkus.has(skuId) && !previouslyHeld.has(skuId),
    );
    if (needed.length > 0 && !context.seats.tryTake(needed, principal.id)) return false;
    for (const skuId of needed) heldSkus.add(skuId);
    return true;
  };
  const kept = keepDependencyHolds(catalog, previousBySource, currentKeys, heldPlans, takeSeatsFor);
  for (const entries of kept) {
    for (const entry of entries) {
      heldSkus.add(entry.skuId);
      for (const plan of catalog.enabledPlans(entry.skuId, entry.disabledPlans)) {
        heldPlans.add(plan);
        if (catalog.isMailboxPlan(plan)) mailboxActive = true;
      }
    }
  }

  const entries: LicenseEntry[] = [];
  for (const candidate of prepared) {
    const verdict = verdicts.get(candidate.key) ?? GRANTED;
    const before = previousBySource.get(candidate.key);
    for (const license of candidate.licenses) {
      const old = before?.find((e) => e.skuId === license.skuId);
      entries.push(
        nextEntry(old, {
          skuId: license.skuId,
          assignedByGroup: candidate.source.groupId,
          disabledPlans: sortedUnique(license.disabledPlans),
          state: verdict.granted ? 'Active' : 'Error',
          error: verdict.error,
          since: candidate.source.since,
          now: context.now,
        }),
      );
    }
  }
  for (const group of kept) {
    for (const old of group) {
      entries.push(
        nextEntry(old, {
          skuId: old.skuId,
          assignedByGroup: old.assignedByGroup,
          disabledPlans: old.disabledPlans,
          state: 'Error',
          error: 'DependencyViolation',
          since: old.since,
          now: context.now,
        }),
      );
    }
  }
  entries.sort(compareEntries);

  const seatsTaken = [...heldSkus].filter((sku) => !previouslyHeld.has(sku)).sort();
  const seatsReleased = [...previouslyHeld].filter((sku) => !heldSkus.has(sku)).sort();
  for (const skuId of seatsReleased) context.seats.release(skuId);

  return {
    entries,
    heldSkus,
    seatsTaken,
    seatsReleased,
    mailboxActive,
    changed: seatsTaken.length > 0 || seatsReleased.length > 0 || !sameEntries(previous, entries),
  };
}

function prepareSources(
  catalog: Catalog,
  principal: PrincipalFacts,
  sources: readonly LicenseSource[],
  previousBySource: ReadonlyMap<string, readonly LicenseEntry[]>,
): PreparedSource[] {
  const prepared: PreparedSource[] = [];
  for (const source of sources) {
    // A source only carries the SKUs that apply to this kind of principal (users get user SKUs, devices device SKUs).
    const licenses = source.licenses.filter((l) => catalog.sku(l.skuId)?.assignableTo === principal.kind);
    if (licenses.length === 0) continue;
    const firstSku = licenses[0]?.skuId ?? '';
    const key = sourceKey(source.groupId, firstSku);
    if (source.groupId === null && licenses.length > 1) {
      // Direct sources are one SKU each; split defensively so each keeps its own entry and verdict.
      for (const license of licenses) {
        prepared.push(prepare(catalog, { ...source, licenses: [license] }, [license], previousBySource));
      }
      continue;
    }
    prepared.push(prepare(catalog, source, licenses, previousBySource, key));
  }
  prepared.sort(compareSources);
  return prepared;
}

function prepare(
  catalog: Catalog,
  source: LicenseSource,
  licenses: readonly LicenseChoice[],
  previousBySource: ReadonlyMap<string, readonly LicenseEntry[]>,
  key = sourceKey(source.groupId, licenses[0]?.skuId ?? ''),
): PreparedSource {
  const enabledPlans: Guid[] = [];
  for (const license of licenses)
    enabledPlans.push(...catalog.enabledPlans(license.skuId, license.disabledPlans));
  const before = previousBySource.get(key);
  const wasGranted = before?.some(holdsSeat) ?? false;
  return { key, source, licenses, enabledPlans, wasGranted };
}

function compareSources(a: PreparedSource, b: PreparedSource): number {
  if (a.wasGranted !== b.wasGranted) return a.wasGranted ? -1 : 1;
  if (a.source.since !== b.source.since) return a.source.since < b.source.since ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The checks of rules.md §3, in their order; the first that fails names the error. */
function judge(
  context: EvaluationContext,
  principal: PrincipalFacts,
  candidate: PreparedSource,
  heldPlans: ReadonlySet<Guid>,
  heldSkus: ReadonlySet<Guid>,
  previouslyHeld: ReadonlySet<Guid>,
  mailboxActive: boolean,
): Verdict {
  const { catalog } = context;

  if (principal.kind === 'user') {
    // Group sources inherit the tenant's country; a direct source needs the user's own usage location.
    const location =
      principal.usageLocation ??
      (candidate.source.groupId !== null ? context.tenant.countryLetterCode : null);
    if (location === null || candidate.enabledPlans.some((plan) => catalog.isProhibitedIn(plan, location))) {
      return { granted: false, error: 'ProhibitedInUsageLocationViolation' };
    }
  }

  if (conflictsWith(catalog, candidate.enabledPlans, heldPlans)) {
    return { granted: false, error: 'MutuallyExclusiveViolation' };
  }

  if (
    principal.kind === 'user' &&
    !mailboxActive &&
    candidate.enabledPlans.some((p) => catalog.isMailboxPlan(p))
  ) {
    for (const address of principal.proxyAddresses) {
      if (context.proxyAddresses.isHeldByAnother(address.toLowerCase(), principal.id)) {
        return { granted: false, error: 'UniquenessViolation' };
      }
    }
  }

  const needed: Guid[] = [];
  let unsubscribed = false;
  for (const license of candidate.licenses) {
    if (!context.isSubscribed(license.skuId)) unsubscribed = true;
    else if (
      !heldSkus.has(license.skuId) &&
      !previouslyHeld.has(license.skuId) &&
      !needed.includes(license.skuId)
    ) {
      needed.push(license.skuId);
    }
  }
  if (needed.length > 0 && !context.seats.tryTake(needed, principal.id)) {
    return { granted: false, error: 'CountViolation' };
  }
  if (unsubscribed) {
    // Seats (check 4) come before "anything else" (5): a SKU the tenant does not subscribe to is `Other` only once
    // the source's other SKUs have their seats, and those seats go straight back because the source fails.
    for (const skuId of needed) context.seats.release(skuId);
    return { granted: false, error: 'Other' };
  }
  return GRANTED;
}

/** Whether a source's enabled plans exclude a held plan, or one another (a source that conflicts with itself). */
function conflictsWith(
  catalog: Catalog,
  enabledPlans: readonly Guid[],
  heldPlans: ReadonlySet<Guid>,
): boolean {
  for (const plan of enabledPlans) {
    for (const excluded of catalog.exclusionsOf(plan)) {
      if (heldPlans.has(excluded) || enabledPlans.includes(excluded)) return true;
    }
  }
  return false;
}

/**
 * rules.md §3 "Dependencies": a source that went away (the principal left the group, or the group's license was
 * removed) is kept while a plan the principal still holds needs a prerequisite that only this source provides.
 * Repeats until stable, because a kept source's own plans can need another departed source.
 *
 * A restored user's suspended (`Disabled`) entries count as held too (rules.md §7.5: soft delete and restore give
 * back the state from before, wherever seats allow): `takeSeats` re-takes their seats, and a hold that finds no
 * seat is let go rather than kept without one.
 */
function keepDependencyHolds(
  catalog: Catalog,
  previousBySource: ReadonlyMap<string, readonly LicenseEntry[]>,
  currentKeys: ReadonlySet<string>,
  heldPlans: ReadonlySet<Guid>,
  takeSeats: (entries: readonly LicenseEntry[]) => boolean,
): (readonly LicenseEntry[])[] {
  const departed: { entries: readonly LicenseEntry[]; plans: Set<Guid> }[] = [];
  for (const [key, entries] of previousBySource) {
    if (currentKeys.has(key) || !entries.some((e) => holdsSeat(e) || e.state === 'Disabled')) continue;
    const plans = new Set<Guid>();
    for (const entry of entries) {
      for (const plan of catalog.enabledPlans(entry.skuId, entry.disabledPlans)) plans.add(plan);
    }
    departed.push({ entries, plans });
  }
  if (departed.length === 0) return [];

  const keptPlans = new Set(heldPlans);
  const kept: (readonly LicenseEntry[])[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = departed.length - 1; i >= 0; i--) {
      const candidate = departed[i];
      if (!candidate || !providesMissingPrerequisite(catalog, keptPlans, candidate.plans)) continue;
      departed.splice(i, 1);
      if (!takeSeats(candidate.entries)) continue;
      kept.push(candidate.entries);
      for (const plan of candidate.plans) keptPlans.add(plan);
      changed = true;
    }
  }
  return kept;
}

function providesMissingPrerequisite(
  catalog: Catalog,
  held: ReadonlySet<Guid>,
  offered: ReadonlySet<Guid>,
): boolean {
  for (const plan of held) {
    const prerequisites = catalog.prerequisitesOf(plan);
    if (!prerequisites) continue;
    if (prerequisites.some((p) => held.has(p))) continue;
    if (prerequisites.some((p) => offered.has(p))) return true;
  }
  return false;
}

interface EntryFields {
  readonly skuId: Guid;
  readonly assignedByGroup: Guid | null;
  readonly disabledPlans: readonly Guid[];
  readonly state: LicenseEntry['state'];
  readonly error: LicenseEntry['error'];
  readonly since: IsoTime;
  readonly now: IsoTime;
}

/** Builds an entry, keeping its timestamps when nothing a reader sees has changed. */
function nextEntry(old: LicenseEntry | undefined, fields: EntryFields): LicenseEntry {
  const same =
    old !== undefined &&
    old.state === fields.state &&
    old.error === fields.error &&
    sameList(old.disabledPlans, fields.disabledPlans);
  const waiting = fields.error === 'CountViolation';
  return {
    skuId: fields.skuId,
    assignedByGroup: fields.assignedByGroup,
    disabledPlans: fields.disabledPlans,
    state: fields.state,
    error: fields.error,
    lastUpdatedDateTime: same && old ? old.lastUpdatedDateTime : fields.now,
    since: fields.since,
    waitingSince: waiting
      ? old?.error === 'CountViolation'
        ? (old.waitingSince ?? fields.now)
        : fields.now
      : null,
  };
}

export function compareEntries(a: LicenseEntry, b: LicenseEntry): number {
  const ga = a.assignedByGroup ?? '';
  const gb = b.assignedByGroup ?? '';
  if (ga !== gb) return ga < gb ? -1 : 1;
  return a.skuId < b.skuId ? -1 : a.skuId > b.skuId ? 1 : 0;
}

/** Equality of what Graph shows for entries, ignoring timestamps. */
export function sameEntries(a: readonly LicenseEntry[], b: readonly LicenseEntry[]): boolean {
  if (a.length !== b.length) return false;
  const left = [...a].sort(compareEntries);
  const right = [...b].sort(compareEntries);
  return left.every((entry, i) => {
    const other = right[i];
    return (
      other !== undefined &&
      entry.skuId === other.skuId &&
      entry.assignedByGroup === other.assignedByGroup &&
      entry.state === other.state &&
      entry.error === other.error &&
      sameList(entry.disabledPlans, other.disabledPlans)
    );
  });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sortedA = [...a].sort();
  const sortedB = [...b].sort();
  return sortedA.every((value, i) => value === sortedB[i]);
}

export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
