import type { TransactionAction } from '@azure/data-tables';
import type { MemberListPage, MemberListStore, MemberPosition } from '../application/ports.js';
import type { MemberKind, MemberRef } from '../application/records.js';
import { bucketRowKey, membersPartition, odata, SHARD_COUNT, shardOf } from './keys.js';
import { retryOnConflict } from './optimistic.js';
import {
  asRaw,
  getLongString,
  getNumber,
  getRow,
  putLongString,
  queryRows,
  type RawEntity,
} from './properties.js';
import type { StorageTables } from './tables.js';

export type { MemberKind, MemberRef };

const HEADER_ROW = 'h';
/** Up to this many touched buckets are point-read; more are read with one range query. */
const POINT_READ_BUCKETS = 16;
const ENTRY_WIDTH = 46;
/**
 * A page's first request asks for this many bucket rows, each next one for twice as many: a large group fills a page
 * from a few buckets (~390 members each at 100,000), a small one needs more of its sparse buckets.
 */
const FIRST_BUCKET_ROWS = 4;
const KIND_CODES: Record<MemberKind, string> = { user: 'u', device: 'd', group: 'g' };
const KINDS: Record<string, MemberKind> = { u: 'user', d: 'device', g: 'group' };

/**
 * A group's member list, packed: the members whose id falls in principal shard `s` live in bucket `s` of the
 * group's partition, as fixed-width entries (id, kind, join time). A 100,000-member group is 256 rows of ~390
 * entries, so listing it is one partition query, and a page of work over shards `a..b` reads exactly the buckets
 * whose principals live in partitions `a..b`. The member's own row (its memberOf) is the source of truth; this list
 * is the group-side index, updated idempotently by the same queue work.
 */
export function bucketOf(memberId: string): number {
  return shardOf(memberId);
}

function encodeEntries(entries: readonly MemberRef[]): string {
  return entries
    .map(
      (e) =>
        `${e.id.padEnd(36).slice(0, 36)}${KIND_CODES[e.kind]}${Date.parse(e.joinedAt).toString(36).padStart(9, '0')}`,
    )
    .join('');
}

function decodeEntries(text: string): MemberRef[] {
  const entries: MemberRef[] = [];
  // Members added together share a join time: convert each distinct one once (a bucket holds hundreds).
  const times = new Map<string, string>();
  for (let i = 0; i + ENTRY_WIDTH <= text.length; i += ENTRY_WIDTH) {
    const id = text.slice(i, i + 36).trimEnd();
    const kind = KINDS[text.charAt(i + 36)] ?? 'user';
    const code = text.slice(i + 37, i + ENTRY_WIDTH);
    let joinedAt = times.get(code);
    if (joinedAt === undefined) {
      joinedAt = new Date(Number.parseInt(code, 36)).toISOString();
      times.set(code, joinedAt);
    }
    entries.push({ id, kind, joinedAt });
  }
  return entries;
}

interface Bucket {
  readonly index: number;
  readonly entries: MemberRef[];
  readonly etag: string | undefined;
  /** The properties the row holds its entries in (`m`, `m1`, …): a write with fewer must drop the rest. */
  readonly parts: number;
}

function bucketOfRow(index: number, row: RawEntity): Bucket {
  return {
    index,
    entries: decodeEntries(getLongString(row, 'm') ?? ''),
    etag: row.etag,
    parts: partsOf(row),
  };
}

/**
 * A bucket row is merged when the entity writes every property the stored row has, so the result is exactly the
 * entity, and replaced only when it shrinks by a whole property. Azurite replaces a row by removing and inserting
 * it again, which shifts its table's indexes; it merges in place.
 */
function bucketUpdateMode(stored: Bucket, entity: Readonly<Record<string, unknown>>): 'Merge' | 'Replace' {
  return partsOf(entity) >= stored.parts ? 'Merge' : 'Replace';
}

/**
 * A member list as this process last read or wrote it: its count and the header's ETag, and the buckets it saw —
 * `null` for a bucket it knows has no row.
 */
interface ListSnapshot {
  readonly count: number;
  readonly headerEtag: string | undefined;
  readonly buckets: ReadonlyMap<number, Bucket | null>;
}

/**
 * Snapshots are kept of lists of up to this many members, and of this many members in all (then all are dropped):
 * ~150 bytes a member decoded, so a process holds at most ~40 MB of them.
 */
const SNAPSHOT_MAX_MEMBERS = 20_000;
const SNAPSHOTS_MAX_MEMBERS = 250_000;

/** The member-list snapshots of one process (one `MemberLists`), by partition. */
class ListSnapshots {
  private readonly byPartition = new Map<string, { snapshot: ListSnapshot; members: number }>();
  private members = 0;

  /** The snapshot of a list, if it covers every touched bucket; it is taken out (a failed write must not leave it). */
  take(partition: string, touched: ReadonlySet<number>): ListSnapshot | undefined {
    const kept = this.byPartition.get(partition);
    if (!kept) return undefined;
    this.byPartition.delete(partition);
    this.members -= kept.members;
    const { snapshot } = kept;
    return [...touched].every((index) => snapshot.buckets.has(index)) ? snapshot : undefined;
  }

  keep(partition: string, snapshot: ListSnapshot): void {
    let members = 0;
    for (const bucket of snapshot.buckets.values()) members += bucket?.entries.length ?? 0;
    const replaced = this.byPartition.get(partition);
    if (replaced) {
      this.byPartition.delete(partition);
      this.members -= replaced.members;
    }
    if (members > SNAPSHOT_MAX_MEMBERS) return;
    if (this.members + members > SNAPSHOTS_MAX_MEMBERS) {
      this.byPartition.clear();
      this.members = 0;
    }
    this.byPartition.set(partition, { snapshot, members });
    this.members += members;
  }
}

interface ChangePlan {
  readonly snapshot: ListSnapshot;
  /** The buckets the change rewrites, with their entries after it and the change in count. */
  readonly changed: ReadonlyMap<number, { entries: MemberRef[]; delta: number }>;
  /** Whether a touched bucket needs no write by this snapshot (a replay, or a snapshot out of date). */
  readonly unchanged: boolean;
}

function planChanges(
  snapshot: ListSnapshot,
  adds: readonly MemberRef[],
  removes: readonly string[],
): ChangePlan {
  const states = new Map<number, { entries: MemberRef[]; delta: number; dirty: boolean }>();
  const stateOf = (index: number) => {
    let state = states.get(index);
    if (!state) {
      state = { entries: [...(snapshot.buckets.get(index)?.entries ?? [])], delta: 0, dirty: false };
      states.set(index, state);
    }
    return state;
  };
  for (const id of removes) {
    const state = stateOf(bucketOf(id));
    const at = state.entries.findIndex((e) => e.id === id);
    if (at < 0) continue;
    state.entries.splice(at, 1);
    state.delta--;
    state.dirty = true;
  }
  for (const add of adds) {
    const state = stateOf(bucketOf(add.id));
    if (state.entries.some((e) => e.id === add.id)) continue;
    state.entries.push(add);
    state.delta++;
    state.dirty = true;
  }
  // A bucket whose count is unchanged may still have changed (one member left, another joined).
  const changed = new Map<number, { entries: MemberRef[]; delta: number }>();
  let unchanged = false;
  for (const [index, state] of states) {
    if (state.dirty) changed.set(index, state);
    else unchanged = true;
  }
  return { snapshot, changed, unchanged };
}

const partsOf = (row: Readonly<Record<string, unknown>>) =>
  Object.keys(row).filter((key) => /^m\d*$/.test(key)).length;

export class MemberLists implements MemberListStore {
  private readonly snapshots = new ListSnapshots();

  constructor(private readonly tables: StorageTables) {}

  /** Members in buckets `from..to` (exclusive), i.e. those whose principal rows live in shards `from..to`. */
  async listRange(tenantId: string, groupId: string, from = 0, to = SHARD_COUNT): Promise<MemberRef[]> {
    const buckets = await this.readBuckets(tenantId, groupId, from, to);
    return buckets.flatMap((b) => b.entries);
  }

  async listPage(
    tenantId: string,
    groupId: string,
    limit: number,
    after?: MemberPosition,
  ): Promise<MemberListPage> {
    const partition = membersPartition(tenantId, groupId);
    const from = after ? Math.max(0, Math.min(SHARD_COUNT, after.shard)) : 0;
    const filter = `PartitionKey eq ${odata(partition)} and RowKey ge '${bucketRowKey(from)}' and RowKey lt '${bucketRowKey(SHARD_COUNT)}'`;
    const refs: MemberRef[] = [];
    let continuationToken: string | undefined;
    let rows = FIRST_BUCKET_ROWS;
    // One member beyond the page tells whether another page follows (no empty last page).
    do {
      const pages = this.tables.members
        .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
        .byPage({ maxPageSize: rows, ...(continuationToken ? { continuationToken } : {}) });
      const next = await pages.next();
      if (next.done) break;
      for (const entity of next.value) {
        const row = asRaw(entity);
        const index = Number.parseInt(row.rowKey.slice(1), 10);
        refs.push(...pageEntries(bucketOfRow(index, row).entries, index, after));
      }
      continuationToken = next.value.continuationToken;
      rows = Math.min(SHARD_COUNT, rows * 2);
    } while (continuationToken && refs.length <= limit);
    return pageFrom(refs, limit);
  }

  async count(tenantId: string, groupId: string): Promise<number> {
    const header = await getRow(this.tables.members, membersPartition(tenantId, groupId), HEADER_ROW);
    return header ? getNumber(header, 'n') : 0;
  }

  async has(tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    const bucket = bucketOf(memberId);
    const [found] = await this.readTouchedBuckets(tenantId, groupId, new Set([bucket]));
    return found?.entries.some((e) => e.id === memberId) ?? false;
  }

  /**
   * Adds and removes members in one transaction per 99 buckets, with ETags (retrying on conflicts). Adding a
   * present member or removing an absent one changes nothing, so replays are harmless. Returns the new count.
   *
   * The first attempt starts from what this process last read or wrote of the list (`ListSnapshot`) when it covers
   * every bucket the change touches and the change rewrites each of them: every touched bucket and the count are
   * then written under the ETags remembered, so a list changed since fails the transaction and the retry reads it
   * afresh. A change the snapshot says is already made is never trusted: that is read afresh too. Membership
   * changes join in one phase and leave in another (changes.ts), so the second reads nothing.
   */
  async apply(
    tenantId: string,
    groupId: string,
    adds: readonly MemberRef[],
    removes: readonly string[],
  ): Promise<number> {
    const partition = membersPartition(tenantId, groupId);
    const touched = new Set([...adds.map((a) => bucketOf(a.id)), ...removes.map(bucketOf)]);
    let attempt = 0;
    return retryOnConflict(`the member list of group ${groupId}`, async () => {
      // Without a bucket to write, nothing would check the remembered count: it is read.
      const remembered =
        attempt++ === 0 && touched.size > 0 ? this.snapshots.take(partition, touched) : undefined;
      let plan = remembered ? planChanges(remembered, adds, removes) : undefined;
      if (!plan || plan.unchanged) {
        const read = await this.readSnapshot(tenantId, groupId, partition, touched);
        plan = planChanges(read, adds, removes);
      }
      const { snapshot, changed } = plan;
      const indexes = [...changed.keys()];
      if (indexes.length === 0) {
        this.snapshots.keep(partition, snapshot);
        return snapshot.count;
      }
      let count = snapshot.count;
      let headerEtag = snapshot.headerEtag;
      const written = new Map(snapshot.buckets);
      // Each transaction carries the header with its own part of the count, so a retry after a partial
      // success counts only what is still missing (present members are skipped).
      for (let i = 0; i < indexes.length; i += 99) {
        const slice = indexes.slice(i, i + 99);
        const actions: TransactionAction[] = [];
        const entities: { index: number; entries: MemberRef[]; parts: number }[] = [];
        for (const index of slice) {
          const state = changed.get(index);
          if (!state) continue;
          const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
            partitionKey: partition,
            rowKey: bucketRowKey(index),
          };
          putLongString(entity, 'm', encodeEntries(state.entries));
          const stored = snapshot.buckets.get(index);
          actions.push(
            stored?.etag
              ? ['update', entity, bucketUpdateMode(stored, entity), { etag: stored.etag }]
              : ['create', entity],
          );
          entities.push({ index, entries: state.entries, parts: partsOf(entity) });
          count += state.delta;
        }
        const headerEntity = { partitionKey: partition, rowKey: HEADER_ROW, n: Math.max(0, count) };
        actions.push(
          // The header has one property: merging it is replacing it, in place.
          headerEtag ? ['update', headerEntity, 'Merge', { etag: headerEtag }] : ['create', headerEntity],
        );
        const response = await this.tables.members.submitTransaction(actions);
        entities.forEach(({ index, entries, parts }, at) => {
          written.set(index, { index, entries, etag: response.subResponses[at]?.etag, parts });
        });
        headerEtag = response.subResponses[actions.length - 1]?.etag;
      }
      this.snapshots.keep(partition, { count, headerEtag, buckets: written });
      return count;
    });
  }

  /** Removes a whole member list (the group was deleted). */
  async drop(tenantId: string, groupId: string): Promise<void> {
    const partition = membersPartition(tenantId, groupId);
    const keys: string[] = [];
    for await (const e of queryRows(this.tables.members, `PartitionKey eq ${odata(partition)}`, ['RowKey'])) {
      keys.push(e.rowKey);
    }
    for (let i = 0; i < keys.length; i += 100) {
      await this.tables.members.submitTransaction(
        keys.slice(i, i + 100).map((rowKey) => ['delete', { partitionKey: partition, rowKey }]),
      );
    }
  }

  /**
   * The touched buckets and the header, read now. A range read keeps every bucket of its range (a later change to
   * the list, such as the leaves after the joins, may touch others in it); point reads keep the touched ones.
   */
  private async readSnapshot(
    tenantId: string,
    groupId: string,
    partition: string,
    touched: ReadonlySet<number>,
  ): Promise<ListSnapshot> {
    const buckets = new Map<number, Bucket | null>();
    let covered: Iterable<number> = touched;
    let rows: Bucket[];
    if (touched.size > POINT_READ_BUCKETS) {
      const from = Math.min(...touched);
      const to = Math.max(...touched) + 1;
      rows = await this.readBuckets(tenantId, groupId, from, to);
      covered = Array.from({ length: to - from }, (_, i) => from + i);
    } else rows = await this.readTouchedBuckets(tenantId, groupId, touched);
    for (const index of covered) buckets.set(index, null);
    for (const bucket of rows) buckets.set(bucket.index, bucket);
    const header = await this.readHeader(partition);
    return { count: header.count, headerEtag: header.etag, buckets };
  }

  private async readHeader(partition: string): Promise<{ count: number; etag: string | undefined }> {
    const header = await getRow(this.tables.members, partition, HEADER_ROW);
    return header ? { count: getNumber(header, 'n'), etag: header.etag } : { count: 0, etag: undefined };
  }

  /**
   * The buckets a change touches: a few by point reads (a large group's whole list is megabytes), many by one
   * range query over the span they cover.
   */
  private async readTouchedBuckets(
    tenantId: string,
    groupId: string,
    touched: ReadonlySet<number>,
  ): Promise<Bucket[]> {
    if (touched.size > POINT_READ_BUCKETS) {
      const from = Math.min(...touched);
      return this.readBuckets(tenantId, groupId, from, Math.max(...touched) + 1, touched);
    }
    const partition = membersPartition(tenantId, groupId);
    const rows = await Promise.all(
      [...touched].map(async (index) => ({
        index,
        row: await getRow(this.tables.members, partition, bucketRowKey(index)),
      })),
    );
    return rows.flatMap(({ index, row }) => (row ? [bucketOfRow(index, row)] : []));
  }

  private async readBuckets(
    tenantId: string,
    groupId: string,
    from: number,
    to: number,
    only?: ReadonlySet<number>,
  ): Promise<Bucket[]> {
    const partition = membersPartition(tenantId, groupId);
    const filter = `PartitionKey eq ${odata(partition)} and RowKey ge '${bucketRowKey(from)}' and RowKey lt '${bucketRowKey(to)}'`;
    const buckets: Bucket[] = [];
    for await (const entity of queryRows(this.tables.members, filter)) {
      const index = Number.parseInt(entity.rowKey.slice(1), 10);
      if (only && !only.has(index)) continue;
      buckets.push(bucketOfRow(index, entity));
    }
    return buckets;
  }
}

/** A bucket's members in the page order (by id), those at or before `after` left out. */
export function pageEntries(
  entries: readonly MemberRef[],
  bucket: number,
  after?: MemberPosition,
): MemberRef[] {
  const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (!after || bucket > after.shard) return sorted;
  if (bucket < after.shard) return [];
  return sorted.filter((e) => e.id > after.id);
}

/** The first `limit` of members read in page order, and where the next page starts if any member is left. */
export function pageFrom(refs: readonly MemberRef[], limit: number): MemberListPage {
  if (refs.length <= limit) return { refs };
  const page = refs.slice(0, limit);
  const last = page[page.length - 1];
  return last ? { refs: page, next: { shard: bucketOf(last.id), id: last.id } } : { refs: page };
}
