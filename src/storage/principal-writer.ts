import type { TransactionAction } from '@azure/data-tables';
import type { MarkerCleanup, PrincipalWrites } from '../application/ports.js';
import type {
  ChunkOutcome,
  ChunkPlan,
  Counts,
  PlannedChunk,
  PrincipalRow,
  PrincipalWrite,
} from '../application/records.js';
import { type Catalog, waitingFor } from '../engine/index.js';
import { inParallel } from './in-flight.js';
import { principalPartition } from './keys.js';
import { encodePrincipal, type PrincipalRecord } from './principal-records.js';
import { hasStatus, isConflict } from './properties.js';
import { markerRow, reservationOfMarker } from './seat-ledger.js';
import type { StorageTables } from './tables.js';

export type { ChunkOutcome, MarkerCleanup, PlannedChunk, PrincipalWrite };

/** Azure's limit per transaction; one slot is kept for the chunk's marker. */
export const MAX_OPERATIONS = 100;
const PARTITIONS_IN_FLIGHT = 4;

export const waitingRow = (skuId: string, since: string, principalId: string) =>
  `~w|${skuId}|${since}|${principalId}`;

/**
 * Writes principal rows in entity-group transactions of up to 100 operations, one partition each. Beside each
 * principal, the same transaction keeps the partition's bookkeeping exact: waiting-room rows
 * (`~w|<sku>|<since>|<principal>`, the FIFO healing order) and, when seats move, the chunk's marker (`~r|<chunk>`)
 * that proves to the seat ledger the chunk landed. (Group outcomes need no rows of their own: each principal row
 * carries `G<group>`/`E<group>` flags, see principal-records.ts.) Principal rows are written with their ETags, so
 * a concurrent change to any of them fails the chunk as a whole; the caller re-reads and retries those.
 */
export class PrincipalWriter implements PrincipalWrites {
  constructor(
    private readonly tables: StorageTables,
    private readonly catalog: Catalog,
  ) {}

  plan(tenantId: string, writes: readonly PrincipalWrite[], chunkPrefix: string): PlannedChunk[] {
    return planChunks(tenantId, writes, chunkPrefix);
  }

  /** Writes the chunks (partitions in parallel, chunks of one partition in order). */
  async write(
    chunks: readonly PlannedChunk[],
    withMarkers: boolean,
    cleanup?: MarkerCleanup,
  ): Promise<ChunkOutcome[]> {
    // Markers seen in the partitions whose reservation is no longer open: the first chunk of their partition
    // deletes them for free.
    const staleMarkers = new Map<string, string[]>();
    for (const [partitionKey, keys] of cleanup?.markers ?? []) {
      const closed = keys.filter((key) => !cleanup?.openReservations.has(reservationOfMarker(key)));
      if (closed.length > 0) staleMarkers.set(partitionKey, closed);
    }
    const byPartition = new Map<string, PlannedChunk[]>();
    for (const chunk of chunks) {
      const list = byPartition.get(chunk.plan.partition);
      if (list) list.push(chunk);
      else byPartition.set(chunk.plan.partition, [chunk]);
    }
    const outcomes: ChunkOutcome[] = [];
    await inParallel([...byPartition.values()], PARTITIONS_IN_FLIGHT, async (list) => {
      outcomes.push(...(await this.writePartition(list, withMarkers, staleMarkers)));
    });
    return outcomes;
  }

  /** `staleMarkers`: markers of closed reservations, deleted by the first chunk of their partition. */
  private async writePartition(
    chunks: readonly PlannedChunk[],
    withMarkers: boolean,
    staleMarkers: ReadonlyMap<string, readonly string[]>,
  ): Promise<ChunkOutcome[]> {
    const outcomes: ChunkOutcome[] = [];
    let cleanup = [...(staleMarkers.get(chunks[0]?.plan.partition ?? '') ?? [])];
    for (const chunk of chunks) {
      const { actions, principalIndexes } = this.actionsFor(chunk, withMarkers);
      const room = Math.max(0, MAX_OPERATIONS - actions.length);
      for (const rowKey of cleanup.slice(0, room))
        actions.push(['delete', { partitionKey: chunk.plan.partition, rowKey }]);
      cleanup = cleanup.slice(room);
      try {
        const response = await this.tables.principalsFor(chunk.plan.partition).submitTransaction(actions);
        const etags = new Map<string, string>();
        for (const [id, i] of principalIndexes) {
          const etag = response.subResponses[i]?.etag;
          if (etag) etags.set(id, etag);
        }
        const unpurged = await this.purge(chunk, etags);
        for (const id of unpurged) etags.delete(id);
        outcomes.push({ chunk, landed: true, etags, unpurged });
      } catch (error: unknown) {
        if (!isConflict(error) && !hasStatus(error, 404)) throw error;
        outcomes.push({ chunk, landed: false, etags: new Map(), unpurged: new Set() });
      }
    }
    return outcomes;
  }

  /**
   * Deletes the hard-deleted principals of a chunk that landed, each only if its row is still the one the chunk
   * wrote (its ETag): a delete inside a transaction is unconditional (the SDK sends `If-Match: *`), so it could
   * remove a row another worker changed after this one read it, and the seats given back would be counted from a
   * row that no longer exists. Returns those whose row changed meanwhile. A crash before the delete leaves a deleted
   * principal holding no seat, which the redelivered work (or the sweep) deletes.
   */
  private async purge(chunk: PlannedChunk, etags: ReadonlyMap<string, string>): Promise<Set<string>> {
    const unpurged = new Set<string>();
    const table = this.tables.principalsFor(chunk.plan.partition);
    await Promise.all(
      chunk.writes.map(async (write) => {
        if (!write.purge) return;
        const id = write.after.id;
        const etag = etags.get(id);
        if (!etag) {
          unpurged.add(id);
          return;
        }
        try {
          await table.deleteEntity(chunk.plan.partition, id, { etag });
        } catch (error: unknown) {
          if (hasStatus(error, 404)) return; // someone else deleted it: gone either way
          if (!isConflict(error)) throw error;
          unpurged.add(id);
        }
      }),
    );
    return unpurged;
  }

  private actionsFor(chunk: PlannedChunk, withMarkers: boolean) {
    const partition = chunk.plan.partition;
    const actions: TransactionAction[] = [];
    const principalIndexes = new Map<string, number>();
    for (const write of chunk.writes) {
      const { before, after } = write;
      const id = after.id;
      const entity = write.rows?.after ?? encodePrincipal(this.catalog, after);
      principalIndexes.set(id, actions.length);
      if (before?.etag) {
        const read = write.rows?.before ?? encodePrincipal(this.catalog, before);
        actions.push(['update', entity, updateMode(read, entity), { etag: before.etag }]);
      } else {
        actions.push(['create', entity]);
      }
      for (const change of waitingChanges(write)) {
        actions.push(
          change.op === 'create'
            ? ['create', { partitionKey: partition, rowKey: change.rowKey, p: id }]
            : ['delete', { partitionKey: partition, rowKey: change.rowKey }],
        );
      }
    }
    if (withMarkers) actions.push(['create', { partitionKey: partition, rowKey: markerRow(chunk.plan.key) }]);
    return { actions, principalIndexes };
  }
}

/**
 * How a principal row is updated: `Merge` when every property of the row as read is written again (the row after a
 * merge is then exactly the entity, as after a replace), else `Replace`, which drops the properties the entity no
 * longer has (a license flag, a deletion time). Both are conditional on the ETag. Azurite replaces a row by removing
 * it and inserting it again, which shifts every index of its table (as long as the table); it merges in place, so
 * writes that only add or change properties — a group job granting licenses — cost it a fraction.
 */
export function updateMode(before: PrincipalRow, after: PrincipalRow): 'Merge' | 'Replace' {
  for (const key of Object.keys(before)) if (!(key in after)) return 'Replace';
  return 'Merge';
}

/**
 * Splits writes into chunks keyed `<chunkPrefix>.<index>`: one partition each, at most 100 operations with their
 * waiting-room rows and the marker. Pure, so the in-memory double of the port chunks exactly as storage does.
 */
export function planChunks(
  tenantId: string,
  writes: readonly PrincipalWrite[],
  chunkPrefix: string,
): PlannedChunk[] {
  const byPartition = new Map<string, PrincipalWrite[]>();
  for (const write of writes) {
    const partition = principalPartition(tenantId, write.after.id);
    const list = byPartition.get(partition);
    if (list) list.push(write);
    else byPartition.set(partition, [write]);
  }
  const chunks: PlannedChunk[] = [];
  let index = 0;
  for (const [partition, list] of byPartition) {
    let current: PrincipalWrite[] = [];
    let operations = 1;
    const flush = () => {
      if (current.length === 0) return;
      chunks.push({ plan: chunkPlan(`${chunkPrefix}.${index++}`, partition, current), writes: current });
      current = [];
      operations = 1;
    };
    for (const write of list) {
      const own = 1 + waitingChanges(write).length;
      if (operations + own > MAX_OPERATIONS) flush();
      current.push(write);
      operations += own;
    }
    flush();
  }
  return chunks;
}

/** The waiting-room rows a write creates and deletes beside its principal row (first come, first served). */
export function waitingChanges(write: PrincipalWrite): { op: 'create' | 'delete'; rowKey: string }[] {
  const rows = (record: PrincipalRecord | undefined) =>
    new Set(
      record && record.deletedDateTime === null
        ? waitingFor(record.id, record.entries).map((w) => waitingRow(w.skuId, w.waitingSince, record.id))
        : [],
    );
  const before = rows(write.before);
  const after = rows(write.after);
  const changes: { op: 'create' | 'delete'; rowKey: string }[] = [];
  for (const key of before) if (!after.has(key)) changes.push({ op: 'delete', rowKey: key });
  for (const key of after) if (!before.has(key)) changes.push({ op: 'create', rowKey: key });
  return changes;
}

function chunkPlan(key: string, partition: string, writes: readonly PrincipalWrite[]): ChunkPlan {
  const gains: Counts = {};
  const loses: Counts = {};
  for (const write of writes) {
    for (const sku of write.gains) gains[sku] = (gains[sku] ?? 0) + 1;
    for (const sku of write.loses) loses[sku] = (loses[sku] ?? 0) + 1;
  }
  return { key, partition, gains, loses };
}
