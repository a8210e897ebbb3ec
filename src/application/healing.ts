import { totalUnits } from '../engine/index.js';
import type { AppContext } from './context.js';
import { type HealMessage, healRequest } from './messages.js';
import { updatePrincipals } from './principal-updates.js';

/** At most this many waiters are promoted per message; more seats mean another heal message. */
const PROMOTIONS_PER_MESSAGE = 2000;
/** Rounds of promotions per message; a longer queue continues in a fresh message. */
const ROUNDS_PER_MESSAGE = 50;
/**
 * A message queued at least this long before a finished pass began is covered by that pass. The margin absorbs
 * clock skew between host instances; a message wrongly skipped is still healed by the sweep's safety net.
 */
const COALESCE_MARGIN_MS = 2000;

/**
 * Wakes the waiting room of every SKU of the tenant that has free seats (automatic healing only). Writers wake it
 * after their writes; a writer killed between its writes and that wake-up leaves the seats idle, and its message,
 * delivered again, finds its writes already done and nothing to wake for. So a redelivered message wakes every SKU
 * with free seats, and the sweep does the same every five minutes as the last safety net.
 */
export async function wakeWaitingRooms(ctx: AppContext, tenantId: string): Promise<number> {
  const partition = await ctx.tenants.partition(tenantId);
  if (partition?.tenant.licenseErrorHealing !== 'automatic') return 0;
  const free = [...partition.subscriptions.values()].filter(
    (s) => totalUnits(s.prepaidUnits) - s.consumedUnits > 0,
  );
  await ctx.queues.sendAll(
    'heal',
    free.map((s) => healRequest(tenantId, s.skuId, ctx.now())),
  );
  return free.length;
}

/**
 * Automatic healing (rules.md §6): when seats of a SKU are free and principals wait for it, re-evaluate the
 * earliest waiters — first come, first served — as many as there are seats. With manual healing nothing moves
 * until an admin reprocesses. Safe to run twice: a promoted principal no longer waits.
 *
 * Every release of seats queues a heal message, so churn queues thousands; each pass reads the whole waiting
 * room. A message queued before a pass that began later and finished is skipped: that pass saw its seats.
 */
export async function heal(ctx: AppContext, message: HealMessage, messageId: string): Promise<void> {
  const { tenantId, skuId } = message;
  const startedAt = ctx.now().toISOString();
  const partition = await ctx.tenants.partition(tenantId);
  if (partition?.tenant.licenseErrorHealing !== 'automatic') return;
  const lastPass = partition.healPasses.get(skuId);
  if (
    message.queuedAt !== undefined &&
    lastPass !== undefined &&
    Date.parse(lastPass) - Date.parse(message.queuedAt) >= COALESCE_MARGIN_MS
  ) {
    return;
  }
  const subscription = partition.subscriptions.get(skuId);
  if (!subscription) return;
  let free = totalUnits(subscription.prepaidUnits) - subscription.consumedUnits;
  if (free > 0) {
    const waiters = await ctx.licensing.waiters(tenantId, skuId);
    const released: Record<string, number> = {};
    let offset = 0;
    // Walk the queue in order: a waiter that cannot move (it also lacks another SKU) does not hold up those behind.
    for (let round = 0; offset < waiters.length && free > 0 && round < ROUNDS_PER_MESSAGE; round++) {
      const batch = waiters.slice(offset, offset + Math.min(PROMOTIONS_PER_MESSAGE, Math.max(free, 50)));
      offset += batch.length;
      const result = await updatePrincipals(
        ctx,
        tenantId,
        batch.map((w) => w.principalId),
        { reservationId: `${messageId}.${round}` },
      );
      for (const [sku, n] of Object.entries(result.released)) released[sku] = (released[sku] ?? 0) + n;
      const fresh = (await ctx.tenants.partition(tenantId))?.subscriptions.get(skuId);
      free = fresh ? totalUnits(fresh.prepaidUnits) - fresh.consumedUnits : 0;
    }
    const more = offset < waiters.length && free > 0 ? [skuId] : [];
    const wake = [
      ...Object.entries(released)
        .filter(([, n]) => n > 0)
        .map(([sku]) => sku),
      ...more,
    ];
    for (const sku of new Set(wake)) await ctx.queues.send('heal', healRequest(tenantId, sku, ctx.now()));
  }
  await ctx.tenants.recordHealPass(tenantId, skuId, startedAt);
}

/** Seats came back: wake the waiting room for each SKU (healing decides whether anyone moves). */
export async function healReleased(
  ctx: AppContext,
  tenantId: string,
  released: Readonly<Record<string, number>>,
): Promise<void> {
  const skuIds = Object.entries(released)
    .filter(([, n]) => n > 0)
    .map(([skuId]) => skuId);
  if (skuIds.length === 0) return;
  await ctx.queues.sendAll(
    'heal',
    skuIds.map((skuId) => healRequest(tenantId, skuId, ctx.now())),
  );
}
