// In-memory doubles of the seat ledger (SeatReservations) and the principal writer (PrincipalWrites), on the rows
// the other doubles hold: the tenant store's counters and reservations, and the directory rows (principals and
// chunk markers). They keep the adapters' contract — test/storage/seat-ledger.test.ts and principal-writer.test.ts
// run one suite against both — with the arithmetic shared (src/storage/seat-ledger.ts, principal-writer.ts) and
// each storage transaction done as one synchronous step, all or nothing.
import { isDeepStrictEqual } from 'node:util';
import type { MarkerCleanup, PrincipalWrites, SeatReservations } from '../../src/application/ports.js';
import {
  type ChunkOutcome,
  type ChunkPlan,
  type ClaimResult,
  type Counts,
  type OpenReservation,
  type PlannedChunk,
  type PrincipalWrite,
  RESERVATION_LEASE_MS,
  type SubscriptionRecord,
  type TenantPartition,
} from '../../src/application/records.js';
import { type Catalog, totalUnits } from '../../src/engine/index.js';
import { encodePrincipal } from '../../src/storage/principal-records.js';
import { MAX_OPERATIONS, planChunks, waitingChanges } from '../../src/storage/principal-writer.js';
import {
  claimNet,
  closingLoses,
  markerRow,
  ReservationBusyError,
  reservationOfMarker,
  resumeReservation,
} from '../../src/storage/seat-ledger.js';
import { RunsInTurn } from '../../src/storage/turns.js';
import { type DirectoryRows, nextEtag } from './in-memory-rows.js';
import type { InMemoryTenantStore } from './in-memory-stores.js';

/** As storage answers an update of a row that is gone. */
const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { statusCode: 404 });

/**
 * The seat ledger on the tenant double's counters and reservations. A claim checks the counters and the
 * reservation's owner and writes both in one step, so seats are never granted beyond Total; what one process
 * remembers of the counters (the adapter's cache) is not modelled, since storage is never stale here.
 */
export class InMemorySeatReservations implements SeatReservations {
  private readonly runs = new RunsInTurn();

  constructor(
    private readonly tenants: InMemoryTenantStore,
    private readonly rows: DirectoryRows,
  ) {}

  inTurn<T>(tenantId: string, id: string, work: () => Promise<T>): Promise<T> {
    return this.runs.inTurn(`${tenantId}/${id}`, work);
  }

  ifIdle<T>(tenantId: string, id: string, work: () => Promise<T>): Promise<T | undefined> {
    return this.runs.ifIdle(`${tenantId}/${id}`, work);
  }

  async open(
    partition: TenantPartition,
    id: string,
    owner: string,
    now: Date,
    options: { takeOver?: boolean; known?: ReadonlyMap<string, boolean> } = {},
  ): Promise<OpenReservation> {
    const existing = partition.reservations.get(id);
    if (!existing) return { id, owner, existing, unusedGains: {}, settledLoses: {}, landedMarkers: [] };
    if (
      !(options.takeOver ?? true) &&
      existing.owner !== owner &&
      Date.parse(existing.leaseUntil) > now.getTime()
    )
      throw new ReservationBusyError(id);
    const landed = existing.chunks.map(
      (chunk) => options.known?.get(chunk.key) ?? this.landedOrFenced(chunk),
    );
    return resumeReservation(id, owner, existing, landed);
  }

  async claim(
    tenantId: string,
    subscriptions: ReadonlyMap<string, SubscriptionRecord>,
    open: OpenReservation,
    chunks: readonly ChunkPlan[],
    now: Date,
  ): Promise<ClaimResult> {
    const net = claimNet(open, chunks);
    if (!net) return { outcome: 'not-needed', subscriptions, returned: {} };
    const stored = this.tenants.seatRowsOf(tenantId);
    const conflict = (): ClaimResult => ({
      outcome: 'conflict',
      subscriptions: new Map(stored.subscriptions),
      returned: {},
    });
    const skus = Object.keys(net).filter((skuId) => net[skuId] !== 0);
    const hasRoom = skus.every((skuId) => {
      const sub = stored.subscriptions.get(skuId);
      const delta = net[skuId] ?? 0;
      return sub !== undefined && (delta < 0 || sub.consumedUnits + delta <= totalUnits(sub.prepaidUnits));
    });
    if (!hasRoom) return conflict();
    const current = stored.reservations.get(open.id);
    // The adapter writes the reservation under the ETag it was opened with (so a run may take over another
    // owner's reservation as read). Changed since, it is still this run's to write if this run owns it now;
    // taken over by another owner, or opened meanwhile by someone else, it is a conflict; gone, storage says 404.
    if (open.existing && !current) throw notFound(`reservation ${open.id}`);
    const ours = open.existing
      ? current?.etag === open.existing.etag || current?.owner === open.owner
      : current === undefined;
    if (!ours) return conflict();

    const returned: Counts = {};
    for (const skuId of skus) {
      const sub = stored.subscriptions.get(skuId);
      const delta = net[skuId] ?? 0;
      if (!sub) continue;
      stored.subscriptions.set(skuId, {
        ...sub,
        consumedUnits: Math.max(0, sub.consumedUnits + delta),
        etag: nextEtag(),
      });
      if (delta < 0) returned[skuId] = -delta;
    }
    stored.reservations.set(open.id, {
      id: open.id,
      createdDateTime: current?.createdDateTime ?? now.toISOString(),
      owner: open.owner,
      leaseUntil: new Date(now.getTime() + RESERVATION_LEASE_MS).toISOString(),
      chunks,
      settledLoses: open.settledLoses,
      etag: nextEtag(),
    });
    const updated = new Map(subscriptions);
    for (const skuId of skus) {
      const sub = stored.subscriptions.get(skuId);
      if (sub) updated.set(skuId, sub);
    }
    return { outcome: 'claimed', subscriptions: updated, returned };
  }

  async close(
    tenantId: string,
    open: OpenReservation,
    landedChunks: readonly ChunkPlan[],
    _readSubscriptions: () => Promise<ReadonlyMap<string, SubscriptionRecord>>,
  ): Promise<void> {
    const loses = closingLoses(open, landedChunks);
    const stored = this.tenants.seatRowsOf(tenantId);
    const current = stored.reservations.get(open.id);
    // Settled already (the sweeper), or taken over by a run that settles our landed chunks from their markers.
    if (!current || current.owner !== open.owner) return;
    for (const [skuId, count] of Object.entries(loses)) {
      const sub = stored.subscriptions.get(skuId);
      if (!sub || count <= 0) continue;
      stored.subscriptions.set(skuId, {
        ...sub,
        consumedUnits: Math.max(0, sub.consumedUnits - count),
        etag: nextEtag(),
      });
    }
    stored.reservations.delete(open.id);
    // Markers stay, as with the adapter: the next write in their partition or the sweeper removes them.
  }

  async removeStaleMarkers(
    tenantId: string,
    openReservations: () => Promise<ReadonlySet<string>>,
  ): Promise<number> {
    // Listed first, then the open reservations asked for: a marker written after the listing is never judged.
    const listed: { partition: string; rowKey: string }[] = [];
    for (const [partition, keys] of this.rows.markers) {
      if (!partition.startsWith(`${tenantId}|`)) continue;
      // Fences stay a lease after they were put up; the double's runs are all younger than that.
      for (const rowKey of keys)
        if (!this.rows.fences.has(`${partition}/${rowKey}`)) listed.push({ partition, rowKey });
    }
    if (listed.length === 0) return 0;
    const open = await openReservations();
    const stale = listed.filter((m) => !open.has(reservationOfMarker(m.rowKey)));
    for (const { partition, rowKey } of stale) {
      this.rows.markers.get(partition)?.delete(rowKey);
      this.rows.fences.delete(`${partition}/${rowKey}`);
    }
    return stale.length;
  }

  /** As the adapter: a missing marker is replaced by a fence, so the chunk can never land afterwards. */
  private landedOrFenced(chunk: ChunkPlan): boolean {
    const markers = this.rows.markersIn(chunk.partition);
    const rowKey = markerRow(chunk.key);
    const fence = `${chunk.partition}/${rowKey}`;
    if (markers.has(rowKey)) return !this.rows.fences.has(fence);
    markers.add(rowKey);
    this.rows.fences.add(fence);
    return false;
  }
}

/**
 * Principal rows written chunk by chunk on the shared directory rows. A chunk is one transaction: every principal
 * must still carry the ETag it was read with (or not exist, for a create), its marker must be new and the stale
 * markers it deletes must still be there — else nothing of it is written and it has `landed: false`.
 */
export class InMemoryPrincipalWrites implements PrincipalWrites {
  constructor(
    private readonly rows: DirectoryRows,
    private readonly catalog: Catalog,
  ) {}

  plan(tenantId: string, writes: readonly PrincipalWrite[], chunkPrefix: string): PlannedChunk[] {
    return planChunks(tenantId, writes, chunkPrefix);
  }

  async write(
    chunks: readonly PlannedChunk[],
    withMarkers: boolean,
    cleanup?: MarkerCleanup,
  ): Promise<ChunkOutcome[]> {
    const byPartition = new Map<string, PlannedChunk[]>();
    for (const chunk of chunks)
      byPartition.set(chunk.plan.partition, [...(byPartition.get(chunk.plan.partition) ?? []), chunk]);
    const outcomes: ChunkOutcome[] = [];
    for (const [partition, list] of byPartition) {
      // Markers of closed reservations ride along in the leftover room of the partition's chunks, as on storage.
      let stale = (cleanup?.markers.get(partition) ?? []).filter(
        (key) => !cleanup?.openReservations.has(reservationOfMarker(key)),
      );
      for (const chunk of list) {
        const operations =
          chunk.writes.reduce((n, write) => n + 1 + waitingChanges(write).length, 0) + (withMarkers ? 1 : 0);
        const room = Math.max(0, MAX_OPERATIONS - operations);
        const deletes = stale.slice(0, room);
        stale = stale.slice(room);
        outcomes.push(this.writeChunk(chunk, withMarkers, deletes));
      }
    }
    return outcomes;
  }

  private writeChunk(chunk: PlannedChunk, withMarkers: boolean, deletes: readonly string[]): ChunkOutcome {
    // The Table adapter writes the rows a write carries rather than its records: they must be the same.
    for (const { before, after, rows } of chunk.writes) {
      if (!rows) continue;
      const encoded = before && {
        before: encodePrincipal(this.catalog, before),
        after: encodePrincipal(this.catalog, after),
      };
      if (!isDeepStrictEqual(rows, encoded))
        throw new Error(`The rows of principal ${after.id} are not its records`);
    }
    const markers = this.rows.markersIn(chunk.plan.partition);
    const marker = markerRow(chunk.plan.key);
    const fits = chunk.writes.every(({ before, after }) => {
      const stored = this.rows.principals.get(`${after.tenantId}/${after.id}`);
      return before?.etag ? stored?.etag === before.etag : stored === undefined;
    });
    if (!fits || (withMarkers && markers.has(marker)) || deletes.some((key) => !markers.has(key)))
      return { chunk, landed: false, etags: new Map(), unpurged: new Set() };

    const etags = new Map<string, string>();
    for (const { after } of chunk.writes) {
      const etag = nextEtag();
      this.rows.principals.set(`${after.tenantId}/${after.id}`, { ...after, etag });
      etags.set(after.id, etag);
    }
    if (withMarkers) markers.add(marker);
    for (const key of deletes) {
      markers.delete(key);
      this.rows.fences.delete(`${chunk.plan.partition}/${key}`);
    }
    // Hard deletes go after the chunk, each only while its row is still the one the chunk wrote.
    const unpurged = new Set<string>();
    for (const { after, purge } of chunk.writes) {
      if (!purge) continue;
      const key = `${after.tenantId}/${after.id}`;
      if (this.rows.principals.get(key)?.etag === etags.get(after.id)) this.rows.principals.delete(key);
      else unpurged.add(after.id);
    }
    for (const id of unpurged) etags.delete(id);
    return { chunk, landed: true, etags, unpurged };
  }
}
