import type { TransactionAction } from '@azure/data-tables';
import { type Catalog, type LicenseError, memberOutcome, waitingFor } from '../engine/index.js';
import { principalPartition } from './keys.js';
import { encodePrincipal, type PrincipalRecord } from './principal-records.js';
import { getNumber, getRow, hasStatus, isConflict, type RawEntity } from './properties.js';
import { type Counts, markerRow } from './seat-ledger.js';
import type { StorageTables } from './tables.js';
import type { ChunkPlan } from './tenant-records.js';

/** One principal's change: the row as read (with its ETag) and as it should be; seats it takes and gives back. */
export interface PrincipalWrite {
  readonly before: PrincipalRecord | undefined;
  /** `undefined` removes the principal (hard delete). */
  readonly after: PrincipalRecord | undefined;
  readonly gains: readonly string[];
  readonly loses: readonly string[];
}

/** A chunk: writes to one partition that fit one transaction, with the markers and counters they carry. */
export interface PlannedChunk {
  readonly plan: ChunkPlan;
  readonly writes: readonly PrincipalWrite[];
}

export interface ChunkOutcome {
  readonly chunk: PlannedChunk;
  readonly landed: boolean;
  /** New ETags of the written principal rows, by id. */
  readonly etags: ReadonlyMap<string, string>;
}

/** Azure's limit per transaction; one slot is kept for the chunk's marker. */
const MAX_OPERATIONS = 100;
const PARTITIONS_IN_FLIGHT = 4;

export const groupCounterRow = (groupId: string) => `~g|${groupId}`;
export const waitingRow = (skuId: string, since: string, principalId: string) =>
  `~w|${skuId}|${since}|${principalId}`;

type Outcome = { kind: 'succeeded' } | { kind: 'failed'; error: LicenseError | 'None' } | { kind: 'none' };

/**
 * Writes principal rows in entity-group transactions of up to 100 operations, one partition each. Beside each
 * principal, the same transaction keeps the partition's bookkeeping exact: per-group outcome counters
 * (`~g|<group>`: members succeeded and failed, errors by type — the group status without scanning members),
 * waiting-room rows (`~w|<sku>|<since>|<principal>`, the FIFO healing order) and, when seats move, the chunk's
 * marker (`~r|<chunk>`) that proves to the seat ledger the chunk landed. Principal rows are written with their
 * ETags, so a concurrent change to any of them fails the chunk as a whole; the caller re-reads and retries those.
 */
export class PrincipalWriter {
  constructor(
    private readonly tables: StorageTables,
    private readonly catalog: Catalog,
  ) {}

  plan(tenantId: string, writes: readonly PrincipalWrite[], chunkPrefix: string): PlannedChunk[] {
    const byPartition = new Map<string, PrincipalWrite[]>();
    for (const write of writes) {
      const record = write.after ?? write.before;
      if (!record) continue;
      const partition = principalPartition(tenantId, record.id);
      const list = byPartition.get(partition);
      if (list) list.push(write);
      else byPartition.set(partition, [write]);
    }
    const chunks: PlannedChunk[] = [];
    let index = 0;
    for (const [partition, list] of byPartition) {
      let current: PrincipalWrite[] = [];
      let operations = 1;
      const groups = new Set<string>();
      const flush = () => {
        if (current.length === 0) return;
        chunks.push({ plan: chunkPlan(`${chunkPrefix}.${index++}`, partition, current), writes: current });
        current = [];
        operations = 1;
        groups.clear();
      };
      for (const write of list) {
        const own = 1 + this.waitingChanges(write).length;
        const newGroups = [...this.touchedGroups(write)].filter((g) => !groups.has(g));
        if (operations + own + newGroups.length > MAX_OPERATIONS) flush();
        current.push(write);
        operations += own;
        for (const g of this.touchedGroups(write)) {
          if (!groups.has(g)) {
            groups.add(g);
            operations++;
          }
        }
      }
      flush();
    }
    return chunks;
  }

  /** Writes the chunks (partitions in parallel, chunks of one partition in order). */
  async write(chunks: readonly PlannedChunk[], withMarkers: boolean): Promise<ChunkOutcome[]> {
    const byPartition = new Map<string, PlannedChunk[]>();
    for (const chunk of chunks) {
      const list = byPartition.get(chunk.plan.partition);
      if (list) list.push(chunk);
      else byPartition.set(chunk.plan.partition, [chunk]);
    }
    const outcomes: ChunkOutcome[] = [];
    const partitions = [...byPartition.entries()];
    let next = 0;
    const worker = async () => {
      while (next < partitions.length) {
        const item = partitions[next++];
        if (!item) break;
        const [partition, list] = item;
        outcomes.push(...(await this.writePartition(partition, list, withMarkers)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTITIONS_IN_FLIGHT, partitions.length) }, worker));
    return outcomes;
  }

  private async writePartition(
    partition: string,
    chunks: readonly PlannedChunk[],
    withMarkers: boolean,
  ): Promise<ChunkOutcome[]> {
    const outcomes: ChunkOutcome[] = [];
    const groupIds = new Set<string>();
    for (const chunk of chunks)
      for (const w of chunk.writes) for (const g of this.touchedGroups(w)) groupIds.add(g);
    const counters = await this.readCounters(partition, [...groupIds]);
    let failed = false;
    for (const chunk of chunks) {
      if (failed) {
        outcomes.push({ chunk, landed: false, etags: new Map() });
        continue;
      }
      const { actions, principalIndexes, counterIndexes, nextCounters } = this.actionsFor(
        partition,
        chunk,
        counters,
        withMarkers,
      );
      try {
        const response = await this.tables.principals.submitTransaction(actions);
        const etags = new Map<string, string>();
        for (const [id, i] of principalIndexes) {
          const etag = response.subResponses[i]?.etag;
          if (etag) etags.set(id, etag);
        }
        for (const [groupId, i] of counterIndexes) {
          const value = nextCounters.get(groupId);
          if (value) counters.set(groupId, { ...value, etag: response.subResponses[i]?.etag });
        }
        outcomes.push({ chunk, landed: true, etags });
      } catch (error: unknown) {
        if (!isConflict(error) && !hasStatus(error, 404)) throw error;
        failed = true;
        outcomes.push({ chunk, landed: false, etags: new Map() });
      }
    }
    return outcomes;
  }

  private actionsFor(
    partition: string,
    chunk: PlannedChunk,
    counters: Map<string, GroupCounter>,
    withMarkers: boolean,
  ) {
    const actions: TransactionAction[] = [];
    const principalIndexes = new Map<string, number>();
    const counterIndexes = new Map<string, number>();
    const deltas = new Map<string, CounterDelta>();
    for (const write of chunk.writes) {
      const before = write.before;
      const after = write.after;
      const id = (after ?? before)?.id ?? '';
      if (after) {
        const entity = encodePrincipal(this.catalog, after);
        principalIndexes.set(id, actions.length);
        actions.push(
          before?.etag ? ['update', entity, 'Replace', { etag: before.etag }] : ['create', entity],
        );
      } else if (before) {
        actions.push(['delete', { partitionKey: partition, rowKey: before.id }]);
      }
      for (const change of this.waitingChanges(write)) {
        actions.push(
          change.op === 'create'
            ? ['create', { partitionKey: partition, rowKey: change.rowKey, p: id }]
            : ['delete', { partitionKey: partition, rowKey: change.rowKey }],
        );
      }
      for (const groupId of this.touchedGroups(write)) {
        const delta = deltas.get(groupId) ?? { succeeded: 0, failed: 0, errors: {} };
        applyOutcome(delta, outcomeFor(before, groupId), -1);
        applyOutcome(delta, outcomeFor(after, groupId), +1);
        deltas.set(groupId, delta);
      }
    }
    const nextCounters = new Map<string, GroupCounter>();
    for (const [groupId, delta] of deltas) {
      const current = counters.get(groupId);
      const next: GroupCounter = {
        succeeded: (current?.succeeded ?? 0) + delta.succeeded,
        failed: (current?.failed ?? 0) + delta.failed,
        errors: { ...(current?.errors ?? {}) },
        etag: current?.etag,
      };
      for (const [type, n] of Object.entries(delta.errors)) next.errors[type] = (next.errors[type] ?? 0) + n;
      if (delta.succeeded === 0 && delta.failed === 0 && Object.values(delta.errors).every((n) => n === 0))
        continue;
      const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
        partitionKey: partition,
        rowKey: groupCounterRow(groupId),
        ok: next.succeeded,
        err: next.failed,
      };
      for (const [type, n] of Object.entries(next.errors)) if (n !== 0) entity[`e_${type}`] = n;
      counterIndexes.set(groupId, actions.length);
      actions.push(
        current?.etag ? ['update', entity, 'Replace', { etag: current.etag }] : ['create', entity],
      );
      nextCounters.set(groupId, next);
    }
    if (withMarkers) actions.push(['create', { partitionKey: partition, rowKey: markerRow(chunk.plan.key) }]);
    return { actions, principalIndexes, counterIndexes, nextCounters };
  }

  /** Groups whose outcome for this principal may change: every group it has entries from, before or after. */
  private touchedGroups(write: PrincipalWrite): Set<string> {
    const groups = new Set<string>();
    for (const record of [write.before, write.after]) {
      if (!record) continue;
      for (const entry of record.entries)
        if (entry.assignedByGroup !== null) groups.add(entry.assignedByGroup);
    }
    return groups;
  }

  private waitingChanges(write: PrincipalWrite): { op: 'create' | 'delete'; rowKey: string }[] {
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

  private async readCounters(
    partition: string,
    groupIds: readonly string[],
  ): Promise<Map<string, GroupCounter>> {
    const counters = new Map<string, GroupCounter>();
    await Promise.all(
      groupIds.map(async (groupId) => {
        const entity = await getRow(this.tables.principals, partition, groupCounterRow(groupId));
        if (entity) counters.set(groupId, decodeCounter(entity));
      }),
    );
    return counters;
  }
}

export interface GroupCounter {
  succeeded: number;
  failed: number;
  errors: Record<string, number>;
  etag?: string | undefined;
}

interface CounterDelta {
  succeeded: number;
  failed: number;
  errors: Record<string, number>;
}

export function decodeCounter(entity: RawEntity): GroupCounter {
  const errors: Record<string, number> = {};
  for (const [key, value] of Object.entries(entity)) {
    if (key.startsWith('e_') && typeof value === 'number') errors[key.slice(2)] = value;
  }
  return { succeeded: getNumber(entity, 'ok'), failed: getNumber(entity, 'err'), errors, etag: entity.etag };
}

function outcomeFor(record: PrincipalRecord | undefined, groupId: string): Outcome {
  if (!record || record.deletedDateTime !== null) return { kind: 'none' };
  const outcome = memberOutcome(record.entries, groupId);
  if (outcome === 'none') return { kind: 'none' };
  if (outcome === 'succeeded') return { kind: 'succeeded' };
  const error =
    record.entries.find((e) => e.assignedByGroup === groupId && e.state === 'Error')?.error ?? 'Other';
  return { kind: 'failed', error };
}

function applyOutcome(delta: CounterDelta, outcome: Outcome, sign: number): void {
  if (outcome.kind === 'succeeded') delta.succeeded += sign;
  else if (outcome.kind === 'failed') {
    delta.failed += sign;
    delta.errors[outcome.error] = (delta.errors[outcome.error] ?? 0) + sign;
  }
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
