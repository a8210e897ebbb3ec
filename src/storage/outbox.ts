import { z } from 'zod';
import type { OutboxStore } from '../application/ports.js';
import type { OutboxRecord } from '../application/records.js';
import { odata } from './keys.js';
import { etagOf } from './optimistic.js';
import {
  getJson,
  getRow,
  hasStatus,
  putJson,
  queryRows,
  type RawEntity,
  requireString,
} from './properties.js';
import type { StorageTables } from './tables.js';

/**
 * The outbox (src/storage/README.md, "Outbox"): rows `out|{id}` of the tenant's partition of `tenants`. There a row
 * can be committed in the same entity-group transaction as the group license rows it belongs to; it is deleted once
 * what it owes is done, and the sweep relays the rows whose writer died.
 */
export type { OutboxRecord };

export const OUTBOX_ROW_PREFIX = 'out|';
/** The first row key after every outbox row. */
const OUTBOX_ROW_END = 'out}';
export const outboxRow = (id: string) => `${OUTBOX_ROW_PREFIX}${id}`;

/** The rows of a tenant partition that are not outbox rows (everything the tenant partition's readers want). */
export function notOutboxRows(): string {
  return `(RowKey lt ${odata(OUTBOX_ROW_PREFIX)} or RowKey ge ${odata(OUTBOX_ROW_END)})`;
}

function outboxRange(tenantId: string): string {
  return `PartitionKey eq ${odata(tenantId)} and RowKey ge ${odata(OUTBOX_ROW_PREFIX)} and RowKey lt ${odata(OUTBOX_ROW_END)}`;
}

export function encodeOutbox(
  tenantId: string,
  record: OutboxRecord,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: tenantId,
    rowKey: outboxRow(record.id),
    ct: record.createdDateTime,
    ra: record.relayAfter,
  };
  putJson(entity, 'w', record.payload);
  return entity;
}

export function decodeOutbox(entity: RawEntity): OutboxRecord {
  return {
    id: entity.rowKey.slice(OUTBOX_ROW_PREFIX.length),
    createdDateTime: requireString(entity, 'ct'),
    relayAfter: requireString(entity, 'ra'),
    payload: getJson(entity, 'w', z.unknown(), undefined),
    ...(entity.etag ? { etag: entity.etag } : {}),
  };
}

export class Outbox implements OutboxStore {
  constructor(private readonly tables: StorageTables) {}

  async read(tenantId: string, id: string): Promise<OutboxRecord | undefined> {
    const entity = await getRow(this.tables.tenants, tenantId, outboxRow(id));
    return entity ? decodeOutbox(entity) : undefined;
  }

  /** Writes the row on its own (replacing one of the same id); returns it with its ETag. */
  async put(tenantId: string, record: OutboxRecord): Promise<OutboxRecord> {
    const response = await this.tables.tenants.upsertEntity(encodeOutbox(tenantId, record), 'Replace');
    return { ...record, ...(response.etag ? { etag: response.etag } : {}) };
  }

  /**
   * Rows whose writer is presumed dead (`relayAfter` passed), oldest first by id order, at most `limit`: one range
   * query of the tenant partition's outbox rows, read page by page and stopped at the limit.
   */
  async due(tenantId: string, now: Date, limit: number): Promise<OutboxRecord[]> {
    const filter = `${outboxRange(tenantId)} and ra le ${odata(now.toISOString())}`;
    const due: OutboxRecord[] = [];
    for await (const entity of queryRows(this.tables.tenants, filter)) {
      due.push(decodeOutbox(entity));
      if (due.length >= limit) break;
    }
    return due;
  }

  /** How many rows are waiting (work still owed by changes already committed). */
  async pending(tenantId: string): Promise<number> {
    let count = 0;
    for await (const _ of queryRows(this.tables.tenants, outboxRange(tenantId), ['RowKey'])) count++;
    return count;
  }

  /**
   * Deletes a row once what it owes is done. With the ETag it was read with, a newer version written since (a
   * later request for the same work) stays; a row already gone is fine (someone else relayed it). A row created
   * inside a transaction comes without its ETag: it is read back, and deleted only while it is still this version.
   */
  async remove(tenantId: string, record: OutboxRecord): Promise<void> {
    const stored = record.etag ? record : await this.read(tenantId, record.id);
    if (!stored || !sameVersion(stored, record)) return;
    try {
      await this.tables.tenants.deleteEntity(tenantId, outboxRow(record.id), {
        etag: etagOf(stored, `outbox row ${record.id}`),
      });
    } catch (error: unknown) {
      if (hasStatus(error, 404) || hasStatus(error, 412)) return;
      throw error;
    }
  }
}

/** Whether a stored row is the version a writer committed (same creation and same debt). */
function sameVersion(stored: OutboxRecord, record: OutboxRecord): boolean {
  return (
    stored.createdDateTime === record.createdDateTime &&
    JSON.stringify(stored.payload) === JSON.stringify(record.payload)
  );
}
