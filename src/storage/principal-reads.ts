import { inParallel } from './in-flight.js';
import {
  odata,
  principalPartition,
  principalShardPartition,
  SHARD_COUNT,
  SHARDS_PER_TABLE,
  tenantRangeEnd,
} from './keys.js';
import { decodePrincipal, isPrincipalRow, type PrincipalRecord } from './principal-records.js';
import { getRow, queryRows } from './properties.js';
import { removableMarker } from './seat-ledger.js';
import type { StorageTables } from './tables.js';

const POINT_READS_IN_FLIGHT = 32;

export async function readPrincipal(
  tables: StorageTables,
  tenantId: string,
  id: string,
): Promise<PrincipalRecord | undefined> {
  const partition = principalPartition(tenantId, id);
  const entity = await getRow(tables.principalsFor(partition), partition, id);
  return entity ? decodePrincipal(tenantId, entity) : undefined;
}

/** Point reads, many in flight: for scattered principals. */
export async function readPrincipals(
  tables: StorageTables,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, PrincipalRecord>> {
  const found = new Map<string, PrincipalRecord>();
  await inParallel([...new Set(ids)], POINT_READS_IN_FLIGHT, async (id) => {
    const record = await readPrincipal(tables, tenantId, id);
    if (record) found.set(id, record);
  });
  return found;
}

/**
 * Like readPrincipalShards, plus the reservation markers (`~r|…`) of those partitions, which the writer can delete
 * in the same transactions once their reservations are closed (fences only once they are a lease old).
 */
export async function readPrincipalShardsWithMarkers(
  tables: StorageTables,
  tenantId: string,
  fromShard: number,
  toShardExclusive: number,
  wanted?: ReadonlySet<string>,
): Promise<{ records: Map<string, PrincipalRecord>; markers: Map<string, string[]> }> {
  const records = new Map<string, PrincipalRecord>();
  const markers = new Map<string, string[]>();
  const now = Date.now();
  const from = principalShardPartition(tenantId, fromShard);
  const to =
    toShardExclusive >= SHARD_COUNT
      ? tenantRangeEnd(tenantId)
      : principalShardPartition(tenantId, toShardExclusive);
  const filter =
    `PartitionKey ge ${odata(from)} and PartitionKey lt ${odata(to)} and ` +
    `(RowKey lt '~' or (RowKey ge '~r|' and RowKey lt '~r}'))`;
  for await (const entity of queryShardRange(tables, fromShard, toShardExclusive, filter)) {
    if (entity.rowKey.startsWith('~r|')) {
      if (!removableMarker(entity, now)) continue;
      markers.set(entity.partitionKey, [...(markers.get(entity.partitionKey) ?? []), entity.rowKey]);
      continue;
    }
    if (!isPrincipalRow(entity) || (wanted && !wanted.has(entity.rowKey))) continue;
    records.set(entity.rowKey, decodePrincipal(tenantId, entity));
  }
  return { records, markers };
}

/**
 * Every principal in a range of shards, in one query: for pages where most of the range's principals are wanted
 * (a large group), one query beats hundreds of point reads.
 */
export async function readPrincipalShards(
  tables: StorageTables,
  tenantId: string,
  fromShard: number,
  toShardExclusive: number,
  wanted?: ReadonlySet<string>,
): Promise<Map<string, PrincipalRecord>> {
  const found = new Map<string, PrincipalRecord>();
  const from = principalShardPartition(tenantId, fromShard);
  const to =
    toShardExclusive >= SHARD_COUNT
      ? tenantRangeEnd(tenantId)
      : principalShardPartition(tenantId, toShardExclusive);
  const filter = `PartitionKey ge ${odata(from)} and PartitionKey lt ${odata(to)} and RowKey lt '~'`;
  for await (const entity of queryShardRange(tables, fromShard, toShardExclusive, filter)) {
    if (!isPrincipalRow(entity)) continue;
    if (wanted && !wanted.has(entity.rowKey)) continue;
    found.set(entity.rowKey, decodePrincipal(tenantId, entity));
  }
  return found;
}

/** Runs a query on each principal table that holds shards of `from..to` (a page's range is usually one table). */
async function* queryShardRange(tables: StorageTables, from: number, to: number, filter: string) {
  const first = Math.floor(from / SHARDS_PER_TABLE);
  const last = Math.floor(Math.max(from, to - 1) / SHARDS_PER_TABLE);
  for (let t = first; t <= last; t++)
    yield* queryRows(tables.principalsForShard(t * SHARDS_PER_TABLE), filter);
}
