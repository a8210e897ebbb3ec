import { totalUnits } from '../engine/index.js';
import { readWaiters } from '../storage/bookkeeping.js';
import { readTenantPartition } from '../storage/tenant-records.js';
import type { AppContext } from './context.js';
import type { HealMessage } from './messages.js';
import { updatePrincipals } from './principal-updates.js';

/** At most this many waiters are promoted per message; more seats mean another heal message. */
const PROMOTIONS_PER_MESSAGE = 2000;

/**
 * Automatic healing (rules.md §6): when seats of a SKU are free and principals wait for it, re-evaluate the
 * earliest waiters — first come, first served — as many as there are seats. With manual healing nothing moves
 * until an admin reprocesses. Safe to run twice: a promoted principal no longer waits.
 */
export async function heal(ctx: AppContext, message: HealMessage, messageId: string): Promise<void> {
  const { tenantId, skuId } = message;
  const partition = await readTenantPartition(ctx.tables, tenantId);
  if (partition?.tenant.licenseErrorHealing !== 'automatic') return;
  const subscription = partition.subscriptions.get(skuId);
  if (!subscription) return;
  let free = totalUnits(subscription.prepaidUnits) - subscription.consumedUnits;
  if (free <= 0) return;
  const waiters = await readWaiters(ctx.tables, tenantId, skuId);
  const released: Record<string, number> = {};
  // Walk the queue in order: a waiter that cannot move (it also lacks another SKU) does not hold up those behind.
  for (let offset = 0, round = 0; offset < waiters.length && free > 0 && round < 50; round++) {
    const batch = waiters.slice(offset, offset + Math.min(PROMOTIONS_PER_MESSAGE, Math.max(free, 50)));
    offset += batch.length;
    const result = await updatePrincipals(
      ctx,
      tenantId,
      batch.map((w) => w.principalId),
      { reservationId: `${messageId}.${round}` },
    );
    for (const [sku, n] of Object.entries(result.released)) released[sku] = (released[sku] ?? 0) + n;
    const fresh = (await readTenantPartition(ctx.tables, tenantId))?.subscriptions.get(skuId);
    free = fresh ? totalUnits(fresh.prepaidUnits) - fresh.consumedUnits : 0;
  }
  for (const [releasedSku, count] of Object.entries(released)) {
    if (count > 0) await ctx.queues.send('heal', { kind: 'heal', tenantId, skuId: releasedSku });
  }
}
