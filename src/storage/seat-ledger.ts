import type { TransactionAction } from '@azure/data-tables';
import { StorageContentionError } from '../application/errors.js';
import type { SeatReservations } from '../application/ports.js';
import {
  addCounts,
  type ChunkPlan,
  type ClaimOutcome,
  type ClaimResult,
  type Counts,
  type OpenReservation,
  RESERVATION_LEASE_MS,
  type ReservationRecord,
  type SubscriptionRecord,
  type TenantPartition,
} from '../application/records.js';
import { totalUnits } from '../engine/index.js';
import { odata, tenantRangeEnd } from './keys.js';
import { backoff, etagOf } from './optimistic.js';
import { deleteIfExists, getRow, hasStatus, isConflict } from './properties.js';
import type { StorageTables } from './tables.js';
import {
  decodeReservation,
  decodeSubscription,
  encodeReservation,
  encodeSubscription,
  reservationRow,
  subscriptionRow,
} from './tenant-records.js';
import { RunsInTurn, Turns } from './turns.js';

/** Row key of the marker written in the same transaction as a chunk of principal rows: proof the chunk landed. */
export const markerRow = (chunkKey: string) => `~r|${chunkKey}`;

/**
 * A fence takes a marker's place when a resumed reservation finds a chunk's marker missing: the chunk never lands
 * after that (see `SeatLedger.landedOrFenced`). It records when it was put up.
 */
const FENCE_PROPERTY = 'fencedAt';
const isFence = (row: Readonly<Record<string, unknown>>) => typeof row[FENCE_PROPERTY] === 'string';

/**
 * Whether a marker row may go once its reservation is closed. A fence stays for a lease after it was put up: the
 * run it fences may still send the chunk (it writes its chunks one after another), and removing the fence would
 * let that chunk land after all.
 */
export function removableMarker(row: Readonly<Record<string, unknown>>, now: number): boolean {
  const fencedAt = row[FENCE_PROPERTY];
  return typeof fencedAt !== 'string' || Date.parse(fencedAt) + RESERVATION_LEASE_MS < now;
}

/** The reservation a marker row belongs to (chunk keys are `<reservation>.<run>-<attempt>.<index>`). */
export function reservationOfMarker(rowKey: string): string {
  const key = rowKey.slice('~r|'.length);
  const parts = key.split('.');
  return parts.slice(0, Math.max(1, parts.length - 2)).join('.');
}

export type { Counts };
export { RESERVATION_LEASE_MS };

/**
 * Optimistic concurrency lost too many times in a row: other workers kept changing the same rows (seat counters,
 * principals). Nothing is half-done that a retry would not finish, so callers answer "try again" (HTTP 503).
 */
export class ReservationBusyError extends Error {
  constructor(id: string) {
    super(`Seat reservation ${id} is being worked on by another instance; retry later.`);
    this.name = 'ReservationBusyError';
  }
}

export type { ClaimOutcome, ClaimResult, OpenReservation };

/**
 * The seat ledger (src/storage/README.md, "Seats"): per-SKU counters in the tenant partition, changed only with ETags,
 * and reservations recorded in the same transactions. Work claims the seats it will grant before writing any
 * principal, writes each chunk of principals with a marker row in the same transaction, and gives back seats only
 * after the principals that released them are written. A crash at any point leaves a reservation whose markers
 * tell exactly which chunks landed, so whoever resumes it — the redelivered message, or the sweeper — settles the
 * counters exactly. Seats are therefore never granted beyond Total, and `consumedUnits` is exact once work is done.
 */
export class SeatLedger implements SeatReservations {
  /** Claims and give-backs of one tenant take turns, from the counters the previous turn wrote. */
  private readonly turns = new Turns();
  private readonly known = new Map<string, Map<string, SubscriptionRecord>>();
  /** The run of each reservation under way in this process, by `tenant/reservation`. */
  private readonly runs = new RunsInTurn();

  constructor(private readonly tables: StorageTables) {}

  /**
   * Runs `work` once no other run of the same reservation is under way in this process. Runs in one process share
   * the owner `instance/reservation`, so the ledger could not tell their claims and chunks apart; in turn, the later
   * run resumes whatever the earlier one left.
   */
  inTurn<T>(tenantId: string, id: string, work: () => Promise<T>): Promise<T> {
    return this.runs.inTurn(`${tenantId}/${id}`, work);
  }

  /** Like `inTurn`, but does nothing (undefined) when a run of the reservation is under way in this process. */
  ifIdle<T>(tenantId: string, id: string, work: () => Promise<T>): Promise<T | undefined> {
    return this.runs.ifIdle(`${tenantId}/${id}`, work);
  }

  /**
   * Opens (or resumes) a reservation. Work that redelivers the same message takes over what a crashed run left
   * (`takeOver`, the default: the queue lease already guarantees one consumer at a time); the sweeper only
   * settles reservations whose lease has run out.
   */
  async open(
    partition: TenantPartition,
    id: string,
    owner: string,
    now: Date,
    options: {
      takeOver?: boolean;
      /** Chunks whose fate this process saw itself (an earlier attempt): no need to read their markers. */
      known?: ReadonlyMap<string, boolean>;
    } = {},
  ): Promise<OpenReservation> {
    const existing = partition.reservations.get(id);
    if (!existing) return { id, owner, existing, unusedGains: {}, settledLoses: {}, landedMarkers: [] };
    const takeOver = options.takeOver ?? true;
    if (!takeOver && existing.owner !== owner && Date.parse(existing.leaseUntil) > now.getTime()) {
      throw new ReservationBusyError(id);
    }
    const landed = await Promise.all(
      existing.chunks.map((chunk) => options.known?.get(chunk.key) ?? this.landedOrFenced(chunk)),
    );
    return resumeReservation(id, owner, existing, landed);
  }

  /**
   * Claims the seats the planned chunks gain (less what the reservation already holds unused) and records the plan.
   * `conflict` means the counters moved or no longer have room: re-read and re-evaluate. `returned`: seats the
   * reservation held unused that this plan no longer needs, given back by the claim (waiters may now have them).
   */
  async claim(
    tenantId: string,
    subscriptions: ReadonlyMap<string, SubscriptionRecord>,
    open: OpenReservation,
    chunks: readonly ChunkPlan[],
    now: Date,
  ): Promise<ClaimResult> {
    const net = claimNet(open, chunks);
    if (!net) return { outcome: 'not-needed', subscriptions, returned: {} };
    const hasNet = Object.values(net).some((n) => n !== 0);
    const claimNow = () => this.claimInTurn(tenantId, subscriptions, open, chunks, net, now);
    return hasNet ? this.turns.run(tenantId, claimNow) : claimNow();
  }

  private async claimInTurn(
    tenantId: string,
    subscriptions: ReadonlyMap<string, SubscriptionRecord>,
    open: OpenReservation,
    chunks: readonly ChunkPlan[],
    net: Readonly<Counts>,
    now: Date,
  ): Promise<ClaimResult> {
    let current = this.freshest(tenantId, subscriptions);
    // Counters remembered by this process may be older than the caller's (a purchase since): no room by them is
    // checked against a fresh read before the claim gives up.
    let unverified = current !== subscriptions;
    let existing = open.existing;
    const netSkus = Object.keys(net).filter((skuId) => net[skuId] !== 0);
    for (let attempt = 0; attempt < 20; attempt++) {
      const actions: TransactionAction[] = [];
      const updated = new Map(current);
      const changedSkus: string[] = [];
      const hasRoom = netSkus.every((skuId) => {
        const sub = current.get(skuId);
        const delta = net[skuId] ?? 0;
        return sub !== undefined && (delta < 0 || sub.consumedUnits + delta <= totalUnits(sub.prepaidUnits));
      });
      if (!hasRoom && unverified) {
        current = await this.readCounters(tenantId, netSkus, current);
        unverified = false;
        continue;
      }
      if (!hasRoom) return { outcome: 'conflict', subscriptions: current, returned: {} };
      for (const skuId of netSkus) {
        const delta = net[skuId] ?? 0;
        const sub = current.get(skuId);
        if (!sub) return { outcome: 'conflict', subscriptions: current, returned: {} };
        const consumedUnits = sub.consumedUnits + delta;
        const next = { ...sub, consumedUnits: Math.max(0, consumedUnits) };
        actions.push([
          'update',
          encodeSubscription(tenantId, next),
          'Replace',
          { etag: etagOf(sub, `subscription ${skuId}`) },
        ]);
        updated.set(skuId, next);
        changedSkus.push(skuId);
      }
      const record: ReservationRecord = {
        id: open.id,
        createdDateTime: existing?.createdDateTime ?? now.toISOString(),
        owner: open.owner,
        leaseUntil: new Date(now.getTime() + RESERVATION_LEASE_MS).toISOString(),
        chunks,
        settledLoses: open.settledLoses,
      };
      actions.push(
        existing
          ? [
              'update',
              encodeReservation(tenantId, record),
              'Replace',
              { etag: etagOf(existing, `reservation ${open.id}`) },
            ]
          : ['create', encodeReservation(tenantId, record)],
      );
      try {
        const response = await this.tables.tenants.submitTransaction(actions);
        const returned: Counts = {};
        for (const skuId of changedSkus) if ((net[skuId] ?? 0) < 0) returned[skuId] = -(net[skuId] ?? 0);
        return {
          outcome: 'claimed',
          subscriptions: this.written(tenantId, changedSkus, updated, response),
          returned,
        };
      } catch (error: unknown) {
        if (!isConflict(error)) throw error;
      }
      // Another claim moved a counter. Re-read just the counters this claim touches: if they still have room, try
      // again at once rather than re-evaluating every principal; if not, the caller re-evaluates.
      const fresh = await this.readCounters(tenantId, changedSkus, current);
      unverified = false;
      const reservation = await this.readReservation(tenantId, open.id);
      if (open.existing && (!reservation || reservation.owner !== open.owner))
        return { outcome: 'conflict', subscriptions: fresh, returned: {} };
      if (!open.existing && reservation) return { outcome: 'conflict', subscriptions: fresh, returned: {} };
      existing = reservation;
      current = fresh;
      await backoff(Math.min(attempt, 3));
    }
    return { outcome: 'conflict', subscriptions: current, returned: {} };
  }

  /**
   * Closes a reservation once every chunk has landed: gives back the seats the written chunks released, deletes
   * the reservation, then removes the markers. Retries on counter conflicts with fresh reads.
   */
  async close(
    tenantId: string,
    open: OpenReservation,
    landedChunks: readonly ChunkPlan[],
    readSubscriptions: () => Promise<ReadonlyMap<string, SubscriptionRecord>>,
  ): Promise<void> {
    const loses = closingLoses(open, landedChunks);
    const givesBack = Object.values(loses).some((n) => n > 0);
    const closeNow = () => this.closeInTurn(tenantId, open, loses, readSubscriptions);
    await (givesBack ? this.turns.run(tenantId, closeNow) : closeNow());
  }

  private async closeInTurn(
    tenantId: string,
    open: OpenReservation,
    loses: Readonly<Counts>,
    readSubscriptions: () => Promise<ReadonlyMap<string, SubscriptionRecord>>,
  ): Promise<void> {
    const skus = Object.entries(loses)
      .filter(([, count]) => count > 0)
      .map(([skuId]) => skuId);
    for (let attempt = 0; ; attempt++) {
      // The counters as this process last saw them first (no read at all when nothing is given back); after a
      // conflict, a fresh read.
      const known = this.known.get(tenantId);
      const subscriptions =
        skus.length === 0
          ? new Map<string, SubscriptionRecord>()
          : attempt === 0 && known && skus.every((skuId) => known.has(skuId))
            ? known
            : await readSubscriptions();
      const reservation = await this.readReservation(tenantId, open.id);
      if (!reservation) break; // someone else (the sweeper) settled it
      // Another run took the reservation over (this one was presumed dead): it settles our landed chunks from
      // their markers, so leave both the counters and the markers to it.
      if (reservation.owner !== open.owner) return;
      const actions: TransactionAction[] = [];
      const updated = new Map(subscriptions);
      const changedSkus: string[] = [];
      for (const skuId of skus) {
        const sub = subscriptions.get(skuId);
        if (!sub) continue;
        const next = { ...sub, consumedUnits: Math.max(0, sub.consumedUnits - (loses[skuId] ?? 0)) };
        actions.push([
          'update',
          encodeSubscription(tenantId, next),
          'Replace',
          { etag: etagOf(sub, `subscription ${skuId}`) },
        ]);
        updated.set(skuId, next);
        changedSkus.push(skuId);
      }
      // Transactions delete unconditionally; the counter ETags above keep this step exclusive.
      actions.push(['delete', { partitionKey: tenantId, rowKey: reservationRow(open.id) }]);
      try {
        const response = await this.tables.tenants.submitTransaction(actions);
        this.written(tenantId, changedSkus, updated, response);
        break;
      } catch (error: unknown) {
        // 404: the reservation or a counter went meanwhile; the next attempt reads what is there.
        if (!isConflict(error) && !hasStatus(error, 404)) throw error;
        this.known.delete(tenantId);
        if (attempt >= 20)
          throw new StorageContentionError(`Giving back the seats of reservation ${open.id}`, attempt);
        await backoff(attempt);
      }
    }
    // The markers are left for later: the next transaction on their partition deletes them for free (see
    // PrincipalWriter), and the sweeper removes the rest. Deleting them now would double the transactions.
  }

  /** Point reads of some counters (remembered), over `current`. */
  private async readCounters(
    tenantId: string,
    skuIds: readonly string[],
    current: ReadonlyMap<string, SubscriptionRecord>,
  ): Promise<ReadonlyMap<string, SubscriptionRecord>> {
    const fresh = new Map(current);
    const rows = await Promise.all(
      skuIds.map((skuId) => getRow(this.tables.tenants, tenantId, subscriptionRow(skuId))),
    );
    skuIds.forEach((skuId, i) => {
      const row = rows[i];
      if (row) fresh.set(skuId, decodeSubscription(row));
      else fresh.delete(skuId);
    });
    this.remember(tenantId, skuIds, fresh);
    return fresh;
  }

  /**
   * Counters just written as the first operations of a transaction (in `skuIds` order): their new ETags from the
   * response, remembered for the next turn.
   */
  private written(
    tenantId: string,
    skuIds: readonly string[],
    counters: Map<string, SubscriptionRecord>,
    response: { subResponses: readonly { etag?: string | undefined }[] },
  ): Map<string, SubscriptionRecord> {
    skuIds.forEach((skuId, i) => {
      const sub = counters.get(skuId);
      if (sub) counters.set(skuId, { ...sub, etag: response.subResponses[i]?.etag });
    });
    this.remember(tenantId, skuIds, counters);
    return counters;
  }

  /** The caller's counters, overridden by those this process wrote or read since (usually newer). */
  private freshest(
    tenantId: string,
    subscriptions: ReadonlyMap<string, SubscriptionRecord>,
  ): ReadonlyMap<string, SubscriptionRecord> {
    const known = this.known.get(tenantId);
    if (!known) return subscriptions;
    const merged = new Map(subscriptions);
    for (const [skuId, sub] of known) if (merged.has(skuId)) merged.set(skuId, sub);
    return merged;
  }

  private remember(
    tenantId: string,
    skuIds: readonly string[],
    subscriptions: ReadonlyMap<string, SubscriptionRecord>,
  ): void {
    let known = this.known.get(tenantId);
    if (!known) {
      // Bounded: a process serving many tenants keeps the counters of the last few hundred.
      if (this.known.size >= 500) this.known.clear();
      known = new Map();
      this.known.set(tenantId, known);
    }
    for (const skuId of skuIds) {
      const sub = subscriptions.get(skuId);
      if (sub) known.set(skuId, sub);
    }
  }

  async readReservation(tenantId: string, id: string): Promise<ReservationRecord | undefined> {
    const entity = await getRow(this.tables.tenants, tenantId, reservationRow(id));
    return entity ? decodeReservation(entity) : undefined;
  }

  /**
   * Decides for good whether a chunk of a reservation being resumed landed. Its marker says it did. Without one,
   * the chunk may still be in flight — its run only presumed dead (a queue lease that lapsed, a batch whose message
   * was delivered again) — so a fence row takes the marker's place first: the chunk's transaction creates its
   * marker, so it fails if it arrives later, and the seats it planned can be reused or given back without ever
   * counting one seat twice.
   */
  private async landedOrFenced(chunk: ChunkPlan): Promise<boolean> {
    const table = this.tables.principalsFor(chunk.partition);
    const rowKey = markerRow(chunk.key);
    const marker = await getRow(table, chunk.partition, rowKey);
    if (marker) return !isFence(marker);
    try {
      await table.createEntity({
        partitionKey: chunk.partition,
        rowKey,
        [FENCE_PROPERTY]: new Date().toISOString(),
      });
      return false;
    } catch (error: unknown) {
      if (!isConflict(error)) throw error;
    }
    // The chunk landed, or another run fenced it, between the read and the fence.
    const now = await getRow(table, chunk.partition, rowKey);
    return now !== undefined && !isFence(now);
  }

  /**
   * Removes the tenant's reservation markers whose reservation is no longer open that no later write in their
   * partition has cleaned up yet. Returns how many were removed. `openReservations` is asked only after the
   * markers are listed: a reservation opened meanwhile has its markers kept (a marker listed first whose
   * reservation is closed afterwards is certainly stale; one listed after the open ids were read may belong to a
   * reservation opened since, which a crash would then resolve without it).
   */
  async removeStaleMarkers(
    tenantId: string,
    openReservations: () => Promise<ReadonlySet<string>>,
  ): Promise<number> {
    const filter =
      `PartitionKey ge ${odata(`${tenantId}|`)} and PartitionKey lt ${odata(tenantRangeEnd(tenantId))}` +
      ` and RowKey ge '~r|' and RowKey lt '~r}'`;
    const markers: { partition: string; key: string }[] = [];
    const now = Date.now();
    for await (const row of this.tables.queryPrincipals(filter))
      if (removableMarker(row, now)) markers.push({ partition: row.partitionKey, key: row.rowKey.slice(3) });
    if (markers.length === 0) return 0;
    const open = await openReservations();
    const stale = markers.filter((m) => !open.has(reservationOfMarker(markerRow(m.key))));
    await this.deleteMarkers(stale);
    return stale.length;
  }

  /** Best effort: a marker left behind only costs a row; the sweeper removes old ones. */
  async deleteMarkers(markers: readonly { partition: string; key: string }[]): Promise<void> {
    const byPartition = new Map<string, string[]>();
    for (const m of markers) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.key]);
    await Promise.all(
      [...byPartition].map(async ([partition, keys]) => {
        for (let i = 0; i < keys.length; i += 100) {
          const slice = keys.slice(i, i + 100);
          try {
            await this.tables
              .principalsFor(partition)
              .submitTransaction(
                slice.map((key) => ['delete', { partitionKey: partition, rowKey: markerRow(key) }]),
              );
          } catch {
            // A marker already removed fails the batch; remove the rest one by one.
            await Promise.all(
              slice.map((key) =>
                deleteIfExists(this.tables.principalsFor(partition), partition, markerRow(key)),
              ),
            );
          }
        }
      }),
    );
  }
}

export { addCounts };

/*
 * The ledger's arithmetic, apart from storage (the in-memory double of the port computes with it too): what a
 * resumed reservation holds, what a claim changes on the counters, what a close gives back.
 */

/** A reservation resumed from an earlier attempt, given which of its chunks landed (`landed[i]` for chunk i). */
export function resumeReservation(
  id: string,
  owner: string,
  existing: ReservationRecord,
  landed: readonly boolean[],
): OpenReservation {
  const unusedGains: Counts = {};
  const settledLoses: Counts = { ...existing.settledLoses };
  const landedMarkers: { partition: string; key: string }[] = [];
  existing.chunks.forEach((chunk, i) => {
    if (landed[i]) {
      addCounts(settledLoses, chunk.loses);
      landedMarkers.push({ partition: chunk.partition, key: chunk.key });
    } else {
      addCounts(unusedGains, chunk.gains);
    }
  });
  return { id, owner, existing, unusedGains, settledLoses, landedMarkers };
}

/**
 * What a claim changes on the counters, per SKU: the seats the chunks gain less those the reservation holds unused
 * (negative: seats given back). Undefined when nothing needs recording at all (no seats move, nothing to resume).
 */
export function claimNet(open: OpenReservation, chunks: readonly ChunkPlan[]): Counts | undefined {
  const gains: Counts = {};
  let loses = false;
  for (const chunk of chunks) {
    addCounts(gains, chunk.gains);
    if (Object.values(chunk.loses).some((n) => n > 0)) loses = true;
  }
  const net: Counts = { ...gains };
  subtractCounts(net, open.unusedGains);
  const hasNet = Object.values(net).some((n) => n !== 0);
  const hasSettled = Object.values(open.settledLoses).some((n) => n > 0);
  return !hasNet && !loses && !open.existing && !hasSettled ? undefined : net;
}

/** The seats a close gives back: those settled by earlier attempts and those the landed chunks released. */
export function closingLoses(open: OpenReservation, landedChunks: readonly ChunkPlan[]): Counts {
  const loses: Counts = { ...open.settledLoses };
  for (const chunk of landedChunks) addCounts(loses, chunk.loses);
  return loses;
}

function subtractCounts(target: Counts, source: Readonly<Counts>): void {
  for (const [key, value] of Object.entries(source)) target[key] = (target[key] ?? 0) - value;
}
