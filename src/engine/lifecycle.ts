import { holdsSeat } from './effective.js';
import { compareEntries } from './evaluate.js';
import type { Guid, IsoTime, LicenseEntry } from './model.js';

/** How long a soft-deleted user can be restored (rules.md §5). */
export const SOFT_DELETE_RETENTION_DAYS = 30;

export interface Suspension {
  readonly entries: LicenseEntry[];
  /** Seats given back: every SKU the principal held. */
  readonly seatsReleased: Guid[];
}

/**
 * Soft delete (rules.md §5, seed 003): every entry is kept but `Disabled` (its plans show as `Suspended`), and the
 * seats are released. Suspending twice changes nothing.
 */
export function suspendEntries(entries: readonly LicenseEntry[], now: IsoTime): Suspension {
  const seatsReleased = [...new Set(entries.filter(holdsSeat).map((e) => e.skuId))].sort();
  const suspended = entries
    .map((entry) =>
      entry.state === 'Disabled'
        ? entry
        : {
            ...entry,
            state: 'Disabled' as const,
            error: 'None' as const,
            waitingSince: null,
            lastUpdatedDateTime: now,
          },
    )
    .sort(compareEntries);
  return { entries: suspended, seatsReleased };
}

/** Whether a user soft-deleted at `deletedAt` is due for hard deletion at `now`. */
export function isPastRetention(deletedAt: IsoTime, now: IsoTime): boolean {
  const elapsed = Date.parse(now) - Date.parse(deletedAt);
  return elapsed >= SOFT_DELETE_RETENTION_DAYS * 24 * 60 * 60 * 1000;
}
