import { heldSkuIds } from './effective.js';
import type { Guid, IsoTime, LicenseEntry, TenantSettings } from './model.js';

/** A principal waiting for a seat of one SKU (the waiting room, rules.md §6). */
export interface Waiter {
  readonly principalId: Guid;
  readonly skuId: Guid;
  readonly waitingSince: IsoTime;
}

/**
 * The SKUs a principal is waiting for: those of its `CountViolation` entries that it does not already hold through
 * another source. (A source of two SKUs that lacks a seat of one waits for that one only.)
 */
export function waitingFor(principalId: Guid, entries: readonly LicenseEntry[]): Waiter[] {
  const held = heldSkuIds(entries);
  const waiters = new Map<Guid, Waiter>();
  for (const entry of entries) {
    if (entry.error !== 'CountViolation' || held.has(entry.skuId)) continue;
    const since = entry.waitingSince ?? entry.lastUpdatedDateTime;
    const known = waiters.get(entry.skuId);
    if (!known || since < known.waitingSince)
      waiters.set(entry.skuId, { principalId, skuId: entry.skuId, waitingSince: since });
  }
  return [...waiters.values()];
}

/** First come, first served: by the time they started waiting, ties by principal id. */
export function compareWaiters(a: Waiter, b: Waiter): number {
  if (a.waitingSince !== b.waitingSince) return a.waitingSince < b.waitingSince ? -1 : 1;
  return a.principalId < b.principalId ? -1 : a.principalId > b.principalId ? 1 : 0;
}

/**
 * Who to re-evaluate when `freed` seats of a SKU become available: with automatic healing, the earliest waiters,
 * as many as there are seats; with manual healing (Entra's behaviour), nobody until an admin reprocesses.
 */
export function waitersToPromote(
  settings: TenantSettings,
  waiters: readonly Waiter[],
  freed: number,
): Waiter[] {
  if (settings.licenseErrorHealing !== 'automatic' || freed <= 0) return [];
  return [...waiters].sort(compareWaiters).slice(0, freed);
}
