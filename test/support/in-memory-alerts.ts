// Doubles of the alert ports: subscriptions and deliveries in maps with ETags (a decision is one all-or-nothing
// step, as the adapter's transaction), the alert queue recording what was sent, and receivers answering as told.

import { WriteConflictError } from '../../src/application/errors.js';
import type { AlertQueue, AlertReceivers, AlertStore, ReceiverAnswer } from '../../src/application/ports.js';
import type {
  AlertDeliveryRecord,
  AlertDeliveryStatus,
  AlertSubscriptionRecord,
} from '../../src/application/records.js';

let version = 0;
const stamp = () => `W/"${++version}"`;

export class InMemoryAlertStore implements AlertStore {
  readonly subs = new Map<string, AlertSubscriptionRecord>();
  readonly rows = new Map<string, AlertDeliveryRecord>();
  private readonly queued = new Map<string, number>();

  async subscriptions(tenantId: string) {
    return [...this.subs.values()].filter((s) => s.tenantId === tenantId);
  }
  async subscription(tenantId: string, id: string) {
    return this.subs.get(`${tenantId}|${id}`);
  }
  async createSubscription(record: AlertSubscriptionRecord) {
    const key = `${record.tenantId}|${record.id}`;
    if (this.subs.has(key)) throw new WriteConflictError(key);
    const stored = { ...record, etag: stamp() };
    this.subs.set(key, stored);
    return stored;
  }
  async replaceSubscription(record: AlertSubscriptionRecord) {
    const key = `${record.tenantId}|${record.id}`;
    if (this.subs.get(key)?.etag !== record.etag) throw new WriteConflictError(key);
    const stored = { ...record, etag: stamp() };
    this.subs.set(key, stored);
    return stored;
  }
  async deleteSubscription(tenantId: string, id: string) {
    return this.subs.delete(`${tenantId}|${id}`);
  }
  async commitDecision(subscription: AlertSubscriptionRecord, deliveries: readonly AlertDeliveryRecord[]) {
    const key = `${subscription.tenantId}|${subscription.id}`;
    if (this.subs.get(key)?.etag !== subscription.etag) throw new WriteConflictError(key);
    for (const d of deliveries)
      if (this.rows.has(`${d.tenantId}|${d.alertId}|${d.id}`)) throw new WriteConflictError(d.id);
    this.subs.set(key, { ...subscription, etag: stamp() });
    for (const d of deliveries) this.rows.set(`${d.tenantId}|${d.alertId}|${d.id}`, { ...d, etag: stamp() });
  }
  async delivery(tenantId: string, alertId: string, id: string) {
    return this.rows.get(`${tenantId}|${alertId}|${id}`);
  }
  async replaceDelivery(record: AlertDeliveryRecord) {
    const key = `${record.tenantId}|${record.alertId}|${record.id}`;
    if (this.rows.get(key)?.etag !== record.etag) throw new WriteConflictError(key);
    const stored = { ...record, etag: stamp() };
    this.rows.set(key, stored);
    return stored;
  }
  async deliveries(
    tenantId: string,
    alertId: string,
    options: { readonly status?: AlertDeliveryStatus; readonly limit?: number } = {},
  ) {
    return [...this.rows.values()]
      .filter((d) => d.tenantId === tenantId && d.alertId === alertId)
      .filter((d) => !options.status || d.status === options.status)
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, options.limit ?? 1000);
  }
  async overdueDeliveries(tenantId: string, before: Date, limit: number) {
    return [...this.rows.values()]
      .filter(
        (d) =>
          d.tenantId === tenantId &&
          d.status === 'pending' &&
          Date.parse(d.nextAttemptDateTime) <= before.getTime(),
      )
      .slice(0, limit);
  }
  async markEvaluationQueued(tenantId: string, now: Date, until: Date) {
    if ((this.queued.get(tenantId) ?? 0) > now.getTime()) return false;
    this.queued.set(tenantId, until.getTime());
    return true;
  }
}

export class RecordingAlertQueue implements AlertQueue {
  readonly evaluations: { tenantId: string; delaySeconds: number }[] = [];
  readonly deliveries: { tenantId: string; alertId: string; deliveryId: string; delaySeconds: number }[] = [];
  async evaluate(tenantId: string, delaySeconds: number) {
    this.evaluations.push({ tenantId, delaySeconds });
  }
  async deliver(
    message: { readonly tenantId: string; readonly alertId: string; readonly deliveryId: string },
    delaySeconds: number,
  ) {
    this.deliveries.push({ ...message, delaySeconds });
  }
}

/** Receivers that answer with `answer` (default: the handshake's echo, else 202) and record each request. */
export class ScriptedReceivers implements AlertReceivers {
  readonly requests: { url: string; body: string; headers: Readonly<Record<string, string>> }[] = [];
  answer: (url: string, body: string) => ReceiverAnswer | Promise<ReceiverAnswer> = (url) => {
    const token = new URL(url).searchParams.get('validationToken');
    return token === null
      ? { status: 202, contentType: '', text: '' }
      : { status: 200, contentType: 'text/plain', text: token };
  };
  async post(url: string, body: string, headers: Readonly<Record<string, string>>) {
    this.requests.push({ url, body, headers });
    return this.answer(url, body);
  }
}
