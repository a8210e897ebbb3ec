import {
  deriveSources,
  type EvaluationContext,
  evaluatePrincipal,
  type GroupLicensing,
  type ProxyAddressView,
  type SeatBudget,
  suspendEntries,
  totalUnits,
  waitingFor,
} from '../engine/index.js';
import { GroupCache } from '../storage/group-records.js';
import { readPrincipals } from '../storage/principal-reads.js';
import { encodePrincipal, factsOf, type PrincipalRecord } from '../storage/principal-records.js';
import type { PrincipalWrite } from '../storage/principal-writer.js';
import {
  addCounts,
  backoff,
  type Counts,
  reservationOfMarker,
  StorageContentionError,
} from '../storage/seat-ledger.js';
import {
  readTenantPartition,
  type SubscriptionRecord,
  settingsOf,
  type TenantPartition,
} from '../storage/tenant-records.js';
import type { AppContext } from './context.js';
import { type ChangesMessage, healRequest } from './messages.js';

export class TenantNotFoundError extends Error {
  constructor(readonly tenantId: string) {
    super(`Tenant ${tenantId} does not exist.`);
    this.name = 'TenantNotFoundError';
  }
}

export interface UpdateOptions {
  /** Stable across retries of the same work (a queue message id), random for a one-off request. */
  readonly reservationId: string;
  /**
   * A directory change applied to the freshly read row before it is evaluated (it runs again on every retry,
   * so it must be idempotent). Returning `null` hard-deletes the principal.
   */
  readonly mutate?: (record: PrincipalRecord, now: string) => PrincipalRecord | null;
  /** Rows the caller already read in bulk; refreshed from storage if a write conflicts. */
  readonly preloaded?: ReadonlyMap<string, PrincipalRecord>;
  /** Reservation markers seen in the partitions (by a range read); closed ones are deleted with the writes. */
  readonly markers?: ReadonlyMap<string, readonly string[]>;
  readonly maxAttempts?: number;
  /** Resume a reservation another run holds only once its lease has expired (the sweeper). Default: take over. */
  readonly onlyIfAbandoned?: boolean;
}

export interface UpdateResult {
  /** The principals as written (or as found, when nothing changed), by id. */
  readonly records: ReadonlyMap<string, PrincipalRecord>;
  /** Seats given back, per SKU: healing may promote waiters. */
  readonly released: Counts;
  /** Principals whose row changed. */
  readonly changed: number;
}

/**
 * The one way principals change: read them, apply the directory change, evaluate their licenses with the engine
 * (in the order given — the contested-seat order), and write them through the seat ledger. Conflicts (another
 * worker changed a principal or a counter) are retried with fresh reads; a crash part-way is finished by
 * whoever runs the same `reservationId` again.
 */
export async function updatePrincipals(
  ctx: AppContext,
  tenantId: string,
  orderedIds: readonly string[],
  options: UpdateOptions,
): Promise<UpdateResult> {
  const owner = `${ctx.instanceId}/${options.reservationId}`;
  const results = new Map<string, PrincipalRecord>();
  const released: Counts = {};
  const waitingSkus = new Set<string>();
  const addressSharers = new Set<string>();
  const chunkFates = new Map<string, boolean>();
  let changed = 0;
  let remaining = [...new Set(orderedIds)];
  let records: Map<string, PrincipalRecord> = new Map(options.preloaded ?? []);
  let needsRead = remaining.filter((id) => !records.has(id));
  const maxAttempts = options.maxAttempts ?? 25;

  for (let attempt = 0; ; attempt++) {
    if (attempt >= maxAttempts) {
      // Every write of the earlier attempts has answered, so nothing is in flight: settle the reservation now
      // (its markers tell which chunks landed) instead of holding its seats until the sweep, 12 minutes on.
      if (orderedIds.length > 0) {
        await updatePrincipals(ctx, tenantId, [], {
          reservationId: options.reservationId,
          maxAttempts: 5,
        }).catch(
          () => undefined, // the sweep settles it later
        );
      }
      throw new StorageContentionError(
        `Updating ${remaining.length} principals of tenant ${tenantId}`,
        attempt,
      );
    }
    const partition = await readTenantPartition(ctx.tables, tenantId);
    if (!partition) throw new TenantNotFoundError(tenantId);
    const open = await ctx.ledger.open(partition, options.reservationId, owner, ctx.now(), {
      takeOver: options.onlyIfAbandoned !== true,
      known: chunkFates,
    });
    if (attempt === 0) addCounts(released, open.settledLoses);
    if (needsRead.length > 0) {
      const fresh = await readPrincipals(ctx.tables, tenantId, needsRead);
      for (const id of needsRead) {
        const record = fresh.get(id);
        if (record) records.set(id, record);
        else records.delete(id);
      }
      needsRead = [];
    }

    let writes: PrincipalWrite[];
    try {
      writes = await planWrites(ctx, tenantId, partition, remaining, records, open.unusedGains, options);
    } catch (error: unknown) {
      if (!(error instanceof MailboxClaimLostError)) throw error;
      needsRead = remaining;
      await backoff(attempt);
      continue;
    }
    const chunks = ctx.writer.plan(tenantId, writes, `${options.reservationId}.${attempt}`);
    const claim = await ctx.ledger.claim(
      tenantId,
      partition.subscriptions,
      open,
      chunks.map((c) => c.plan),
      ctx.now(),
    );
    if (claim.outcome === 'conflict') {
      await backoff(attempt);
      continue;
    }
    const withMarkers = claim.outcome === 'claimed';
    // Markers of reservations no longer open can go, on the first attempt only (a concurrent cleaner may have
    // removed some since, which would fail the transaction).
    const stale = new Map<string, string[]>();
    if (attempt === 0) {
      for (const [partitionKey, keys] of options.markers ?? []) {
        const closed = keys.filter((k) => !partition.reservations.has(reservationOfMarker(k)));
        if (closed.length > 0) stale.set(partitionKey, closed);
      }
    }
    const outcomes = await ctx.writer.write(chunks, withMarkers, stale);

    const failedIds: string[] = [];
    const landedPlans = [];
    for (const outcome of outcomes) {
      chunkFates.set(outcome.chunk.plan.key, outcome.landed);
      if (outcome.landed) {
        landedPlans.push(outcome.chunk.plan);
        for (const write of outcome.chunk.writes) {
          if (write.after.deletedDateTime === null) {
            for (const waiter of waitingFor(write.after.id, write.after.entries))
              waitingSkus.add(waiter.skuId);
          }
        }
        addCounts(released, outcome.chunk.plan.loses);
        for (const id of await releaseMailboxes(ctx, tenantId, outcome.chunk.writes)) addressSharers.add(id);
        for (const write of outcome.chunk.writes) {
          const { after } = write;
          const id = after.id;
          if (outcome.unpurged.has(id)) {
            // Changed by someone else between the chunk and the delete: read it and delete it again.
            failedIds.push(id);
            continue;
          }
          if (write.purge) results.delete(id);
          else results.set(id, { ...after, etag: outcome.etags.get(id) ?? after.etag });
          changed++;
        }
      } else {
        for (const write of outcome.chunk.writes) failedIds.push(write.after.id);
      }
    }
    const written = new Set(writes.map((w) => w.after.id));
    for (const id of remaining) {
      const record = records.get(id);
      if (!written.has(id) && record) results.set(id, record);
    }

    if (failedIds.length > 0) {
      const failed = new Set(failedIds);
      remaining = remaining.filter((id) => failed.has(id));
      needsRead = remaining;
      records = new Map([...records].filter(([id]) => !failed.has(id)));
      await backoff(attempt);
      continue;
    }
    if (withMarkers || open.existing) {
      await ctx.ledger.close(tenantId, open, landedPlans, async () => {
        const fresh = await readTenantPartition(ctx.tables, tenantId);
        return fresh?.subscriptions ?? new Map<string, SubscriptionRecord>();
      });
    }
    await wakeAfterWrites(ctx, tenantId, waitingSkus, addressSharers);
    return { records: results, released, changed };
  }
}

/**
 * Automatic healing after writes. Seats: a principal evaluated while seats were short may be written just after
 * another worker freed a seat and looked for waiters, so whoever writes a waiter checks for free seats afterwards
 * and wakes the waiting room itself. Addresses: a mailbox given up frees its shared proxy addresses, so the other
 * users listing them — refused for UniquenessViolation while it was held — are evaluated again.
 */
async function wakeAfterWrites(
  ctx: AppContext,
  tenantId: string,
  skuIds: ReadonlySet<string>,
  addressSharers: ReadonlySet<string>,
): Promise<void> {
  if (skuIds.size === 0 && addressSharers.size === 0) return;
  const partition = await readTenantPartition(ctx.tables, tenantId);
  if (partition?.tenant.licenseErrorHealing !== 'automatic') return;
  if (addressSharers.size > 0) {
    const message: ChangesMessage = {
      kind: 'changes',
      tenantId,
      origin: 'system',
      changes: [{ type: 'evaluate', principalIds: [...addressSharers] }],
    };
    await ctx.queues.send('changes', message);
  }
  for (const skuId of skuIds) {
    const sub = partition.subscriptions.get(skuId);
    if (sub && totalUnits(sub.prepaidUnits) - sub.consumedUnits > 0) {
      await ctx.queues.send('heal', healRequest(tenantId, skuId, ctx.now()));
    }
  }
}

/** Applies the directory change and evaluates each principal; returns the writes that change something. */
async function planWrites(
  ctx: AppContext,
  tenantId: string,
  partition: TenantPartition,
  orderedIds: readonly string[],
  records: ReadonlyMap<string, PrincipalRecord>,
  unusedGains: Counts,
  options: UpdateOptions,
): Promise<PrincipalWrite[]> {
  const now = ctx.now().toISOString();
  const groups = new GroupCache(ctx.tables, tenantId);
  const drafts = new Map<string, PrincipalRecord | null>();
  const deviceGroups = new Set<string>();
  for (const id of orderedIds) {
    const before = records.get(id);
    if (!before) continue;
    const draft = options.mutate ? options.mutate(before, now) : before;
    drafts.set(id, draft);
    if (draft && draft.kind === 'device') for (const m of draft.memberOf) deviceGroups.add(m.groupId);
  }
  if (deviceGroups.size > 0) await groups.loadWithAncestors(deviceGroups);
  const lookupGroup = (groupId: string): GroupLicensing | undefined => {
    const licensing = partition.groupLicenses.get(groupId);
    return {
      id: groupId,
      licenses: licensing?.licenses ?? [],
      licensedSince: licensing?.licensedSince ?? null,
      memberOf: groups.known(groupId)?.memberOf ?? [],
    };
  };

  const budget = new ClaimBudget(partition.subscriptions, unusedGains);
  const proxyView = await buildProxyView(ctx, tenantId, [...drafts.values()]);
  const evaluation: EvaluationContext = {
    catalog: ctx.catalog,
    tenant: settingsOf(partition.tenant),
    isSubscribed: (skuId) => partition.subscriptions.has(skuId),
    seats: budget,
    proxyAddresses: proxyView,
    now,
  };

  const writes: PrincipalWrite[] = [];
  for (const id of orderedIds) {
    const before = records.get(id);
    if (!before || !drafts.has(id)) continue;
    const draft = drafts.get(id) ?? null;
    if (draft === null) {
      // A hard delete: the principal is written as deleted and holding no seat, then removed (PrincipalWrite.purge).
      if (before.deletedDateTime === null) {
        const suspension = suspendEntries(before.entries, now);
        const after = { ...before, deletedDateTime: now, entries: suspension.entries, mailboxActive: false };
        writes.push({ before, after, gains: [], loses: suspension.seatsReleased, purge: true });
      } else {
        writes.push({ before, after: before, gains: [], loses: [], purge: true });
      }
      continue;
    }
    let after: PrincipalRecord;
    let gains: readonly string[] = [];
    let loses: readonly string[] = [];
    if (draft.deletedDateTime !== null) {
      if (before.deletedDateTime === null) {
        const suspension = suspendEntries(before.entries, now);
        after = { ...draft, entries: suspension.entries, mailboxActive: false };
        loses = suspension.seatsReleased;
      } else {
        after = draft;
      }
    } else {
      const sources = deriveSources(
        ctx.catalog,
        draft.kind,
        draft.directLicenses,
        draft.memberOf,
        lookupGroup,
      );
      const result = evaluatePrincipal(evaluation, factsOf(draft), sources, draft.entries);
      after = { ...draft, entries: result.entries, mailboxActive: result.mailboxActive };
      gains = result.seatsTaken;
      loses = result.seatsReleased;
    }
    if (gains.length === 0 && loses.length === 0 && sameRow(ctx, before, after)) continue;
    writes.push({ before, after, gains, loses });
  }
  await settleMailboxClaims(ctx, tenantId, writes);
  return writes;
}

/**
 * New seats come only from what the counters say is free (plus seats this work already reserved). Seats released
 * by a principal of the same batch are not offered to the next one: they are given back only once the releasing
 * principal is written, so no moment exists in which two rows hold one seat. Healing hands them on afterwards.
 */
class ClaimBudget implements SeatBudget {
  private readonly free = new Map<string, number>();

  constructor(subscriptions: ReadonlyMap<string, SubscriptionRecord>, unusedGains: Counts) {
    for (const [skuId, sub] of subscriptions) {
      this.free.set(skuId, totalUnits(sub.prepaidUnits) - sub.consumedUnits + (unusedGains[skuId] ?? 0));
    }
  }

  tryTake(skuIds: readonly string[]): boolean {
    if (skuIds.some((s) => (this.free.get(s) ?? 0) < 1)) return false;
    for (const s of skuIds) this.free.set(s, (this.free.get(s) ?? 0) - 1);
    return true;
  }

  release(): void {}
}

function sameRow(ctx: AppContext, before: PrincipalRecord, after: PrincipalRecord): boolean {
  return (
    JSON.stringify(encodePrincipal(ctx.catalog, before)) ===
    JSON.stringify(encodePrincipal(ctx.catalog, after))
  );
}

async function buildProxyView(
  ctx: AppContext,
  tenantId: string,
  drafts: readonly (PrincipalRecord | null)[],
): Promise<ProxyAddressView> {
  const holders = new Map<string, string | null>();
  const addresses = new Set<string>();
  for (const draft of drafts) {
    if (draft?.sharedProxy) for (const a of draft.proxyAddresses) addresses.add(a.toLowerCase());
  }
  await Promise.all(
    [...addresses].map(async (address) => {
      holders.set(address, (await ctx.proxies.read(tenantId, address)).holder);
    }),
  );
  return {
    isHeldByAnother: (address, principalId) => {
      const holder = holders.get(address);
      return holder !== undefined && holder !== null && holder !== principalId;
    },
  };
}

/**
 * Users that share an address claim it before their mailbox is written; a claim lost to another user means this
 * user's evaluation was made on stale facts, so the write is dropped and the conflict surfaces on retry.
 */
async function settleMailboxClaims(
  ctx: AppContext,
  tenantId: string,
  writes: PrincipalWrite[],
): Promise<void> {
  for (let i = writes.length - 1; i >= 0; i--) {
    const write = writes[i];
    const after = write?.after;
    if (!write || !after?.sharedProxy || !after.mailboxActive || write.before?.mailboxActive) continue;
    for (const address of after.proxyAddresses) {
      if (!(await ctx.proxies.claim(tenantId, address, after.id))) {
        throw new MailboxClaimLostError(after.id, address);
      }
    }
  }
}

/**
 * After a chunk lands: users that lost their mailbox let go of their shared addresses. Returns the other users
 * listing those addresses, who may now have a mailbox.
 */
async function releaseMailboxes(
  ctx: AppContext,
  tenantId: string,
  writes: readonly PrincipalWrite[],
): Promise<Set<string>> {
  const sharers = new Set<string>();
  for (const write of writes) {
    const before = write.before;
    if (!before?.sharedProxy || !before.mailboxActive || write.after.mailboxActive) continue;
    for (const address of before.proxyAddresses)
      for (const id of await ctx.proxies.release(tenantId, address, before.id)) sharers.add(id);
  }
  return sharers;
}

export class MailboxClaimLostError extends Error {
  constructor(userId: string, address: string) {
    super(`Proxy address ${address} was claimed by another mailbox while ${userId} was evaluated; retry.`);
    this.name = 'MailboxClaimLostError';
  }
}
