import type { GroupLicensing, LicenseEntry, ObservedTenant, PrincipalSnapshot } from '../engine/index.js';
import type { AppContext } from './context.js';
import { NotFoundError } from './errors.js';
import { type PrincipalRecord, settingsOf } from './records.js';

/** Every principal of a tenant, streamed partition range by partition range. */
export async function* listPrincipals(ctx: AppContext, tenantId: string): AsyncGenerator<PrincipalRecord> {
  yield* ctx.queries.allPrincipals(tenantId);
}

/**
 * The whole tenant as the service stores it, in the engine's terms: for `checkInvariants` (tests, the benchmark)
 * and for comparing with the from-scratch evaluation. Reads everything; not for hot paths.
 */
export async function observeTenant(ctx: AppContext, tenantId: string): Promise<ObservedTenant> {
  const partition = await ctx.tenants.partition(tenantId);
  if (!partition) throw new NotFoundError(tenantId);
  const principals: PrincipalSnapshot[] = [];
  const entries = new Map<string, readonly LicenseEntry[]>();
  for await (const record of listPrincipals(ctx, tenantId)) {
    principals.push({
      facts: {
        id: record.id,
        kind: record.kind,
        usageLocation: record.usageLocation,
        proxyAddresses: record.proxyAddresses,
      },
      deleted: record.deletedDateTime !== null,
      directLicenses: record.directLicenses,
      memberOf: record.memberOf,
    });
    entries.set(record.id, record.entries);
  }
  const groups: GroupLicensing[] = [];
  for await (const group of ctx.queries.allGroups(tenantId)) {
    const licensing = partition.groupLicenses.get(group.id);
    groups.push({
      id: group.id,
      licenses: licensing?.licenses ?? [],
      licensedSince: licensing?.licensedSince ?? null,
      memberOf: group.memberOf,
    });
  }
  return {
    snapshot: {
      settings: settingsOf(partition.tenant),
      subscriptions: [...partition.subscriptions.values()].map((s) => ({
        skuId: s.skuId,
        prepaidUnits: s.prepaidUnits,
        ...(s.lifecycle ? { lifecycle: s.lifecycle } : {}),
      })),
      principals,
      groups,
    },
    entries,
    consumedUnits: new Map(
      [...partition.subscriptions.values()].map((s) => [s.skuId, s.consumedUnits] as const),
    ),
  };
}

export interface TenantActivity {
  /** No work queued or running for any tenant, and none of this tenant's seats in flight. */
  readonly idle: boolean;
  /** Messages waiting per work queue (the queues are shared by every tenant). */
  readonly queues: Readonly<Record<string, number>>;
  /**
   * Seat reservations still open: work in flight, or left by a request that failed part-way, which the sweep
   * settles once its lease has run out (they keep the tenant busy until then).
   */
  readonly openReservations: number;
  /** Groups whose license processing has not completed. */
  readonly groupsProcessing: number;
  /** Dynamic groups whose rule is being evaluated (processing On, status Running). */
  readonly rulesEvaluating: number;
  /**
   * Outbox rows: work owed by changes already committed (audit records, messages, a request's unfinished member
   * change, an import's reprocessing), relayed by their request at once or, should it have died, by the sweep.
   */
  readonly pendingOutbox: number;
}

/** What keeps the tenant busy, if anything (the simulator and the tests wait on `idle`). */
export async function tenantActivity(ctx: AppContext, tenantId: string): Promise<TenantActivity> {
  const [queues, partition, pendingOutbox] = await Promise.all([
    ctx.queues.depth(),
    ctx.tenants.partition(tenantId),
    ctx.outbox.pending(tenantId),
  ]);
  const openReservations = partition?.reservations.size ?? 0;
  const groupsProcessing = [...(partition?.groupLicenses.values() ?? [])].filter(
    (g) => g.processingState !== 'ProcessingComplete',
  ).length;
  const rulesEvaluating = [...(partition?.membershipRules.values() ?? [])].filter(
    (r) => r.processingState === 'On' && r.status === 'Running',
  ).length;
  const idle =
    Object.values(queues).every((n) => n === 0) &&
    openReservations === 0 &&
    groupsProcessing === 0 &&
    rulesEvaluating === 0 &&
    pendingOutbox === 0;
  return { idle, queues, openReservations, groupsProcessing, rulesEvaluating, pendingOutbox };
}

/**
 * True when no work is queued or running for any tenant, and no seat reservation is open and no outbox row waits
 * for this one.
 */
export async function isIdle(ctx: AppContext, tenantId: string): Promise<boolean> {
  return (await tenantActivity(ctx, tenantId)).idle;
}
