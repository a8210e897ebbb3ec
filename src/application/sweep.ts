import { randomUUID } from 'node:crypto';
import { isPastRetention, SOFT_DELETE_RETENTION_DAYS } from '../engine/index.js';
import { evaluateAlerts, resendOverdueDeliveries } from './alerts.js';
import { applyChanges } from './changes.js';
import type { AppContext } from './context.js';
import { reevaluateAllRules } from './dynamic-groups.js';
import { reprocessOwed } from './group-licensing.js';
import { wakeWaitingRooms } from './healing.js';
import { OUTBOX_SWEEP_LIMIT, outboxWorkOf, relayOutbox } from './outbox.js';
import { recheckMailboxRefusals, updatePrincipals } from './principal-updates.js';
import { advanceSubscriptions } from './subscription-lifecycle.js';

export interface SweepResult {
  /** Outbox rows whose writer died before relaying them, relayed now (work owed by committed changes). */
  readonly outboxRelayed: number;
  readonly hardDeleted: number;
  readonly reservationsSettled: number;
  readonly markersRemoved: number;
  /** SKUs with free seats whose waiting rooms were woken (a safety net for a lost wake-up). */
  readonly healsQueued: number;
  /** Users refused a mailbox whose addresses nobody else holds, evaluated again (the same net for addresses). */
  readonly refusalsRechecked: number;
  /** Subscriptions moved to their next lifecycle stage because their `nextLifecycleDate` passed. */
  readonly subscriptionsAdvanced: number;
  /** Alert deliveries decided by the pass the sweep runs for every tenant (stuck jobs, requests lost in a crash). */
  readonly alertsDecided: number;
  /** Pending alert deliveries whose message was lost, sent again. */
  readonly alertDeliveriesResent: number;
}

/**
 * The periodic sweep: relays the outbox rows of changes whose request died before relaying them (their directory
 * change finished, their audit records written, their messages sent; src/storage/README.md, "Outbox"), hard-deletes users soft-deleted more than 30 days ago (rules.md §5), and settles seat
 * reservations whose owner died (an HTTP request that crashed mid-way; queue work is resumed by its redelivery
 * long before the lease runs out), and wakes the waiting room of every SKU with free seats — a safety net should a
 * wake-up ever be lost (a crash between a release and its heal message, clock skew in heal coalescing) — and,
 * likewise, evaluates again the users refused a mailbox whose addresses nobody else holds once holders left by work
 * that died are let go (a mailbox claim whose work crashed holds its address until its lease runs out). It is also
 * the subscriptions' clock: each whose `nextLifecycleDate` has passed moves to its next stage (ETag-safe).
 * Idempotent, so every host instance may run it.
 */
export async function sweep(ctx: AppContext): Promise<SweepResult> {
  const now = ctx.now();
  let outboxRelayed = 0;
  let hardDeleted = 0;
  let reservationsSettled = 0;
  let markersRemoved = 0;
  let healsQueued = 0;
  let refusalsRechecked = 0;
  let subscriptionsAdvanced = 0;
  let alertsDecided = 0;
  let alertDeliveriesResent = 0;
  for await (const tenantId of ctx.tenants.ids()) {
    outboxRelayed += await relayDueOutbox(ctx, tenantId, now);
    // The subscription clock: before the heal wake-ups below, so seats a stage change gives back are seen.
    subscriptionsAdvanced += await advanceSubscriptions(ctx, tenantId, now);

    const cutoff = new Date(now.getTime() - SOFT_DELETE_RETENTION_DAYS * 86_400_000).toISOString();
    const expired: string[] = [];
    for await (const user of ctx.queries.deletedBefore(tenantId, cutoff)) {
      if (isPastRetention(user.deletedDateTime, now.toISOString())) expired.push(user.id);
    }
    for (let i = 0; i < expired.length; i += 100) {
      const changes = expired
        .slice(i, i + 100)
        .map((userId) => ({ type: 'user' as const, op: 'hardDelete' as const, userId }));
      await applyChanges(ctx, { kind: 'changes', tenantId, changes, origin: 'system' }, randomUUID());
      hardDeleted += changes.length;
    }

    const partition = await ctx.tenants.partition(tenantId);
    for (const reservation of partition?.reservations.values() ?? []) {
      if (Date.parse(reservation.leaseUntil) > now.getTime()) continue;
      await updatePrincipals(ctx, tenantId, [], { reservationId: reservation.id, onlyIfAbandoned: true });
      reservationsSettled++;
    }

    healsQueued += await wakeWaitingRooms(ctx, tenantId);

    if (partition?.tenant.licenseErrorHealing === 'automatic') {
      const refused = new Map<string, readonly string[]>();
      for await (const record of ctx.queries.refusedMailboxes(tenantId))
        refused.set(record.id, record.proxyAddresses);
      if (refused.size > 0) refusalsRechecked += await recheckMailboxRefusals(ctx, tenantId, refused);
    }

    // Markers of closed reservations that no later write in their partition has cleaned up yet.
    markersRemoved += await ctx.ledger.removeStaleMarkers(
      tenantId,
      async () => new Set((await ctx.tenants.partition(tenantId))?.reservations.keys() ?? []),
    );

    alertsDecided += await evaluateAlerts(ctx, tenantId);
    alertDeliveriesResent += await resendOverdueDeliveries(ctx, tenantId);
  }
  return {
    outboxRelayed,
    hardDeleted,
    reservationsSettled,
    markersRemoved,
    healsQueued,
    refusalsRechecked,
    subscriptionsAdvanced,
    alertsDecided,
    alertDeliveriesResent,
  };
}

/**
 * Relays a tenant's outbox rows whose lease has run out (bounded per sweep): what their request had not finished is
 * finished — a member change applied again under the request's own reservation, an import's groups reprocessed —
 * and what they owe is relayed. All of it is idempotent, so a row whose request is in fact still alive, or that
 * two sweeps relay at once, only repeats work.
 */
export async function relayDueOutbox(ctx: AppContext, tenantId: string, now: Date): Promise<number> {
  const due = await ctx.outbox.due(tenantId, now, OUTBOX_SWEEP_LIMIT);
  for (const record of due) {
    const work = outboxWorkOf(tenantId, record);
    if (work.reprocess) {
      await reprocessOwed(ctx, tenantId, record.id);
      continue;
    }
    if (work.apply) await applyChanges(ctx, work.apply.message, work.apply.run);
    if (work.reevaluateRules) await reevaluateAllRules(ctx, tenantId);
    await relayOutbox(ctx, tenantId, { record, work });
  }
  return due.length;
}
