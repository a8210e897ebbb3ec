import {
  type Guid,
  type IsoTime,
  type PrepaidUnits,
  SUBSCRIPTION_STATES,
  type Subscription,
  type SubscriptionLifecycle,
  type SubscriptionState,
} from './model.js';
import { totalUnits } from './seats.js';

/**
 * A subscription's lifecycle (issue 20; Microsoft 365's "Active > Expired > Disabled > Deleted", in Graph's
 * words: `subscribedSku.capabilityStatus` Enabled → Warning → Suspended → LockedOut, and the cloudLicensing
 * subscription's `startDate`, `nextLifecycleDate`, `state`). Each stage puts every unit in one bucket of Graph's
 * `prepaidUnits`, which is what decides the seats (rules.md §1: Total = enabled + warning).
 */
/**
 * How long each stage after the end date lasts, Microsoft's defaults "for most offers, in most countries and
 * regions" (Learn, "What happens to my data and access when my Microsoft 365 for business subscription ends?"):
 * Expired (our Warning: everything still works) 30 days, Disabled (our Suspended: users lose access, admins keep
 * the data) 90 days, then Deleted (our LockedOut).
 */
export const STAGE_DAYS: Readonly<Record<'Warning' | 'Suspended', number>> = { Warning: 30, Suspended: 90 };

const DAY_MS = 86_400_000;

/** The stage after `state`, or undefined for the last one. */
export function nextStage(state: SubscriptionState): SubscriptionState | undefined {
  return SUBSCRIPTION_STATES[SUBSCRIPTION_STATES.indexOf(state) + 1];
}

/**
 * The stage a subscription is in at `now`: every stage whose date has passed is taken in turn, each lasting its
 * default length from the date the previous one ended (so a sweep that missed weeks lands where the calendar
 * says). Pure and idempotent: advancing the result again at the same `now` changes nothing.
 */
export function advanceLifecycle(lifecycle: SubscriptionLifecycle, now: IsoTime): SubscriptionLifecycle {
  let { state, nextLifecycleDate } = lifecycle;
  const at = Date.parse(now);
  while (nextLifecycleDate !== null && Date.parse(nextLifecycleDate) <= at) {
    const next = nextStage(state);
    if (next === undefined) break;
    state = next;
    nextLifecycleDate =
      next === 'Warning' || next === 'Suspended'
        ? new Date(Date.parse(nextLifecycleDate) + STAGE_DAYS[next] * DAY_MS).toISOString()
        : null;
  }
  return { state, startDate: lifecycle.startDate, nextLifecycleDate };
}

/** Graph's `prepaidUnits` of `units` bought, in the stage's bucket: Active → enabled, Warning → warning, … */
export function unitsInStage(units: number, state: SubscriptionState): PrepaidUnits {
  return {
    enabled: state === 'Active' ? units : 0,
    warning: state === 'Warning' ? units : 0,
    suspended: state === 'Suspended' ? units : 0,
    lockedOut: state === 'LockedOut' ? units : 0,
  };
}

/** Every unit bought, whatever its bucket. */
export function unitsBought(units: PrepaidUnits): number {
  return units.enabled + units.warning + units.suspended + units.lockedOut;
}

/** Graph's `subscribedSku.capabilityStatus` for the stage. */
export type SkuCapabilityStatus = 'Enabled' | 'Warning' | 'Suspended' | 'LockedOut';

export function skuCapabilityStatus(subscription: Subscription): SkuCapabilityStatus {
  const state = subscription.lifecycle?.state;
  if (state === undefined) {
    // Units set by hand (no lifecycle): the buckets say it, as they did before lifecycles.
    return totalUnits(subscription.prepaidUnits) > 0 ? 'Enabled' : 'Suspended';
  }
  return state === 'Active' ? 'Enabled' : state;
}

/**
 * Whether holders keep the SKU. A LockedOut (deleted) subscription is as good as none: its sources evaluate to
 * `Other` (rules.md §3.5) and their seats go back. Every other stage keeps its holders (Suspended only blocks
 * new grants, through its zero Total, and suspends their plans).
 */
export function isSubscriptionUsable(
  subscription: { readonly lifecycle?: SubscriptionLifecycle } | undefined,
): boolean {
  return subscription !== undefined && subscription.lifecycle?.state !== 'LockedOut';
}

/** The SKUs whose holders' plans show `capabilityStatus: "Suspended"` (subscription in its Suspended stage). */
export function suspendedSkuIds(subscriptions: Iterable<Subscription>): Set<Guid> {
  const suspended = new Set<Guid>();
  for (const s of subscriptions) if (s.lifecycle?.state === 'Suspended') suspended.add(s.skuId);
  return suspended;
}

/** The Licenses page's numbers (rules.md §1). */
export interface LicenseSummary {
  readonly total: number;
  readonly assigned: number;
  readonly available: number;
  readonly expiringSoon: number;
}

export function licenseSummary(subscription: Subscription): LicenseSummary {
  const total = totalUnits(subscription.prepaidUnits);
  return {
    total,
    assigned: subscription.consumedUnits,
    available: Math.max(0, total - subscription.consumedUnits),
    expiringSoon: subscription.prepaidUnits.warning,
  };
}
