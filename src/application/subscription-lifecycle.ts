import { randomUUID } from 'node:crypto';
import {
  advanceLifecycle,
  type PrepaidUnits,
  type SubscriptionLifecycle,
  type SubscriptionState,
  totalUnits,
  unitsBought,
  unitsInStage,
} from '../engine/index.js';
import { etagOf, retryOnConflict } from '../storage/optimistic.js';
import type { AppContext } from './context.js';
import { NotFoundError, RefusedError } from './errors.js';
import { reprocessGroup } from './group-licensing.js';
import { healRequest } from './messages.js';
import type { AuditInput, LifecycleOwed, SubscriptionRecord } from './records.js';

/** What the operator may set of a subscription (`PUT /api/manage/tenants/{tid}/subscriptions/{sku}`). */
export interface SubscriptionInput {
  readonly prepaidUnits?: PrepaidUnits;
  readonly state?: SubscriptionState;
  readonly startDate?: string;
  readonly nextLifecycleDate?: string | null;
}

/** Principals named per `evaluate` change message when a SKU's direct holders are re-evaluated. */
const EVALUATIONS_PER_MESSAGE = 100;

/**
 * Buys units of a SKU and/or sets its lifecycle. Without dates or a state (and on a row that never had them) the
 * units are set by hand, as before lifecycles. Otherwise every unit bought sits in the bucket of the stage
 * (subscriptions.ts); a new `nextLifecycleDate` without a `state` is a renewal and makes it Active again. The
 * effects of a stage change are owed by the row itself and settled at once (and by the sweep, should this die).
 */
export async function putSubscription(
  ctx: AppContext,
  tenantId: string,
  skuIdOrPartNumber: string,
  input: SubscriptionInput,
): Promise<SubscriptionRecord> {
  const sku =
    ctx.catalog.sku(skuIdOrPartNumber.toLowerCase()) ?? ctx.catalog.skuByPartNumber(skuIdOrPartNumber);
  if (!sku) throw new RefusedError({ code: 'SkuNotInCatalog', sku: skuIdOrPartNumber });
  // A debt left by an earlier change is paid first: the new one replaces the row's marker.
  await settleLifecycle(ctx, tenantId, sku.skuId);
  const what = `subscription ${sku.skuId} of tenant ${tenantId}`;
  const now = ctx.now().toISOString();
  await retryOnConflict(what, async () => {
    const partition = await ctx.tenants.partition(tenantId);
    if (!partition) throw new NotFoundError(tenantId);
    const current = partition.subscriptions.get(sku.skuId);
    const dated =
      input.state !== undefined || input.startDate !== undefined || input.nextLifecycleDate !== undefined;
    const bought = input.prepaidUnits ?? current?.prepaidUnits ?? unitsInStage(0, 'Active');
    let lifecycle: SubscriptionLifecycle | undefined;
    if (dated || current?.lifecycle) {
      const renewed = input.nextLifecycleDate !== undefined && input.state === undefined;
      lifecycle = {
        state: input.state ?? (renewed ? 'Active' : (current?.lifecycle?.state ?? 'Active')),
        startDate: input.startDate ?? current?.lifecycle?.startDate ?? now,
        nextLifecycleDate:
          input.nextLifecycleDate !== undefined
            ? input.nextLifecycleDate
            : (current?.lifecycle?.nextLifecycleDate ?? null),
      };
    }
    const prepaidUnits = lifecycle ? unitsInStage(unitsBought(bought), lifecycle.state) : bought;
    const healing = partition.tenant.licenseErrorHealing === 'automatic';
    const moreSeats = healing && totalUnits(prepaidUnits) > (current ? totalUnits(current.prepaidUnits) : 0);
    const from = current ? (current.lifecycle?.state ?? null) : null;
    const to = lifecycle?.state;
    const owed: LifecycleOwed | undefined =
      moreSeats || (to !== undefined && to !== from)
        ? { id: randomUUID(), from, to: to ?? 'Active', at: now, by: 'operator', moreSeats }
        : undefined;
    const { lifecycleOwed: _settled, ...rest } = current ?? {};
    const next: SubscriptionRecord = {
      ...rest,
      skuId: sku.skuId,
      prepaidUnits,
      consumedUnits: current?.consumedUnits ?? 0,
      createdDateTime: current?.createdDateTime ?? now,
      ...(lifecycle ? { lifecycle } : {}),
      ...(owed ? { lifecycleOwed: owed } : {}),
      ...(current ? { etag: etagOf(current, what) } : {}),
    };
    if (!lifecycle) delete (next as { lifecycle?: unknown }).lifecycle;
    await ctx.tenants.saveSubscription(tenantId, next);
  });
  await settleLifecycle(ctx, tenantId, sku.skuId);
  const saved = (await ctx.tenants.partition(tenantId))?.subscriptions.get(sku.skuId);
  if (!saved) throw new NotFoundError(tenantId);
  return saved;
}

/**
 * The sweep's clock: moves every subscription of the tenant whose `nextLifecycleDate` has passed to the stage the
 * calendar puts it in (engine `advanceLifecycle`), with the row's ETag, so several sweeps at once move it once (the
 * losers re-read and find it already there). Returns how many moved. Owed effects are settled before and after.
 */
export async function advanceSubscriptions(ctx: AppContext, tenantId: string, now: Date): Promise<number> {
  const partition = await ctx.tenants.partition(tenantId);
  let moved = 0;
  for (const sub of partition?.subscriptions.values() ?? []) {
    if (sub.lifecycleOwed) await settleLifecycle(ctx, tenantId, sub.skuId);
    if (!sub.lifecycle) continue;
    const what = `subscription ${sub.skuId} of tenant ${tenantId}`;
    const changed = await retryOnConflict(what, async () => {
      const current = (await ctx.tenants.partition(tenantId))?.subscriptions.get(sub.skuId);
      if (!current?.lifecycle) return false;
      const lifecycle = advanceLifecycle(current.lifecycle, now.toISOString());
      if (lifecycle.state === current.lifecycle.state) return false;
      // An older debt still unpaid (its settling failed) is kept: the next sweep pays it before moving on.
      if (current.lifecycleOwed) return false;
      await ctx.tenants.saveSubscription(tenantId, {
        ...current,
        lifecycle,
        prepaidUnits: unitsInStage(unitsBought(current.prepaidUnits), lifecycle.state),
        lifecycleOwed: {
          id: randomUUID(),
          from: current.lifecycle.state,
          to: lifecycle.state,
          at: now.toISOString(),
          by: 'sweep',
          moreSeats: false,
        },
        etag: etagOf(current, what),
      });
      return true;
    });
    if (changed) {
      moved++;
      await settleLifecycle(ctx, tenantId, sub.skuId);
    }
  }
  return moved;
}

/**
 * Pays what a stage change owes, then clears the row's marker (with its ETag, only if it is still this change's):
 * the audit record (keyed by the change, so paying twice writes one record); when the SKU became unusable
 * (LockedOut) or usable again, every holder is evaluated again through the normal pipeline — a job per group that
 * carries the SKU (pages of members), and `evaluate` changes of 100 principals for direct assignments — so
 * licenses go (sources in `Other`, seats given back) or come back; and the waiting room is woken when seats grew.
 * Everything here is idempotent: at-least-once is enough.
 */
export async function settleLifecycle(ctx: AppContext, tenantId: string, skuId: string): Promise<void> {
  const partition = await ctx.tenants.partition(tenantId);
  const sub = partition?.subscriptions.get(skuId);
  const owed = sub?.lifecycleOwed;
  if (!partition || !sub || !owed) return;
  await ctx.audit.append(tenantId, [
    { ...lifecycleRecord(ctx, sub, owed), idempotencyKey: `lifecycle.${owed.id}` },
  ]);
  if ((owed.from === 'LockedOut') !== (owed.to === 'LockedOut')) {
    for (const [groupId, licensing] of partition.groupLicenses) {
      if (!licensing.licenses.some((l) => l.skuId === skuId)) continue;
      await reprocessGroup(ctx, tenantId, groupId).catch((error: unknown) => {
        // A group deleted meanwhile has no members left to evaluate.
        if (!(error instanceof NotFoundError)) throw error;
      });
    }
    await evaluateDirectHolders(ctx, tenantId, skuId);
  }
  if (owed.moreSeats) await ctx.queues.send('heal', healRequest(tenantId, skuId, ctx.now()));
  const what = `subscription ${skuId} of tenant ${tenantId}`;
  await retryOnConflict(what, async () => {
    const current = (await ctx.tenants.partition(tenantId))?.subscriptions.get(skuId);
    if (current?.lifecycleOwed?.id !== owed.id) return;
    const { lifecycleOwed: _paid, ...rest } = current;
    await ctx.tenants.saveSubscription(tenantId, { ...rest, etag: etagOf(current, what) });
  });
}

/** Queues an evaluation of every principal with a direct assignment of the SKU (a whole-tenant read; rare). */
async function evaluateDirectHolders(ctx: AppContext, tenantId: string, skuId: string): Promise<void> {
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await ctx.queues.send('changes', {
      kind: 'changes',
      tenantId,
      changes: [{ type: 'evaluate', principalIds: batch }],
      origin: 'system',
    });
    batch = [];
  };
  for await (const principal of ctx.queries.allPrincipals(tenantId)) {
    if (principal.deletedDateTime !== null) continue;
    if (!principal.entries.some((e) => e.assignedByGroup === null && e.skuId === skuId)) continue;
    batch.push(principal.id);
    if (batch.length === EVALUATIONS_PER_MESSAGE) await flush();
  }
  await flush();
}

function lifecycleRecord(ctx: AppContext, sub: SubscriptionRecord, owed: LifecycleOwed): AuditInput {
  const sku = ctx.catalog.sku(sub.skuId);
  return {
    activityDateTime: owed.at,
    activityDisplayName: 'Update subscription',
    category: 'DirectoryManagement',
    initiatedBy: { app: { displayName: owed.by === 'sweep' ? 'Subscription lifecycle' : 'Operator API' } },
    operationType: 'Update',
    result: 'success',
    resultReason:
      owed.to === 'LockedOut' && owed.from !== 'LockedOut'
        ? 'Licenses of the subscription are removed from their holders.'
        : '',
    targetResources: [
      {
        id: sub.skuId,
        displayName: sku?.skuPartNumber ?? null,
        type: 'Other',
        modifiedProperties: [
          { displayName: 'State', oldValue: JSON.stringify(owed.from), newValue: JSON.stringify(owed.to) },
          {
            displayName: 'NextLifecycleDate',
            oldValue: '',
            newValue: JSON.stringify(sub.lifecycle?.nextLifecycleDate ?? null),
          },
          { displayName: 'PrepaidUnits', oldValue: '', newValue: JSON.stringify(sub.prepaidUnits) },
        ],
      },
    ],
  };
}
