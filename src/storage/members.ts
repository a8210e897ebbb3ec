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
  const parts = Object.keys(row).filter((key) => /^m\d*$/.test(key)).length;
  return { index, entries: decodeEntries(getLongString(row, 'm') ?? ''), etag: row.etag, parts };
}

/**
 * A bucket row is merged when the entity writes every property the stored row has, so the result is exactly the
 * entity, and replaced only when it shrinks by a whole property. Azurite replaces a row by removing and inserting
 * it again, which shifts its table's indexes; it merges in place.
 */
function bucketUpdateMode(stored: Bucket, entity: Readonly<Record<string, unknown>>): 'Merge' | 'Replace' {
  const parts = Object.keys(entity).filter((key) => /^m\d*$/.test(key)).length;
  return parts >= stored.parts ? 'Merge' : 'Replace';
}

export class MemberLists implements MemberListStore {
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
   */
  async apply(
    tenantId: string,
    groupId: string,
    adds: readonly MemberRef[],
    removes: readonly string[],
  ): Promise<number> {
    const partition = membersPartition(tenantId, groupId);
    return retryOnConflict(`the member list of group ${groupId}`, async () => {
      const touched = new Set([...adds.map((a) => bucketOf(a.id)), ...removes.map(bucketOf)]);
      const buckets = new Map(
        (await this.readTouchedBuckets(tenantId, groupId, touched)).map((b) => [b.index, b] as const),
      );
      const header = await this.readHeader(partition);
      const changed = new Map<number, { entries: MemberRef[]; delta: number; dirty: boolean }>();
      const stateOf = (index: number) => {
        let state = changed.get(index);
        if (!state) {
          state = { entries: [...(buckets.get(index)?.entries ?? [])], delta: 0, dirty: false };
          changed.set(index, state);
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
      const indexes = [...changed.keys()].filter((i) => changed.get(i)?.dirty);
      let count = header.count;
      let headerEtag = header.etag;
      if (indexes.length === 0) return count;
      // Each transaction carries the header with its own part of the count, so a retry after a partial
      // success counts only what is still missing (present members are skipped).
      for (let i = 0; i < indexes.length; i += 99) {
        const slice = indexes.slice(i, i + 99);
        const actions: TransactionAction[] = [];
        for (const index of slice) {
          const state = changed.get(index);
          if (!state) continue;
          const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
            partitionKey: partition,
            rowKey: bucketRowKey(index),
          };
          putLongString(entity, 'm', encodeEntries(state.entries));
          const stored = buckets.get(index);
          actions.push(
            stored?.etag
              ? ['update', entity, bucketUpdateMode(stored, entity), { etag: stored.etag }]
              : ['create', entity],
          );
          count += state.delta;
        }
        const headerEntity = { partitionKey: partition, rowKey: HEADER_ROW, n: Math.max(0, count) };
        actions.push(
          // The header has one property: merging it is replacing it, in place.
          headerEtag ? ['update', headerEntity, 'Merge', { etag: headerEtag }] : ['create', headerEntity],
        );
        const response = await this.tables.members.submitTransaction(actions);
        headerEtag = response.subResponses[actions.length - 1]?.etag;
      }
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
