// The simulator's oracle: what the service's licensing state must be, decided from the rules of rules.md written
// out again here, apart from the engine. It shares the catalog's data with the engine and nothing of its code, so
// an engine bug shows up as a difference instead of agreeing with itself. docs/simulator.md says how it differs
// from the engine and why.
//
// The engine is history: it replays sources in the order they arrived, keeps what was granted, lets waiters in
// first come first served. The oracle does not replay anything. It takes the service's answer and checks, entry by
// entry, that each state is one the rules allow given everything else the answer shows — who holds which plans,
// seats and mailboxes — and that the tenant-wide facts hold (seats exact and within Total, one mailbox per
// address, nobody waiting beside a free seat). Where the rules leave the outcome to the order of events, it checks
// what must hold rather than guessing the one outcome:
// - which principals got the last seats of a short SKU: any, as long as seats held = consumedUnits ≤ Total and
//   every other claimant waits in CountViolation (and, with automatic healing, only while a SKU it lacks is full);
// - which of two conflicting sources won: either, as long as the winner is Active, the other is in
//   MutuallyExclusiveViolation because of it, and no two Active sources conflict;
// - which user got a shared proxy address's mailbox: any one, the others refused (UniquenessViolation) or still
//   waiting for a seat;
// - a dependency hold (rules.md §3): an entry kept from a source the principal no longer has must be in
//   DependencyViolation and still carry a prerequisite of a plan the principal holds, which nothing Active gives;
// - with manual healing, a refusal for seats or for an address may be stale (nothing re-evaluates it);
// - a soft-deleted user's entries: all Disabled, holding no seat; which ones it kept is history (§5).
import { loadCatalogData } from '../catalog/load.js';
import type { CatalogData } from '../engine/catalog.js';
import type { ObservedTenant } from '../engine/index.js';
import { recordedMemberships, type SimState } from './state.js';

export interface OracleLicense {
  readonly skuId: string;
  readonly disabledPlans: readonly string[];
}

export interface OracleUser {
  readonly id: string;
  readonly usageLocation: string | null;
  readonly proxyAddresses: readonly string[];
  readonly deleted: boolean;
  readonly direct: readonly OracleLicense[];
}

/** The tenant as its record says it is: what the service was asked to hold. */
export interface OracleTenant {
  readonly countryLetterCode: string;
  readonly licenseErrorHealing: 'automatic' | 'manual';
  /** Total (enabled + warning) of every SKU the tenant subscribes to; a SKU not here is not subscribed. */
  readonly totals: ReadonlyMap<string, number>;
  /** SKUs whose units were lowered below what was consumed: only they may hold more seats than Total. */
  readonly lowered: ReadonlySet<string>;
  readonly users: readonly OracleUser[];
  readonly devices: readonly string[];
  readonly groups: readonly { readonly id: string; readonly licenses: readonly OracleLicense[] }[];
  /** Direct memberships: the group, and its member (a user, a device or a nested group). */
  readonly memberships: readonly OracleMembership[];
}

export interface OracleMembership {
  readonly groupId: string;
  readonly memberId: string;
  readonly kind: 'user' | 'device' | 'group';
}

/** One `licenseAssignmentState` as the service reports it. */
export interface ServiceEntry {
  readonly skuId: string;
  readonly assignedByGroup: string | null;
  readonly disabledPlans: readonly string[];
  readonly state: string;
  readonly error: string;
}

export interface ServicePrincipal {
  readonly entries: readonly ServiceEntry[];
  /** `assignedLicenses`, when it was read. */
  readonly assignedLicenses?: readonly OracleLicense[];
}

/** What the service says, once idle: every principal's entries, and `consumedUnits` per SKU. */
export interface ServiceAnswer {
  readonly principals: ReadonlyMap<string, ServicePrincipal>;
  readonly consumedUnits: ReadonlyMap<string, number>;
}

export type OracleCheck =
  | 'entries'
  | 'verdict'
  | 'dependencyHold'
  | 'effective'
  | 'suspended'
  | 'seats'
  | 'idleSeat'
  | 'idleAddress'
  | 'uniqueness';

export interface OracleDifference {
  readonly check: OracleCheck;
  readonly principalId?: string;
  readonly skuId?: string;
  readonly message: string;
}

export interface OracleOptions {
  /** Names ids in messages (SKU part numbers, user names); ids as they are by default. */
  readonly label?: (id: string) => string;
}

/** The catalog's rule data as plain lookups. */
class Rules {
  private readonly plans = new Map<string, readonly string[]>();
  private readonly enabled = new Map<string, readonly string[]>();
  private readonly kinds = new Map<string, 'user' | 'device'>();
  private readonly mailboxPlans: ReadonlySet<string>;
  private readonly excluded = new Map<string, Set<string>>();
  private readonly prerequisites = new Map<string, readonly string[]>();
  private readonly bannedEverywhere: ReadonlySet<string>;
  private readonly bannedByPlan = new Map<string, ReadonlySet<string>>();

  constructor(catalog: CatalogData) {
    for (const sku of catalog.skus) {
      this.plans.set(
        sku.skuId,
        sku.servicePlans.map((p) => p.servicePlanId),
      );
      this.kinds.set(sku.skuId, sku.assignableTo);
    }
    this.mailboxPlans = new Set(catalog.rules.mailboxPlans);
    for (const [a, b] of catalog.rules.mutuallyExclusive) {
      this.excluded.set(a, new Set([...(this.excluded.get(a) ?? []), b]));
      this.excluded.set(b, new Set([...(this.excluded.get(b) ?? []), a]));
    }
    for (const d of catalog.rules.dependencies) this.prerequisites.set(d.servicePlanId, d.requiresAnyOf);
    this.bannedEverywhere = new Set(
      catalog.rules.prohibitedUsageLocations.allPlans.map((c) => c.toUpperCase()),
    );
    for (const p of catalog.rules.prohibitedUsageLocations.byPlan)
      this.bannedByPlan.set(p.servicePlanId, new Set(p.countries.map((c) => c.toUpperCase())));
  }

  kindOf(skuId: string): 'user' | 'device' | undefined {
    return this.kinds.get(skuId);
  }

  /** The plans a license leaves enabled: its SKU's plans but the disabled ones (remembered: a tenant has few). */
  enabledPlans(license: OracleLicense): readonly string[] {
    const key = `${license.skuId} ${license.disabledPlans.join()}`;
    let plans = this.enabled.get(key);
    if (!plans) {
      plans = (this.plans.get(license.skuId) ?? []).filter((p) => !license.disabledPlans.includes(p));
      this.enabled.set(key, plans);
    }
    return plans;
  }

  isMailbox(plan: string): boolean {
    return this.mailboxPlans.has(plan);
  }

  /** A plan of `plans` and a plan it may not be held with, among `plans` themselves or those `held` says. */
  conflict(plans: ReadonlySet<string>, held: (plan: string) => boolean): [string, string] | undefined {
    for (const plan of plans) {
      for (const excluded of this.excluded.get(plan) ?? []) {
        if (plans.has(excluded) || held(excluded)) return [plan, excluded];
      }
    }
    return undefined;
  }

  prerequisitesOf(plan: string): readonly string[] | undefined {
    return this.prerequisites.get(plan);
  }

  prohibitedIn(plan: string, country: string): boolean {
    const code = country.toUpperCase();
    return this.bannedEverywhere.has(code) || (this.bannedByPlan.get(plan)?.has(code) ?? false);
  }
}

/** A reason the principal should hold licenses: a direct license, or a group's licenses for its kind. */
interface Source {
  readonly key: string;
  readonly groupId: string | null;
  readonly licenses: readonly OracleLicense[];
}

const sourceKey = (groupId: string | null, skuId: string) =>
  groupId === null ? `direct ${skuId}` : `group ${groupId}`;
const entryKey = (groupId: string | null, skuId: string) => `${groupId ?? 'direct'} ${skuId}`;
const holdsSeat = (e: ServiceEntry) =>
  e.state === 'Active' || (e.state === 'Error' && e.error === 'DependencyViolation');
const NOT_IDLE = { seat: false, address: false };
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
const sameSet = (a: Iterable<string>, b: Iterable<string>) => sorted(a).join() === sorted(b).join();

/**
 * Judges the service's answer against the tenant's record and the rules; returns every difference (none when the
 * answer is one the rules allow). Principals the record lacks are not judged (the caller compares directories).
 */
export function judgeTenant(
  catalog: CatalogData,
  tenant: OracleTenant,
  answer: ServiceAnswer,
  options: OracleOptions = {},
): OracleDifference[] {
  const rules = new Rules(catalog);
  const name = options.label ?? ((id: string) => id);
  const differences: OracleDifference[] = [];
  const entriesOf = (id: string) => answer.principals.get(id)?.entries ?? [];

  // Who holds what, as the service says: seats per SKU, and the working mailbox of each proxy address.
  const activeUsers = tenant.users.filter((u) => !u.deleted);
  const seatHolders = new Map<string, number>();
  const mailboxes = new Map<string, string[]>();
  for (const id of [...activeUsers.map((u) => u.id), ...tenant.devices]) {
    const entries = entriesOf(id);
    for (const skuId of new Set(entries.filter(holdsSeat).map((e) => e.skuId)))
      seatHolders.set(skuId, (seatHolders.get(skuId) ?? 0) + 1);
  }
  for (const user of activeUsers) {
    const working = entriesOf(user.id)
      .filter(holdsSeat)
      .some((e) => rules.enabledPlans(e).some((p) => rules.isMailbox(p)));
    if (!working) continue;
    for (const address of new Set(user.proxyAddresses.map((a) => a.toLowerCase())))
      mailboxes.set(address, [...(mailboxes.get(address) ?? []), user.id]);
  }
  const free = (skuId: string) => (tenant.totals.get(skuId) ?? 0) - (seatHolders.get(skuId) ?? 0) > 0;

  // §7.1 seats: consumedUnits is the number of principals holding a seat, and no more than Total.
  for (const skuId of sorted([
    ...tenant.totals.keys(),
    ...seatHolders.keys(),
    ...answer.consumedUnits.keys(),
  ])) {
    const held = seatHolders.get(skuId) ?? 0;
    const reported = answer.consumedUnits.get(skuId) ?? 0;
    const total = tenant.totals.get(skuId) ?? 0;
    if (reported !== held)
      differences.push({
        check: 'seats',
        skuId,
        message: `consumedUnits of ${name(skuId)} is ${reported} but ${held} principals hold a seat`,
      });
    if (held > total && !tenant.lowered.has(skuId))
      differences.push({
        check: 'seats',
        skuId,
        message: `${held} seats of ${name(skuId)} are held but the tenant owns ${total}`,
      });
  }
  // §3.3: a proxy address backs one working mailbox.
  for (const [address, holders] of mailboxes) {
    if (holders.length > 1)
      differences.push({
        check: 'uniqueness',
        principalId: holders[1] ?? '',
        message: `proxy address ${address} has a working mailbox on ${holders.map(name).join(' and ')}`,
      });
  }

  // §2: the sources of each principal. Users: direct licenses and the groups they are a direct member of (user
  // SKUs). Devices: the groups they are in, directly or through groups nested in them, transitively (device SKUs).
  const licensesOf = new Map(tenant.groups.map((g) => [g.id, g.licenses] as const));
  const groupsOf = new Map<string, string[]>();
  for (const m of tenant.memberships)
    groupsOf.set(m.memberId, [...(groupsOf.get(m.memberId) ?? []), m.groupId]);
  const groupSources = (groupIds: Iterable<string>, kind: 'user' | 'device'): Source[] => {
    const sources: Source[] = [];
    for (const groupId of groupIds) {
      const licenses = (licensesOf.get(groupId) ?? []).filter((l) => rules.kindOf(l.skuId) === kind);
      if (licenses.length > 0) sources.push({ key: sourceKey(groupId, ''), groupId, licenses });
    }
    return sources;
  };
  const groupsAbove = (memberId: string): Set<string> => {
    const found = new Set<string>();
    const pending = [...(groupsOf.get(memberId) ?? [])];
    for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
      if (found.has(id)) continue;
      found.add(id);
      pending.push(...(groupsOf.get(id) ?? []));
    }
    return found;
  };

  // The plans a source enables, once per distinct source (every member of a group has the same).
  const enabledSets = new Map<string, ReadonlySet<string>>();
  const enabledBy = (licenses: readonly OracleLicense[]): ReadonlySet<string> => {
    const key = licenses.map((l) => `${l.skuId}:${l.disabledPlans.join()}`).join(' ');
    let plans = enabledSets.get(key);
    if (!plans) {
      plans = new Set(licenses.flatMap((l) => rules.enabledPlans(l)));
      enabledSets.set(key, plans);
    }
    return plans;
  };

  const judge = (id: string, user: OracleUser | undefined, sources: readonly Source[]) => {
    const who = `${user ? 'user' : 'device'} ${name(id)}`;
    const entries = entriesOf(id);
    const push = (check: OracleCheck, message: string, skuId?: string) =>
      differences.push({
        check,
        principalId: id,
        ...(skuId ? { skuId } : {}),
        message: `${who}: ${message}`,
      });

    // Each source has one entry per SKU, with the source's disabled plans; nothing else but dependency holds.
    const byKey = new Map<string, ServiceEntry>();
    for (const entry of entries) {
      const key = entryKey(entry.assignedByGroup, entry.skuId);
      if (byKey.has(key)) push('entries', `two entries of ${describe(entry, name)}`, entry.skuId);
      byKey.set(key, entry);
      const wellFormed =
        (entry.state === 'Active' && entry.error === 'None') ||
        (entry.state === 'Error' && entry.error !== 'None');
      if (!wellFormed) push('entries', `${describe(entry, name)} is not Active/None or Error/<reason>`);
    }
    const expectedKeys = new Set<string>();
    const found = new Map<string, ServiceEntry[]>();
    for (const source of sources) {
      const list: ServiceEntry[] = [];
      for (const license of source.licenses) {
        const key = entryKey(source.groupId, license.skuId);
        expectedKeys.add(key);
        const entry = byKey.get(key);
        const via = source.groupId === null ? 'directly' : `through group ${name(source.groupId)}`;
        if (!entry) {
          push('entries', `has no entry of ${name(license.skuId)} ${via}`, license.skuId);
          continue;
        }
        if (!sameSet(entry.disabledPlans, license.disabledPlans))
          push(
            'entries',
            `${describe(entry, name)} disables [${sorted(entry.disabledPlans).map(name)}], the assignment [${sorted(license.disabledPlans).map(name)}]`,
            license.skuId,
          );
        list.push(entry);
      }
      found.set(source.key, list);
    }
    const holds = new Map<string, ServiceEntry[]>();
    for (const entry of entries) {
      if (expectedKeys.has(entryKey(entry.assignedByGroup, entry.skuId))) continue;
      if (entry.state === 'Error' && entry.error === 'DependencyViolation') {
        const key = sourceKey(entry.assignedByGroup, entry.skuId);
        holds.set(key, [...(holds.get(key) ?? []), entry]);
      } else push('entries', `has ${describe(entry, name)} but no such source`, entry.skuId);
    }

    // What each of the principal's sources holds, as the service says: the SKUs and enabled plans of its entries
    // that hold a seat, and of those that are Active.
    const heldBy = new Map<
      string,
      { skus: Set<string>; plans: (readonly string[])[]; active: (readonly string[])[] }
    >();
    for (const entry of entries) {
      if (!holdsSeat(entry)) continue;
      const key = sourceKey(entry.assignedByGroup, entry.skuId);
      const held = heldBy.get(key) ?? { skus: new Set<string>(), plans: [], active: [] };
      held.skus.add(entry.skuId);
      held.plans.push(rules.enabledPlans(entry));
      if (entry.state === 'Active') held.active.push(rules.enabledPlans(entry));
      heldBy.set(key, held);
    }
    /** Whether a source other than `key` holds something. */
    const elsewhere = (key: string, test: (held: NonNullable<ReturnType<typeof heldBy.get>>) => boolean) =>
      [...heldBy].some(([k, held]) => k !== key && test(held));
    const activeElsewhere = (key: string, plan: string) =>
      elsewhere(key, (held) => held.active.some((plans) => plans.includes(plan)));

    // §3: each source's state and error must be one the rules allow, checked in the rules' order.
    for (const source of sources) {
      const list = found.get(source.key) ?? [];
      const [first] = list;
      if (!first) continue;
      const verdict = `${first.state}/${first.error}`;
      const label = source.groupId === null ? `direct ${name(first.skuId)}` : `group ${name(source.groupId)}`;
      if (list.some((e) => `${e.state}/${e.error}` !== verdict)) {
        push(
          'verdict',
          `the entries of ${label} differ (${list.map((e) => describe(e, name)).join(', ')}): a source is granted all or nothing`,
        );
        continue;
      }
      const { allowed, why, idle } = allowedVerdicts(source, enabledBy(source.licenses));
      if (allowed.includes(verdict)) continue;
      // A waiter beside a free seat, or refused an address nobody's mailbox holds, is a failure to heal (§6, §7.2).
      const check =
        verdict === 'Error/CountViolation' && idle.seat
          ? 'idleSeat'
          : verdict === 'Error/UniquenessViolation' && idle.address
            ? 'idleAddress'
            : 'verdict';
      push(check, `${label} is ${verdict}, expected ${allowed.join(' or ')} (${why()})`, first.skuId);
    }

    // §3 dependencies: a hold still carries a prerequisite of a plan held (by another source) that nothing Active
    // gives.
    for (const [key, held] of holds) {
      const offered = held.flatMap((e) => rules.enabledPlans(e));
      const needed = [...heldBy]
        .filter(([k]) => k !== key)
        .flatMap(([, other]) => other.plans.flat())
        .some((plan) => {
          const prerequisites = rules.prerequisitesOf(plan) ?? [];
          return (
            prerequisites.some((p) => offered.includes(p)) &&
            !prerequisites.some((p) => activeElsewhere('', p))
          );
        });
      if (!needed)
        push(
          'dependencyHold',
          `keeps ${held.map((e) => describe(e, name)).join(', ')} though no plan it holds needs it any more`,
          held[0]?.skuId,
        );
    }

    // §3 effective licenses: one per SKU held, disabling what every holding entry disables.
    checkEffective(id, entries.filter(holdsSeat), push);

    /**
     * The verdicts the rules allow a source, given everything else the principal holds: the checks of rules.md §3
     * in their order, the first that fails deciding. Where the order of events decides (seats, shared addresses),
     * every verdict that order could give is allowed.
     */
    function allowedVerdicts(
      source: Source,
      enabled: ReadonlySet<string>,
    ): { allowed: string[]; why: () => string; idle: { seat: boolean; address: boolean } } {
      // 1. Usage location: the user's own, or for group sources the tenant's when it has none. Devices have none.
      if (user) {
        const location = user.usageLocation ?? (source.groupId === null ? null : tenant.countryLetterCode);
        if (location === null)
          return {
            allowed: ['Error/ProhibitedInUsageLocationViolation'],
            why: () => 'a direct license needs the user’s own usage location',
            idle: NOT_IDLE,
          };
        const banned = [...enabled].find((p) => rules.prohibitedIn(p, location));
        if (banned !== undefined)
          return {
            allowed: ['Error/ProhibitedInUsageLocationViolation'],
            why: () => `${name(banned)} is prohibited in ${location}`,
            idle: NOT_IDLE,
          };
      }
      // 2. Conflicts with what the principal's other Active sources enable, or within the source itself.
      const conflict = rules.conflict(enabled, (plan) => activeElsewhere(source.key, plan));
      if (conflict !== undefined)
        return {
          allowed: ['Error/MutuallyExclusiveViolation'],
          why: () => `${name(conflict[0])} excludes ${name(conflict[1])}`,
          idle: NOT_IDLE,
        };

      // 3. Uniqueness: a first mailbox whose proxy address another user's working mailbox holds. Whoever got the
      // address first keeps it; with manual healing a refusal may outlive the holder's mailbox.
      const firstMailbox =
        user !== undefined &&
        [...enabled].some((p) => rules.isMailbox(p)) &&
        !elsewhere(source.key, (held) => held.plans.some((plans) => plans.some((p) => rules.isMailbox(p))));
      const holder = user?.proxyAddresses
        .flatMap((a) => mailboxes.get(a.toLowerCase()) ?? [])
        .find((other) => other !== id);
      const refused = firstMailbox && holder !== undefined;
      // 4. Seats: one of each SKU it does not hold through another source. Whoever came first got the last seats;
      // the others wait, and with automatic healing only while a SKU they lack has no seat free.

      const subscribed = source.licenses.map((l) => l.skuId).filter((s) => tenant.totals.has(s));
      const needed = subscribed.filter((s) => !elsewhere(source.key, (held) => held.skus.has(s)));
      const mayWait = needed.length > 0 && (tenant.licenseErrorHealing === 'manual' || !needed.every(free));
      // 5. Anything else: a SKU the tenant does not subscribe to.
      const unsubscribed = subscribed.length < source.licenses.length;

      const allowed: string[] = [];
      if (!refused && !unsubscribed) allowed.push('Active/None');
      if (refused || (firstMailbox && tenant.licenseErrorHealing === 'manual'))
        allowed.push('Error/UniquenessViolation');
      if (mayWait) allowed.push('Error/CountViolation');
      if (unsubscribed) allowed.push('Error/Other');
      const why = () =>
        [
          refused ? `${name(holder ?? '')} holds a mailbox on one of its proxy addresses` : '',
          needed.length === 0
            ? 'it holds every SKU of the source already'
            : `free seats: ${needed.map((s) => `${name(s)} ${Math.max(0, (tenant.totals.get(s) ?? 0) - (seatHolders.get(s) ?? 0))}`).join(', ')}`,
          unsubscribed ? 'a SKU the tenant does not subscribe to' : '',
        ]
          .filter((w) => w !== '')
          .join('; ');
      const automatic = tenant.licenseErrorHealing === 'automatic';
      return {
        allowed,
        why,
        idle: {
          seat: automatic && needed.length > 0 && needed.every(free),
          address: automatic && firstMailbox && holder === undefined,
        },
      };
    }
  };

  const checkEffective = (
    id: string,
    counted: readonly ServiceEntry[],
    push: (check: OracleCheck, message: string) => void,
  ) => {
    const shown = answer.principals.get(id)?.assignedLicenses;
    if (!shown) return;
    const disabled = new Map<string, Set<string>>();
    for (const entry of counted) {
      const known = disabled.get(entry.skuId);
      disabled.set(
        entry.skuId,
        known
          ? new Set([...known].filter((p) => entry.disabledPlans.includes(p)))
          : new Set(entry.disabledPlans),
      );
    }
    const show = (licenses: Iterable<OracleLicense>, as: (id: string) => string) =>
      sorted(
        [...licenses].map(
          (l) =>
            `${as(l.skuId)}${l.disabledPlans.length > 0 ? ` -[${sorted(l.disabledPlans).map(as)}]` : ''}`,
        ),
      ).join(', ') || 'none';
    const expected = [...disabled].map(([skuId, plans]) => ({ skuId, disabledPlans: [...plans] }));
    if (show(expected, String) !== show(shown, String))
      push('effective', `assignedLicenses are ${show(shown, name)}, expected ${show(expected, name)}`);
  };

  for (const user of tenant.users) {
    if (user.deleted) {
      // §5: a soft-deleted user's entries are all Disabled and hold no seat.
      const entries = entriesOf(user.id);
      const bad = entries.filter((e) => e.state !== 'Disabled' || e.error !== 'None');
      if (bad.length > 0)
        differences.push({
          check: 'suspended',
          principalId: user.id,
          message: `soft-deleted user ${name(user.id)} has entries that are not Disabled: ${bad.map((e) => describe(e, name)).join(', ')}`,
        });
      checkEffective(user.id, entries, (check, message) =>
        differences.push({
          check,
          principalId: user.id,
          message: `soft-deleted user ${name(user.id)}: ${message}`,
        }),
      );
      continue;
    }
    const direct = user.direct
      .filter((l) => rules.kindOf(l.skuId) === 'user')
      .map((l) => ({ key: sourceKey(null, l.skuId), groupId: null, licenses: [l] }));
    judge(user.id, user, [...direct, ...groupSources(groupsOf.get(user.id) ?? [], 'user')]);
  }
  for (const deviceId of tenant.devices)
    judge(deviceId, undefined, groupSources(groupsAbove(deviceId), 'device'));
  return differences;
}

function describe(entry: ServiceEntry, name: (id: string) => string): string {
  const via = entry.assignedByGroup === null ? 'direct' : `via ${name(entry.assignedByGroup)}`;
  const error = entry.error === 'None' ? '' : `/${entry.error}`;
  return `${name(entry.skuId)} ${via} ${entry.state}${error}`;
}

/**
 * The oracle's view of the simulator's record (`state.json`). A dynamic group's members are those its rule matches
 * in the record, so its licenses are judged as any group's, against who should be in it.
 */
export function recordedTenant(state: SimState): OracleTenant {
  const memberships: OracleMembership[] = [];
  for (const [groupId, members] of Object.entries(recordedMemberships(state)))
    for (const [memberId, m] of Object.entries(members))
      memberships.push({ groupId, memberId, kind: m.kind });
  return {
    countryLetterCode: state.tenant.countryLetterCode,
    licenseErrorHealing: state.tenant.licenseErrorHealing,
    totals: new Map(Object.entries(state.units).map(([skuId, u]) => [skuId, u.enabled + u.warning] as const)),
    lowered: new Set(state.lowered),
    users: Object.entries(state.users).map(([id, u]) => ({
      id,
      usageLocation: u.usageLocation,
      proxyAddresses: u.proxyAddresses,
      deleted: u.deleted,
      direct: u.direct,
    })),
    devices: Object.keys(state.devices),
    groups: Object.entries(state.groups).map(([id, g]) => ({ id, licenses: g.licenses })),
    memberships,
  };
}

/** The service's stored directory and assignments, in the oracle's terms. */
export function storedTenant(observed: ObservedTenant): OracleTenant {
  const { snapshot } = observed;
  const memberships: OracleMembership[] = [];
  for (const p of snapshot.principals)
    for (const edge of p.memberOf)
      memberships.push({ groupId: edge.groupId, memberId: p.facts.id, kind: p.facts.kind });
  for (const g of snapshot.groups)
    for (const edge of g.memberOf) memberships.push({ groupId: edge.groupId, memberId: g.id, kind: 'group' });
  return {
    countryLetterCode: snapshot.settings.countryLetterCode,
    licenseErrorHealing: snapshot.settings.licenseErrorHealing,
    totals: new Map(
      snapshot.subscriptions.map((s) => [s.skuId, s.prepaidUnits.enabled + s.prepaidUnits.warning] as const),
    ),
    lowered: new Set(),
    users: snapshot.principals
      .filter((p) => p.facts.kind === 'user')
      .map((p) => ({
        id: p.facts.id,
        usageLocation: p.facts.usageLocation,
        proxyAddresses: p.facts.proxyAddresses,
        deleted: p.deleted,
        direct: p.directLicenses,
      })),
    devices: snapshot.principals.filter((p) => p.facts.kind === 'device').map((p) => p.facts.id),
    groups: snapshot.groups.map((g) => ({ id: g.id, licenses: g.licenses })),
    memberships,
  };
}

/**
 * Judges a tenant as the service stores it (`observeTenant`): its own record of the directory and assignments is
 * the oracle's input, its entries and seat counters the answer. For tests and tools that have no record of their own.
 */
export function judgeObservedTenant(
  observed: ObservedTenant,
  catalog: CatalogData = loadCatalogData(),
): OracleDifference[] {
  return judgeTenant(catalog, storedTenant(observed), {
    principals: new Map([...observed.entries].map(([id, entries]) => [id, { entries }] as const)),
    consumedUnits: observed.consumedUnits,
  });
}
