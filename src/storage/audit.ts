import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AuditTrail } from '../application/ports.js';
import type { AuditInput, DirectoryAudit } from '../application/records.js';
import { directoryAuditSchema } from '../contract/graph.js';
import { odata, tenantRangeEnd } from './keys.js';
import { putJson, queryRows, type RawEntity, requireJson } from './properties.js';
import type { StorageTables } from './tables.js';

export { GROUP_LICENSING_APP } from '../application/records.js';
export type { AuditInput, DirectoryAudit };

const MAX_TIME = 9_999_999_999_999;
const MINUTE = 60_000;

/**
 * Newest first without sorting: partitions are minutes counted backwards, rows are milliseconds counted backwards,
 * so one range query over a tenant's partitions returns records in reverse time order, and no partition holds
 * more than a minute of records.
 */
function partitionFor(tenantId: string, time: number): string {
  const minutes = Math.floor((MAX_TIME - time) / MINUTE);
  return `${tenantId}|${minutes.toString().padStart(11, '0')}`;
}

function rowFor(time: number, id: string): string {
  return `${(MAX_TIME - time).toString().padStart(13, '0')}|${id}`;
}

// Stored records are the Graph resource itself: one schema for both (src/contract/graph.ts).
const recordSchema = directoryAuditSchema;

/** A record as the application hands it over (`AuditInput`), with the key that makes writing it twice harmless. */
export const auditInputSchema = recordSchema
  .omit({ id: true, loggedByService: true, correlationId: true, additionalDetails: true })
  .extend({
    correlationId: z.string().optional(),
    additionalDetails: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
    idempotencyKey: z.string(),
  });

export class AuditLog implements AuditTrail {
  constructor(private readonly tables: StorageTables) {}

  /**
   * Appends records. Each record's id is derived from `idempotencyKey` when given, so a retried handler writes the
   * same row again instead of a duplicate.
   */
  async append(
    tenantId: string,
    inputs: readonly (AuditInput & { idempotencyKey?: string })[],
  ): Promise<void> {
    // Keyed by row too: the same event twice in one call (a duplicated notification) is one record, and a
    // transaction may not name a row twice.
    const byPartition = new Map<string, Map<string, Record<string, unknown>>>();
    for (const input of inputs) {
      const time = Date.parse(input.activityDateTime);
      const id = input.idempotencyKey ? stableId(input.idempotencyKey) : randomUUID();
      const record: DirectoryAudit = {
        ...input,
        id,
        correlationId: input.correlationId ?? id,
        loggedByService: 'Core Directory',
        additionalDetails: input.additionalDetails ?? [],
      };
      const partitionKey = partitionFor(tenantId, time);
      const rowKey = rowFor(time, id);
      const entity: Record<string, unknown> = {
        partitionKey,
        rowKey,
        a: record.activityDisplayName,
        t: record.activityDateTime,
      };
      putJson(entity, 'r', record);
      const rows = byPartition.get(partitionKey) ?? new Map<string, Record<string, unknown>>();
      rows.set(rowKey, entity);
      byPartition.set(partitionKey, rows);
    }
    await Promise.all(
      [...byPartition.values()].map(async (rows) => {
        const entities = [...rows.values()];
        for (let i = 0; i < entities.length; i += 100) {
          await this.tables.audit.submitTransaction(
            entities
              .slice(i, i + 100)
              .map((e) => ['upsert', e as { partitionKey: string; rowKey: string }, 'Replace']),
          );
        }
      }),
    );
  }

  /** Records newest first; `filter` is an OData filter over `a` (activity) and `t` (time), already validated. */
  async *list(tenantId: string, filter?: string): AsyncGenerator<DirectoryAudit> {
    for await (const entity of queryRows(this.tables.audit, auditFilter(tenantId, filter)))
      yield decodeAudit(entity);
  }
}

/** The table filter over a tenant's audit partitions (newest first), narrowed by an already validated filter. */
export function auditFilter(tenantId: string, filter?: string): string {
  const range = `PartitionKey ge ${odata(`${tenantId}|`)} and PartitionKey lt ${odata(tenantRangeEnd(tenantId))}`;
  return filter ? `${range} and (${filter})` : range;
}

export function decodeAudit(entity: RawEntity): DirectoryAudit {
  return requireJson(entity, 'r', recordSchema);
}

function stableId(key: string): string {
  // A UUID-shaped id from a hash of the key, so retries of the same event produce the same record.
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  let hex = '';
  for (let round = 0; hex.length < 32; round++) {
    for (let i = 0; i < key.length; i++) {
      h1 = Math.imul(h1 ^ key.charCodeAt(i), 0x01000193);
      h2 = Math.imul(h2 ^ (key.charCodeAt(i) + round), 0x5bd1e995);
    }
    hex += ((h1 ^ h2) >>> 0).toString(16).padStart(8, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
