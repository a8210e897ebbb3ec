import type { Catalog } from './catalog.js';
import { holdsSeat } from './effective.js';
import {
  compareEntries,
  type EvaluationContext,
  evaluatePrincipal,
  type ProxyAddressView,
} from './evaluate.js';
import type {
  Guid,
  IsoTime,
  LicenseEntry,
  LicenseSource,
  PrepaidUnits,
  PrincipalFacts,
  SubscriptionLifecycle,
  TenantSettings,
} from './model.js';
import { CountingSeatBudget, GivenHoldersSeatBudget, type SeatBudget, totalUnits } from './seats.js';
import { type DirectLicense, deriveSources, type GroupLicensing, type MembershipEdge } from './sources.js';
import { isSubscriptionUsable } from './subscriptions.js';

export interface PrincipalSnapshot {
  readonly facts: PrincipalFacts;
  /** Soft-deleted: out of evaluation, its entries suspended (rules.md §5). */
  readonly deleted: boolean;
  readonly directLicenses: readonly DirectLicense[];
  readonly memberOf: readonly MembershipEdge[];
}

/** Everything licensing depends on in a tenant, as plain data. */
export interface TenantSnapshot {
  readonly settings: TenantSettings;
  readonly subscriptions: readonly {
    readonly skuId: Guid;
    readonly prepaidUnits: PrepaidUnits;
    readonly lifecycle?: SubscriptionLifecycle;
  }[];
  readonly principals: readonly PrincipalSnapshot[];
  readonly groups: readonly GroupLicensing[];
}

/**
 * Facts taken as given when checking a tenant whose seats were contested (rules.md §7.3): who holds a seat of each
 * SKU, who holds each shared proxy address's mailbox, who was refused a mailbox, and which removed sources are held
 * for a dependency.
 */
export interface OracleGivens {
  readonly seatHolders?: ReadonlyMap<Guid, ReadonlySet<Guid>>;
  readonly mailboxHolders?: ReadonlyMap<string, Guid>;
  /**
   * Principals refused a mailbox (`UniquenessViolation`). When given, this alone decides the uniqueness check, as
   * seat holders decide seats: whether a principal got a contested address depends on who was evaluated first,
   * and a refusal stays until the principal is re-evaluated (with manual healing, after the address was freed).
   * That addresses are neither shared nor left idle is checked separately (checkInvariants).
   */
  readonly mailboxRefused?: ReadonlySet<Guid>;
  readonly dependencyHolds?: ReadonlyMap<Guid, readonly LicenseEntry[]>;
  /**
   * The principals' entries as observed. Which sources were already granted decides the order of evaluation
   * (rules.md §3: "sources already granted first"), and that is history too: a source that was in error when a
   * conflicting one was granted stays behind it even once it could be granted. When given, each principal is
   * evaluated once, with all its sources and these entries as its previous state (which also carries its
   * dependency holds); this needs `seatHolders`, so that principals do not compete for seats in the replay.
   */
  readonly previousEntries?: ReadonlyMap<Guid, readonly LicenseEntry[]>;
}

export interface PrincipalOutcome {
  readonly entries: readonly LicenseEntry[];
  readonly mailboxActive: boolean;
}

export interface TenantEvaluation {
  readonly principals: ReadonlyMap<Guid, PrincipalOutcome>;
  readonly consumedUnits: ReadonlyMap<Guid, number>;
}

interface Arrival {
  readonly principal: PrincipalSnapshot;
  readonly source: LicenseSource;
}

/**
 * Evaluates a whole tenant from scratch: the oracle the incremental pipeline must equal (rules.md §7.3). Sources
 * arrive in the order they reached their principals (then by principal id, then by group id), and each arrival
 * re-evaluates its principal with the same function the pipeline uses, so contested seats and first-come rules
 * fall out exactly as they would have in a single worker.
 */
export function evaluateTenant(
  catalog: Catalog,
  snapshot: TenantSnapshot,
  now: IsoTime,
  givens: OracleGivens = {},
): TenantEvaluation {
  const groups = new Map(snapshot.groups.map((g) => [g.id, g] as const));
  const lookupGroup = (id: Guid) => groups.get(id);
  const subscribed = new Set(snapshot.subscriptions.filter(isSubscriptionUsable).map((s) => s.skuId));
  const outcomes = new Map<Guid, PrincipalOutcome>();
  const sourcesSoFar = new Map<Guid, LicenseSource[]>();
  const arrivals: Arrival[] = [];

  for (const principal of snapshot.principals) {
    const sources = deriveSources(
      catalog,
      principal.facts.kind,
      principal.directLicenses,
      principal.memberOf,
      lookupGroup,
    );
    if (principal.deleted) {
      outcomes.set(principal.facts.id, { entries: suspendedEntries(sources, now), mailboxActive: false });
      continue;
    }
    outcomes.set(principal.facts.id, {
      entries:
        givens.previousEntries?.get(principal.facts.id) ??
        givens.dependencyHolds?.get(principal.facts.id) ??
        [],
      mailboxActive: false,
    });
    sourcesSoFar.set(principal.facts.id, []);
    for (const source of sources) arrivals.push({ principal, source });
  }
  arrivals.sort(compareArrivals);

  const consumed = new Map<Guid, number>();
  for (const outcome of outcomes.values()) {
    for (const skuId of new Set(outcome.entries.filter(holdsSeat).map((e) => e.skuId))) {
      consumed.set(skuId, (consumed.get(skuId) ?? 0) + 1);
    }
  }
  const seats: SeatBudget = givens.seatHolders
    ? new GivenHoldersSeatBudget(givens.seatHolders)
    : new CountingSeatBudget(
        snapshot.subscriptions.map(
          (s) => [s.skuId, totalUnits(s.prepaidUnits) - (consumed.get(s.skuId) ?? 0)] as const,
        ),
      );
  const mailboxes = new Map<string, Guid>(givens.mailboxHolders ?? []);
  const proxyAddresses: ProxyAddressView = {
    isHeldByAnother: (address, principalId) => {
      if (givens.mailboxRefused) return givens.mailboxRefused.has(principalId);
      const holder = mailboxes.get(address);
      return holder !== undefined && holder !== principalId;
    },
  };
  const context: EvaluationContext = {
    catalog,
    tenant: snapshot.settings,
    isSubscribed: (skuId) => subscribed.has(skuId),
    seats,
    proxyAddresses,
    now,
  };

  const evaluate = (principal: PrincipalSnapshot) => {
    const id = principal.facts.id;
    const previous = outcomes.get(id)?.entries ?? [];
    const result = evaluatePrincipal(context, principal.facts, sourcesSoFar.get(id) ?? [], previous);
    outcomes.set(id, { entries: result.entries, mailboxActive: result.mailboxActive });
    if (result.mailboxActive && !givens.mailboxHolders) {
      for (const address of principal.facts.proxyAddresses) {
        const key = address.toLowerCase();
        if (!mailboxes.has(key)) mailboxes.set(key, id);
      }
    }
  };

  const evaluated = new Set<Guid>();
  for (const arrival of arrivals) {
    const id = arrival.principal.facts.id;
    sourcesSoFar.get(id)?.push(arrival.source);
    // A given dependency hold is only kept while a plan needs it, so evaluating its principal before all of its
    // sources have arrived would drop it for good (the dependent plan may arrive later). Such principals are
    // evaluated once, with every source, in the pass below; with given seat holders the order does not matter.
    // The same goes for every principal whose previous entries are given.
    if (givens.previousEntries !== undefined || givens.dependencyHolds?.has(id)) continue;
    evaluate(arrival.principal);
    evaluated.add(id);
  }
  // Principals with no sources (or with given holds) get one evaluation, which lets go of any hold that no longer
  // has a reason.
  for (const principal of snapshot.principals) {
    if (!principal.deleted && !evaluated.has(principal.facts.id)) evaluate(principal);
  }

  return { principals: outcomes, consumedUnits: countConsumed(outcomes) };
}

function compareArrivals(a: Arrival, b: Arrival): number {
  if (a.source.since !== b.source.since) return a.source.since < b.source.since ? -1 : 1;
  const pa = a.principal.facts.id;
  const pb = b.principal.facts.id;
  if (pa !== pb) return pa < pb ? -1 : 1;
  const ga = a.source.groupId ?? '';
  const gb = b.source.groupId ?? '';
  if (ga !== gb) return ga < gb ? -1 : 1;
  const sa = a.source.licenses[0]?.skuId ?? '';
  const sb = b.source.licenses[0]?.skuId ?? '';
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** What a soft-deleted principal's entries look like: one `Disabled` entry per source SKU. */
function suspendedEntries(sources: readonly LicenseSource[], now: IsoTime): LicenseEntry[] {
  const entries: LicenseEntry[] = [];
  for (const source of sources) {
    for (const license of source.licenses) {
      entries.push({
        skuId: license.skuId,
        assignedByGroup: source.groupId,
        disabledPlans: [...license.disabledPlans].sort(),
        state: 'Disabled',
        error: 'None',
        lastUpdatedDateTime: now,
        since: source.since,
        waitingSince: null,
      });
    }
  }
  return entries.sort(compareEntries);
}

export function countConsumed(
  outcomes: ReadonlyMap<Guid, { readonly entries: readonly LicenseEntry[] }>,
): Map<Guid, number> {
  const consumed = new Map<Guid, number>();
  for (const outcome of outcomes.values()) {
    const held = new Set<Guid>();
    for (const entry of outcome.entries) if (holdsSeat(entry)) held.add(entry.skuId);
    for (const skuId of held) consumed.set(skuId, (consumed.get(skuId) ?? 0) + 1);
  }
  return consumed;
}
