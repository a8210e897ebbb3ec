import type { TableTransaction } from '@azure/data-tables';
import { z } from 'zod';
import type { AlertStore } from '../application/ports.js';
import {
  ALERT_KINDS,
  type AlertDeliveryRecord,
  type AlertDeliveryStatus,
  type AlertNotification,
  type AlertSubscriptionRecord,
} from '../application/records.js';
import { odata } from './keys.js';
import { etagOf } from './optimistic.js';
import {
  CorruptEntityError,
  getJson,
  getNumber,
  getRow,
  getString,
  hasStatus,
  putJson,
  queryRows,
  type RawEntity,
  requireJson,
  requireString,
} from './properties.js';
import type { StorageTables } from './tables.js';

/*
 * Table `alerts`, partition `{tenant}` (src/storage/README.md, "Alerts"):
 * - `s|{alert}`: a subscription — receiver, kinds, secret, threshold, and the baseline of figures already alerted;
 * - `d|{alert}|{delivery}`: a delivery — its notifications and its attempts; delivery ids sort by creation time;
 * - `q`: until when an evaluation is queued (coalesces requests).
 * One partition per tenant, so a decision (a baseline and its delivery) is one transaction.
 */

const SUBSCRIPTION = 's|';
const DELIVERY = 'd|';
const QUEUED = 'q';
const subscriptionRow = (id: string) => `${SUBSCRIPTION}${id}`;
const deliveryRow = (alertId: string, id: string) => `${DELIVERY}${alertId}|${id}`;
/** The first row key after every row starting with `prefix` ('|' < '}'). */
const after = (prefix: string) => `${prefix.slice(0, -1)}}`;

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

const kindsSchema = z.array(z.enum(ALERT_KINDS));
const baselineSchema = z.record(z.string(), z.number());
const notificationsSchema = z.array(
  z.object({
    subscriptionId: z.string(),
    clientState: z.string().nullable(),
    changeType: z.literal('created'),
    resource: z.string(),
    tenantId: z.string(),
    resourceData: z.record(z.string(), z.unknown()),
  }),
);
const STATUSES = ['pending', 'delivered', 'parked', 'cancelled'] as const;

function encodeSubscription(record: AlertSubscriptionRecord): Entity {
  const entity: Entity = {
    partitionKey: record.tenantId,
    rowKey: subscriptionRow(record.id),
    url: record.notificationUrl,
    sec: record.secret,
    pct: record.seatUsagePercent,
    ct: record.createdDateTime,
  };
  if (record.clientState !== null) entity.cs = record.clientState;
  putJson(entity, 'k', record.kinds);
  putJson(entity, 'b', record.baseline);
  return entity;
}

function decodeSubscription(entity: RawEntity): AlertSubscriptionRecord {
  return {
    tenantId: entity.partitionKey,
    id: entity.rowKey.slice(SUBSCRIPTION.length),
    kinds: requireJson(entity, 'k', kindsSchema),
    notificationUrl: requireString(entity, 'url'),
    clientState: getString(entity, 'cs') ?? null,
    secret: requireString(entity, 'sec'),
    seatUsagePercent: getNumber(entity, 'pct', 90),
    createdDateTime: requireString(entity, 'ct'),
    baseline: getJson(entity, 'b', baselineSchema, {}),
    ...(entity.etag ? { etag: entity.etag } : {}),
  };
}

function encodeDelivery(record: AlertDeliveryRecord): Entity {
  const entity: Entity = {
    partitionKey: record.tenantId,
    rowKey: deliveryRow(record.alertId, record.id),
    ct: record.createdDateTime,
    st: record.status,
    n: record.attempts,
    na: record.nextAttemptDateTime,
  };
  if (record.lastAttemptDateTime !== null) entity.la = record.lastAttemptDateTime;
  if (record.lastStatus !== null) entity.ls = record.lastStatus;
  if (record.lastError !== null) entity.le = record.lastError.slice(0, 1000);
  putJson(entity, 'v', record.notifications);
  return entity;
}

function decodeDelivery(entity: RawEntity): AlertDeliveryRecord {
  const [alertId, id] = entity.rowKey.slice(DELIVERY.length).split('|');
  const status = requireString(entity, 'st');
  if (!alertId || !id || !(STATUSES as readonly string[]).includes(status))
    throw new CorruptEntityError(entity, 'not a delivery');
  const lastStatus = entity.ls;
  return {
    tenantId: entity.partitionKey,
    alertId,
    id,
    createdDateTime: requireString(entity, 'ct'),
    status: status as AlertDeliveryStatus,
    attempts: getNumber(entity, 'n'),
    nextAttemptDateTime: requireString(entity, 'na'),
    lastAttemptDateTime: getString(entity, 'la') ?? null,
    lastStatus: typeof lastStatus === 'number' ? lastStatus : null,
    lastError: getString(entity, 'le') ?? null,
    notifications: requireJson(entity, 'v', notificationsSchema) as AlertNotification[],
    ...(entity.etag ? { etag: entity.etag } : {}),
  };
}

export class TableAlertStore implements AlertStore {
  constructor(private readonly tables: StorageTables) {}

  private get table() {
    return this.tables.alerts;
  }

  async subscriptions(tenantId: string): Promise<AlertSubscriptionRecord[]> {
    const filter = `PartitionKey eq ${odata(tenantId)} and RowKey ge ${odata(SUBSCRIPTION)} and RowKey lt ${odata(after(SUBSCRIPTION))}`;
    const found: AlertSubscriptionRecord[] = [];
    for await (const entity of queryRows(this.table, filter)) found.push(decodeSubscription(entity));
    return found;
  }

  async subscription(tenantId: string, id: string): Promise<AlertSubscriptionRecord | undefined> {
    const entity = await getRow(this.table, tenantId, subscriptionRow(id));
    return entity ? decodeSubscription(entity) : undefined;
  }

  async createSubscription(record: AlertSubscriptionRecord): Promise<AlertSubscriptionRecord> {
    const response = await this.table.createEntity(encodeSubscription(record));
    return { ...record, ...(response.etag ? { etag: response.etag } : {}) };
  }

  async replaceSubscription(record: AlertSubscriptionRecord): Promise<AlertSubscriptionRecord> {
    const response = await this.table.updateEntity(encodeSubscription(record), 'Replace', {
      etag: etagOf(record, `alert subscription ${record.id}`),
    });
    return { ...record, ...(response.etag ? { etag: response.etag } : {}) };
  }

  async deleteSubscription(tenantId: string, id: string): Promise<boolean> {
    try {
      await this.table.deleteEntity(tenantId, subscriptionRow(id));
      return true;
    } catch (error: unknown) {
      if (hasStatus(error, 404)) return false;
      throw error;
    }
  }

  async commitDecision(
    subscription: AlertSubscriptionRecord,
    deliveries: readonly AlertDeliveryRecord[],
  ): Promise<void> {
    const actions: TableTransaction['actions'] = [
      [
        'update',
        encodeSubscription(subscription),
        'Replace',
        { etag: etagOf(subscription, `alert subscription ${subscription.id}`) },
      ],
    ];
    for (const delivery of deliveries) actions.push(['create', encodeDelivery(delivery)]);
    await this.table.submitTransaction(actions);
  }

  async delivery(tenantId: string, alertId: string, id: string): Promise<AlertDeliveryRecord | undefined> {
    const entity = await getRow(this.table, tenantId, deliveryRow(alertId, id));
    return entity ? decodeDelivery(entity) : undefined;
  }

  async replaceDelivery(record: AlertDeliveryRecord): Promise<AlertDeliveryRecord> {
    const response = await this.table.updateEntity(encodeDelivery(record), 'Replace', {
      etag: etagOf(record, `alert delivery ${record.id}`),
    });
    return { ...record, ...(response.etag ? { etag: response.etag } : {}) };
  }

  async deliveries(
    tenantId: string,
    alertId: string,
    options: { readonly status?: AlertDeliveryStatus; readonly limit?: number } = {},
  ): Promise<AlertDeliveryRecord[]> {
    const prefix = deliveryRow(alertId, '');
    let filter = `PartitionKey eq ${odata(tenantId)} and RowKey ge ${odata(prefix)} and RowKey lt ${odata(after(prefix))}`;
    if (options.status) filter += ` and st eq ${odata(options.status)}`;
    const found: AlertDeliveryRecord[] = [];
    for await (const entity of queryRows(this.table, filter)) {
      found.push(decodeDelivery(entity));
      if (found.length >= (options.limit ?? 1000)) break;
    }
    return found;
  }

  async overdueDeliveries(tenantId: string, before: Date, limit: number): Promise<AlertDeliveryRecord[]> {
    const filter =
      `PartitionKey eq ${odata(tenantId)} and RowKey ge ${odata(DELIVERY)} and RowKey lt ${odata(after(DELIVERY))}` +
      ` and st eq 'pending' and na le ${odata(before.toISOString())}`;
    const found: AlertDeliveryRecord[] = [];
    for await (const entity of queryRows(this.table, filter)) {
      found.push(decodeDelivery(entity));
      if (found.length >= limit) break;
    }
    return found;
  }

  async markEvaluationQueued(tenantId: string, now: Date, until: Date): Promise<boolean> {
    const marker = await getRow(this.table, tenantId, QUEUED);
    const queuedUntil = marker ? getString(marker, 'u') : undefined;
    if (queuedUntil && Date.parse(queuedUntil) > now.getTime()) return false;
    // Last writer wins: two requesters racing here both send, and the second evaluation finds nothing new.
    await this.table.upsertEntity(
      { partitionKey: tenantId, rowKey: QUEUED, u: until.toISOString() },
      'Replace',
    );
    return true;
  }
}
