import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { z } from 'zod';
import { WriteConflictError } from '../application/errors.js';

/** A row as read back: properties are untrusted until a schema has checked them. */
export type RawEntity = Record<string, unknown> & {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly etag?: string;
};

/** Narrows what the SDK returns (keys are optional in its types) to a row with keys. */
export function asRaw(
  entity: Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag?: string },
): RawEntity {
  const { partitionKey, rowKey, etag } = entity;
  if (typeof partitionKey !== 'string' || typeof rowKey !== 'string') {
    throw new Error('Storage returned an entity without keys');
  }
  return { ...entity, partitionKey, rowKey, ...(typeof etag === 'string' ? { etag } : {}) };
}

/** Azure caps a string property at 64 KiB (32 K UTF-16 characters); longer JSON spills into numbered siblings. */
const CHUNK = 30_000;
const MAX_CHUNKS = 30;

export function putLongString(target: Record<string, unknown>, name: string, value: string): void {
  for (let i = 0; i * CHUNK < value.length || i === 0; i++) {
    if (i >= MAX_CHUNKS)
      throw new Error(`property ${name} is too large to store (${value.length} characters)`);
    target[i === 0 ? name : `${name}${i}`] = value.slice(i * CHUNK, (i + 1) * CHUNK);
  }
}

export function getLongString(source: Record<string, unknown>, name: string): string | undefined {
  const first = source[name];
  if (typeof first !== 'string') return undefined;
  let value = first;
  for (let i = 1; i < MAX_CHUNKS; i++) {
    const next = source[`${name}${i}`];
    if (typeof next !== 'string') break;
    value += next;
  }
  return value;
}

export function putJson(target: Record<string, unknown>, name: string, value: unknown): void {
  putLongString(target, name, JSON.stringify(value));
}

/** Reads a JSON property and checks it against a schema; a corrupt row fails loudly with its keys. */
export function getJson<T>(source: RawEntity, name: string, schema: z.ZodType<T>, fallback: T): T {
  const text = getLongString(source, name);
  if (text === undefined) return fallback;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CorruptEntityError(source, `${name} is not JSON`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new CorruptEntityError(source, `${name}: ${result.error.message}`);
  return result.data;
}

export function requireJson<T>(source: RawEntity, name: string, schema: z.ZodType<T>): T {
  if (getLongString(source, name) === undefined) throw new CorruptEntityError(source, `${name} is missing`);
  return getJson(source, name, schema, undefined as T);
}

export class CorruptEntityError extends Error {
  constructor(entity: RawEntity, detail: string) {
    super(`Stored entity ${entity.partitionKey}/${entity.rowKey} is not valid: ${detail}`);
    this.name = 'CorruptEntityError';
  }
}

export function getString(source: RawEntity, name: string): string | undefined {
  const value = source[name];
  return typeof value === 'string' ? value : undefined;
}

export function requireString(source: RawEntity, name: string): string {
  const value = source[name];
  if (typeof value !== 'string') throw new CorruptEntityError(source, `${name} is missing`);
  return value;
}

export function getNumber(source: RawEntity, name: string, fallback = 0): number {
  const value = source[name];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return fallback;
}

export function getBoolean(source: RawEntity, name: string, fallback = false): boolean {
  const value = source[name];
  return typeof value === 'boolean' ? value : fallback;
}

/** Is this a storage error with the given HTTP status? */
export function hasStatus(error: unknown, status: number): boolean {
  return typeof error === 'object' && error !== null && 'statusCode' in error && error.statusCode === status;
}

/** Did a write lose an optimistic race (412 under a stale ETag, 409 for a create of an existing row)? */
export function isConflict(error: unknown): boolean {
  return error instanceof WriteConflictError || hasStatus(error, 412) || hasStatus(error, 409);
}

/** Deletes a row; one already gone is fine (a retry, or another worker got there first). Other failures throw. */
export async function deleteIfExists(
  client: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<void> {
  try {
    await client.deleteEntity(partitionKey, rowKey);
  } catch (error: unknown) {
    if (!hasStatus(error, 404)) throw error;
  }
}

/** Point read; `undefined` when the row does not exist. */
export async function getRow(
  client: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<RawEntity | undefined> {
  try {
    return asRaw(await client.getEntity<Record<string, unknown>>(partitionKey, rowKey));
  } catch (error: unknown) {
    if (hasStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Rows matching an OData filter, page by page (the SDK follows continuation tokens). */
export async function* queryRows(
  client: TableClient,
  filter: string,
  select?: string[],
): AsyncGenerator<RawEntity> {
  // Keys always come back, so every row can be told apart (a select without them returns key-less rows).
  const queryOptions = select
    ? { filter, select: [...new Set(['PartitionKey', 'RowKey', ...select])] }
    : { filter };
  for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions }))
    yield asRaw(entity);
}

/**
 * Creates rows of one partition in transactions of 100; a transaction refused for a taken key is retried row by
 * row, so only the rows whose key is taken are left out. Returns their row keys.
 */
export async function createAll(
  table: TableClient,
  entities: readonly (Record<string, unknown> & { partitionKey: string; rowKey: string })[],
): Promise<Set<string>> {
  const taken = new Set<string>();
  for (let i = 0; i < entities.length; i += 100) {
    const slice = entities.slice(i, i + 100);
    try {
      await table.submitTransaction(slice.map((entity): TransactionAction => ['create', entity]));
      continue;
    } catch (error: unknown) {
      if (!isConflict(error)) throw error;
    }
    for (const entity of slice) {
      try {
        await table.createEntity(entity);
      } catch (error: unknown) {
        if (!isConflict(error)) throw error;
        taken.add(entity.rowKey);
      }
    }
  }
  return taken;
}
