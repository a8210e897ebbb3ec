/**
 * Partition and row keys. Every partition that grows with a tenant is sharded: Azurite's cost per operation grows
 * with partition size, and Azure caps a partition at about 2,000 entities/s (src/storage/README.md).
 */

/** Principals (users and devices) and groups are spread over this many partitions per tenant. */
export const SHARD_COUNT = 256;
/** Principal shards per principal table (src/storage/tables.ts): a range of them is one table's query. */
export const SHARDS_PER_TABLE = 16;

/** FNV-1a over the id: ids from imports are not always random, so the shard must not depend on their shape. */
export function shardOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SHARD_COUNT;
}

export function shardKey(shard: number): string {
  return shard.toString(16).padStart(2, '0');
}

export function principalPartition(tenantId: string, principalId: string): string {
  return `${tenantId}|${shardKey(shardOf(principalId))}`;
}

export function principalShardPartition(tenantId: string, shard: number): string {
  return `${tenantId}|${shardKey(shard)}`;
}

/** The first key after every shard partition of a tenant (for range queries over all of them). */
export function tenantRangeEnd(tenantId: string): string {
  return `${tenantId}|~`;
}

export function groupPartition(tenantId: string, groupId: string): string {
  return `${tenantId}|${shardKey(shardOf(groupId))}`;
}

export function membersPartition(tenantId: string, groupId: string): string {
  return `${tenantId}|${groupId}`;
}

export function bucketRowKey(bucket: number): string {
  return `b${bucket.toString().padStart(6, '0')}`;
}

/** Row keys may not contain / \ # ? or control characters; names and addresses can. */
export function encodeKey(value: string): string {
  return encodeURIComponent(value.toLowerCase()).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16)}`,
  );
}

/** The names-table row of a user principal name (case-insensitive, so the lower case is the key). */
export function userNameKey(tenantId: string, userPrincipalName: string) {
  const lower = userPrincipalName.toLowerCase();
  return { partitionKey: `${tenantId}|${shardKey(shardOf(lower))}`, rowKey: encodeKey(lower) };
}

/** Escapes a string literal for an OData filter. */
export function odata(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A property name from a GUID: Table property names must be identifiers. */
export function guidProperty(prefix: string, guid: string): string {
  return `${prefix}${guid.replace(/-/g, '')}`;
}
