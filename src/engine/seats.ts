import type { Guid, PrepaidUnits, Subscription } from './model.js';

/** Seats that may be used: the enabled units plus those in their grace period (rules.md §1). */
export function totalUnits(units: PrepaidUnits): number {
  return units.enabled + units.warning;
}

/** The Licenses page's "Available": never negative, even when units were lowered below what is consumed. */
export function availableUnits(subscription: Subscription): number {
  return Math.max(0, totalUnits(subscription.prepaidUnits) - subscription.consumedUnits);
}

/**
 * Where an evaluation gets new seats from. `tryTake` is all or nothing: a group source that needs seats of two
 * SKUs takes both or neither. Implementations decide who may take: a counting budget for a page of work, or the
 * given seat holders when the oracle checks a finished tenant.
 */
export interface SeatBudget {
  tryTake(skuIds: readonly Guid[], principalId: Guid): boolean;
  release(skuId: Guid): void;
}

/** A budget of free seats per SKU, shared by every principal evaluated against it. */
export class CountingSeatBudget implements SeatBudget {
  private readonly free = new Map<Guid, number>();
  private readonly takenCounts = new Map<Guid, number>();

  constructor(available: Iterable<readonly [Guid, number]>) {
    for (const [skuId, count] of available) this.free.set(skuId, Math.max(0, count));
  }

  static fromSubscriptions(subscriptions: Iterable<Subscription>): CountingSeatBudget {
    return new CountingSeatBudget([...subscriptions].map((s) => [s.skuId, availableUnits(s)] as const));
  }

  available(skuId: Guid): number {
    return this.free.get(skuId) ?? 0;
  }

  tryTake(skuIds: readonly Guid[], _principalId: Guid): boolean {
    for (const skuId of skuIds) if (this.available(skuId) < 1) return false;
    for (const skuId of skuIds) {
      this.free.set(skuId, this.available(skuId) - 1);
      this.takenCounts.set(skuId, (this.takenCounts.get(skuId) ?? 0) + 1);
    }
    return true;
  }

  release(skuId: Guid): void {
    this.free.set(skuId, this.available(skuId) + 1);
    this.takenCounts.set(skuId, (this.takenCounts.get(skuId) ?? 0) - 1);
  }

  /** Net seats taken through this budget, per SKU (negative when more were released than taken). */
  netTaken(): ReadonlyMap<Guid, number> {
    return this.takenCounts;
  }
}

/** A budget that grants a seat exactly to the principals that are known to hold one (oracle mode, rules.md §7.3). */
export class GivenHoldersSeatBudget implements SeatBudget {
  constructor(private readonly holders: ReadonlyMap<Guid, ReadonlySet<Guid>>) {}

  tryTake(skuIds: readonly Guid[], principalId: Guid): boolean {
    return skuIds.every((skuId) => this.holders.get(skuId)?.has(principalId) ?? false);
  }

  release(): void {}
}
