import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { type AlertTuning, alertTuning } from '../config/tuning.js';
import { type Subscription, skuCapabilityStatus, totalUnits } from '../engine/index.js';
import { retryOnConflict } from '../storage/optimistic.js';
import type { AppContext } from './context.js';
import { NotFoundError, RefusedError } from './errors.js';
import type {
  AlertDeliveryRecord,
  AlertDeliveryStatus,
  AlertKind,
  AlertNotification,
  AlertSubscriptionRecord,
  GroupLicenseRecord,
} from './records.js';
import { getTenant } from './tenants.js';

/*
 * Alerts (docs/api.md, "Alerts"): conditions are evaluated from the tenant's STATE, never from single events. A pass
 * compares the figures now (errors by group and type, seat usage, waiters, subscription stages, job progress) with
 * those each subscription was last alerted about (its baseline) and announces what appeared or grew, in one delivery
 * committed together with the new baseline. Passes are requested with a delay after work and coalesced, and a
 * group's errors are held back while its job runs, so a 100,000-member job makes one alert; the sweep runs a pass
 * too (a request lost in a crash, a job that stopped moving).
 */

export type AlertPorts = Pick<
  AppContext,
  'alerts' | 'alertQueue' | 'receivers' | 'tenants' | 'licensing' | 'jobs' | 'catalog' | 'now'
>;

/** Notifications per delivery: one delivery is one POST, and up to 99 go in a decision's transaction. */
const NOTIFICATIONS_PER_DELIVERY = 100;
/** A pending delivery whose attempt is this overdue lost its message (a crash after its commit): the sweep re-sends. */
const OVERDUE_MS = 60_000;

// ------------------------------------------------------------------------------------------------------------
// Subscriptions

export interface AlertInput {
  readonly kinds: readonly AlertKind[];
  readonly notificationUrl: string;
  readonly clientState?: string | null;
  readonly seatUsagePercent?: number;
}

/** https anywhere; plain http only to this machine (local receivers, tests). No credentials in the URL. */
export function receiverAllowed(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
}

/**
 * Graph's validation handshake: POST `{url}?validationToken={token}`; the receiver must answer 200 with the token
 * as text/plain within the timeout (10 s), else the subscription is refused.
 */
async function handshake(ctx: Pick<AlertPorts, 'receivers'>, url: string, tuning: AlertTuning) {
  if (!receiverAllowed(url)) throw new RefusedError({ code: 'AlertReceiverNotAllowed', url });
  // URL-safe characters only, so receivers that decode the query either way read the same token.
  const token = `validation-${randomBytes(18).toString('base64url')}`;
  const target = new URL(url);
  target.searchParams.set('validationToken', token);
  const refuse = (reason: string) => new RefusedError({ code: 'AlertHandshakeFailed', url, reason });
  let answer: Awaited<ReturnType<AlertPorts['receivers']['post']>>;
  try {
    answer = await ctx.receivers.post(
      target.toString(),
      '',
      { 'content-type': 'text/plain; charset=utf-8' },
      tuning.timeoutSeconds * 1000,
    );
  } catch (error: unknown) {
    throw refuse(`no answer within ${tuning.timeoutSeconds} s (${errorText(error)})`);
  }
  if (answer.status !== 200) throw refuse(`it answered ${answer.status}`);
  if (!/^text\/plain\b/i.test(answer.contentType))
    throw refuse(`its answer was ${answer.contentType || 'untyped'}, not text/plain`);
  if (answer.text !== token) throw refuse('its answer was not the validation token');
}

export async function createAlert(
  ctx: AlertPorts,
  tenantId: string,
  input: AlertInput,
  tuning: AlertTuning = alertTuning(),
): Promise<AlertSubscriptionRecord> {
  await getTenant(ctx, tenantId);
  await handshake(ctx, input.notificationUrl, tuning);
  const created = await ctx.alerts.createSubscription({
    tenantId,
    id: randomUUID(),
    kinds: [...new Set(input.kinds)],
    notificationUrl: input.notificationUrl,
    clientState: input.clientState ?? null,
    secret: randomBytes(32).toString('base64url'),
    seatUsagePercent: input.seatUsagePercent ?? 90,
    createdDateTime: ctx.now().toISOString(),
    // Empty: the first pass announces what is already wrong, which is what someone subscribing wants to hear.
    baseline: {},
  });
  await requestAlertEvaluation(ctx, tenantId, tuning);
  return created;
}

export async function listAlerts(ctx: AlertPorts, tenantId: string): Promise<AlertSubscriptionRecord[]> {
  await getTenant(ctx, tenantId);
  return (await ctx.alerts.subscriptions(tenantId)).sort((a, b) =>
    a.createdDateTime === b.createdDateTime
      ? a.id.localeCompare(b.id)
      : a.createdDateTime.localeCompare(b.createdDateTime),
  );
}

export async function getAlert(
  ctx: Pick<AlertPorts, 'alerts'>,
  tenantId: string,
  id: string,
): Promise<AlertSubscriptionRecord> {
  const found = await ctx.alerts.subscription(tenantId, id);
  if (!found) throw new NotFoundError(id);
  return found;
}

/** Changes what is watched or where it goes; a new notificationUrl passes the handshake first. */
export async function updateAlert(
  ctx: AlertPorts,
  tenantId: string,
  id: string,
  patch: Partial<AlertInput>,
  tuning: AlertTuning = alertTuning(),
): Promise<AlertSubscriptionRecord> {
  const before = await getAlert(ctx, tenantId, id);
  if (patch.notificationUrl !== undefined && patch.notificationUrl !== before.notificationUrl)
    await handshake(ctx, patch.notificationUrl, tuning);
  const updated = await retryOnConflict(`alert subscription ${id}`, async () => {
    const current = await getAlert(ctx, tenantId, id);
    return ctx.alerts.replaceSubscription({
      ...current,
      ...(patch.kinds === undefined ? {} : { kinds: [...new Set(patch.kinds)] }),
      ...(patch.notificationUrl === undefined ? {} : { notificationUrl: patch.notificationUrl }),
      ...(patch.clientState === undefined ? {} : { clientState: patch.clientState }),
      ...(patch.seatUsagePercent === undefined ? {} : { seatUsagePercent: patch.seatUsagePercent }),
    });
  });
  await requestAlertEvaluation(ctx, tenantId, tuning);
  return updated;
}

/** Deletes the subscription; deliveries still pending are cancelled when their turn comes (and stay listed). */
export async function deleteAlert(ctx: Pick<AlertPorts, 'alerts'>, tenantId: string, id: string) {
  if (!(await ctx.alerts.deleteSubscription(tenantId, id))) throw new NotFoundError(id);
}

export async function listDeliveries(
  ctx: Pick<AlertPorts, 'alerts'>,
  tenantId: string,
  id: string,
  status?: AlertDeliveryStatus,
): Promise<AlertDeliveryRecord[]> {
  await getAlert(ctx, tenantId, id);
  return ctx.alerts.deliveries(tenantId, id, status ? { status } : {});
}

// ------------------------------------------------------------------------------------------------------------
// Requesting a pass

/**
 * Asks for a pass after `debounceSeconds`, unless one is queued already (it runs later than now, so it sees what the
 * caller just wrote). Cheap for a tenant without subscriptions: one range read. Should the process die between the
 * marker and the message, requests are dropped until the marker's time passes, and the sweep's pass covers them.
 */
export async function requestAlertEvaluation(
  ctx: Pick<AlertPorts, 'alerts' | 'alertQueue' | 'now'>,
  tenantId: string,
  tuning: AlertTuning = alertTuning(),
): Promise<boolean> {
  if ((await ctx.alerts.subscriptions(tenantId)).length === 0) return false;
  const now = ctx.now();
  const until = new Date(now.getTime() + tuning.debounceSeconds * 1000);
  if (!(await ctx.alerts.markEvaluationQueued(tenantId, now, until))) return false;
  await ctx.alertQueue.evaluate(tenantId, tuning.debounceSeconds);
  return true;
}

// ------------------------------------------------------------------------------------------------------------
// The pass

/** One condition as it stands: `value` 0 (absent) means nothing is wrong; a value above the baseline's alerts. */
interface Figure {
  readonly kind: AlertKind;
  readonly key: string;
  readonly value: number;
  readonly resource: string;
  readonly data: Readonly<Record<string, unknown>>;
}

interface SeatFigure {
  readonly skuId: string;
  readonly skuPartNumber: string | null;
  readonly consumedUnits: number;
  readonly usableUnits: number;
  readonly percent: number;
}

/** What a pass read of the tenant, shared by its subscriptions. */
interface Snapshot {
  readonly figures: readonly Figure[];
  readonly seats: readonly SeatFigure[];
  /** Jobs in progress and how far they got (pages done + members processed). */
  readonly jobs: readonly { groupId: string; jobId: string; progress: number }[];
  /** Key prefixes not judged now (a group's job still runs): their baseline stays as it was. */
  readonly held: readonly string[];
}

/**
 * The stages a subscription is in beyond `enabled`: the one place that says when a subscription "enters" a stage —
 * prepaid units set by hand in warning, suspended or lockedOut, or the dated lifecycle's stage (engine's
 * `skuCapabilityStatus`; a lifecycle stage also moves the units into its bucket).
 */
export function subscriptionStages(subscription: Subscription) {
  const units = subscription.prepaidUnits;
  const stage = LIFECYCLE_STAGES[skuCapabilityStatus(subscription)];
  return (['warning', 'suspended', 'lockedOut'] as const).filter((s) => units[s] > 0 || stage === s);
}

const LIFECYCLE_STAGES = {
  Enabled: undefined,
  Warning: 'warning',
  Suspended: 'suspended',
  LockedOut: 'lockedOut',
} as const;

const inProgress = (license: GroupLicenseRecord) => license.processingState !== 'ProcessingComplete';

async function readSnapshot(ctx: AlertPorts, tenantId: string, kinds: ReadonlySet<AlertKind>) {
  const partition = await ctx.tenants.partition(tenantId);
  const figures: Figure[] = [];
  const seats: SeatFigure[] = [];
  const jobs: { groupId: string; jobId: string; progress: number }[] = [];
  const held: string[] = [];
  if (!partition) return { figures, seats, jobs, held };
  const subscriptions = [...partition.subscriptions.values()];
  const licenses = [...partition.groupLicenses.values()];
  const busySkus = new Set(licenses.filter(inProgress).flatMap((l) => l.licenses.map((a) => a.skuId)));
  const skuResource = (skuId: string) => `subscribedSkus/${tenantId}_${skuId}`;
  const partNumber = (skuId: string) => ctx.catalog.sku(skuId)?.skuPartNumber ?? null;

  for (const license of licenses) {
    const groupId = license.groupId;
    const resource = `groups/${groupId}`;
    if (kinds.has('licenseErrors')) {
      // A running job's errors grow page by page: judged once it completes, so the whole job makes one alert.
      if (inProgress(license)) held.push(`licenseErrors|${groupId}|`);
      else {
        const counts = await ctx.licensing.groupCounts(tenantId, groupId);
        for (const [errorType, count] of Object.entries(counts.errors)) {
          if (count <= 0) continue;
          figures.push({
            kind: 'licenseErrors',
            key: `licenseErrors|${groupId}|${errorType}`,
            value: count,
            resource,
            data: { groupId, errorType, membersInError: count },
          });
        }
      }
    }
    if (kinds.has('groupProcessing')) {
      const jobId = license.jobId ?? 'none';
      const progress = license.jobId ? await ctx.jobs.progress(tenantId, license.jobId) : undefined;
      const failedPages = progress?.poisonedPages ?? 0;
      const failed = failedPages + (license.lastFailure ? 1 : 0);
      if (failed > 0) {
        figures.push({
          kind: 'groupProcessing',
          key: `groupProcessing|${groupId}|failed|${jobId}`,
          value: failed,
          resource,
          data: {
            groupId,
            condition: 'failed',
            jobId: license.jobId,
            failedPages,
            lastFailure: license.lastFailure ? { code: 'JobNotPlanned' } : null,
          },
        });
      }
      if (inProgress(license))
        jobs.push({ groupId, jobId, progress: (progress?.pagesDone ?? 0) + (progress?.processed ?? 0) });
    }
  }
  for (const sub of subscriptions) {
    const skuId = sub.skuId;
    // Seats move page by page while a job assigns the SKU, as waiters do: judged once no group carrying it is busy,
    // so the job's outcome is one pass (one notification), not a seat alert mid-job and the rest after.
    if (kinds.has('seatUsage') && busySkus.has(skuId)) held.push(`seatUsage|${skuId}`);
    else if (kinds.has('seatUsage')) {
      const usable = totalUnits(sub.prepaidUnits);
      const percent =
        usable > 0 ? Math.round((sub.consumedUnits * 1000) / usable) / 10 : sub.consumedUnits > 0 ? 100 : 0;
      seats.push({
        skuId,
        skuPartNumber: partNumber(skuId),
        consumedUnits: sub.consumedUnits,
        usableUnits: usable,
        percent,
      });
    }
    if (kinds.has('waitingPrincipals')) {
      // Waiters come and go page by page while a job assigns the SKU: judged once no group carrying it is busy.
      if (busySkus.has(skuId)) held.push(`waitingPrincipals|${skuId}`);
      else {
        const waiting = (await ctx.licensing.waiters(tenantId, skuId)).length;
        if (waiting > 0) {
          figures.push({
            kind: 'waitingPrincipals',
            key: `waitingPrincipals|${skuId}`,
            value: waiting,
            resource: skuResource(skuId),
            data: { skuId, skuPartNumber: partNumber(skuId), waitingPrincipals: waiting },
          });
        }
      }
    }
    if (kinds.has('subscriptionState')) {
      for (const state of subscriptionStages(sub)) {
        figures.push({
          kind: 'subscriptionState',
          key: `subscriptionState|${skuId}|${state}`,
          value: 1,
          resource: skuResource(skuId),
          data: { skuId, skuPartNumber: partNumber(skuId), state, prepaidUnits: { ...sub.prepaidUnits } },
        });
      }
    }
  }
  return { figures, seats, jobs, held };
}

/** A subscription's decision: its next baseline and the figures that appeared or grew. */
export function decide(
  subscription: AlertSubscriptionRecord,
  snapshot: Snapshot,
  now: Date,
  tuning: Pick<AlertTuning, 'stuckAfterSeconds'>,
): { baseline: Record<string, number>; fired: (Figure & { previous: number })[] } {
  const kinds = new Set(subscription.kinds);
  const previous = subscription.baseline;
  const next: Record<string, number> = {};
  for (const [key, value] of Object.entries(previous))
    if (snapshot.held.some((prefix) => key.startsWith(prefix))) next[key] = value;

  const figures = snapshot.figures.filter((f) => kinds.has(f.kind));
  if (kinds.has('seatUsage')) {
    for (const seat of snapshot.seats) {
      if (seat.percent < subscription.seatUsagePercent) continue;
      figures.push({
        kind: 'seatUsage',
        key: `seatUsage|${seat.skuId}`,
        value: 1,
        resource: `subscribedSkus/${subscription.tenantId}_${seat.skuId}`,
        data: { ...seat, thresholdPercent: subscription.seatUsagePercent },
      });
    }
  }
  if (kinds.has('groupProcessing')) {
    // Progress observed per job (`~` keys: bookkeeping, never alerted): no change for stuckAfterSeconds is stuck.
    for (const job of snapshot.jobs) {
      const progressKey = `~progress|${job.groupId}|${job.jobId}`;
      const sinceKey = `~since|${job.groupId}|${job.jobId}`;
      const seenSince = previous[sinceKey];
      const since =
        previous[progressKey] === job.progress && seenSince !== undefined ? seenSince : now.getTime();
      next[progressKey] = job.progress;
      next[sinceKey] = since;
      if (now.getTime() - since >= tuning.stuckAfterSeconds * 1000) {
        figures.push({
          kind: 'groupProcessing',
          key: `groupProcessing|${job.groupId}|stuck|${job.jobId}`,
          value: 1,
          resource: `groups/${job.groupId}`,
          data: {
            groupId: job.groupId,
            condition: 'stuck',
            jobId: job.jobId === 'none' ? null : job.jobId,
            noProgressSince: new Date(since).toISOString(),
          },
        });
      }
    }
  }
  const fired: (Figure & { previous: number })[] = [];
  for (const figure of figures) {
    const before = previous[figure.key] ?? 0;
    if (figure.value > before) fired.push({ ...figure, previous: before });
    next[figure.key] = figure.value;
  }
  return { baseline: next, fired };
}

const sameBaseline = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
};

/** Sortable by creation, unique: the delivery's id, its row key and the receiver's idempotency key. */
function deliveryId(now: Date, index: number): string {
  return `${now.toISOString().replace(/[-:.TZ]/g, '')}-${randomUUID().slice(0, 8)}-${index}`;
}

/**
 * One pass over a tenant: each subscription's decision is committed with its deliveries (so an alert decided cannot
 * vanish), then their messages are sent; a crash in between leaves pending deliveries the sweep sends again.
 * Returns the deliveries created.
 */
export async function evaluateAlerts(
  ctx: AlertPorts,
  tenantId: string,
  tuning: AlertTuning = alertTuning(),
): Promise<number> {
  const subscriptions = await ctx.alerts.subscriptions(tenantId);
  if (subscriptions.length === 0) return 0;
  const kinds = new Set(subscriptions.flatMap((s) => s.kinds));
  let snapshot = await readSnapshot(ctx, tenantId, kinds);
  let created = 0;
  for (const first of subscriptions) {
    const deliveries = await retryOnConflict(`alert subscription ${first.id}`, async (attempt) => {
      // Another pass decided first: decide again on what is there now, never on the older reading.
      const subscription = attempt === 0 ? first : await ctx.alerts.subscription(tenantId, first.id);
      if (!subscription) return [];
      if (attempt > 0) snapshot = await readSnapshot(ctx, tenantId, kinds);
      const now = ctx.now();
      const { baseline, fired } = decide(subscription, snapshot, now, tuning);
      if (fired.length === 0 && sameBaseline(baseline, subscription.baseline)) return [];
      const notifications: AlertNotification[] = fired.map((figure) => ({
        subscriptionId: subscription.id,
        clientState: subscription.clientState,
        changeType: 'created',
        resource: figure.resource,
        tenantId,
        resourceData: {
          '@odata.type': '#microsoft.graph.licensingAlert',
          kind: figure.kind,
          condition: figure.key,
          ...figure.data,
          value: figure.value,
          previousValue: figure.previous,
          detectedDateTime: now.toISOString(),
        },
      }));
      const deliveries: AlertDeliveryRecord[] = [];
      for (let i = 0; i < notifications.length && deliveries.length < 99; i += NOTIFICATIONS_PER_DELIVERY) {
        deliveries.push({
          tenantId,
          alertId: subscription.id,
          id: deliveryId(now, deliveries.length),
          createdDateTime: now.toISOString(),
          status: 'pending',
          attempts: 0,
          nextAttemptDateTime: now.toISOString(),
          lastAttemptDateTime: null,
          lastStatus: null,
          lastError: null,
          notifications: notifications.slice(i, i + NOTIFICATIONS_PER_DELIVERY),
        });
      }
      await ctx.alerts.commitDecision({ ...subscription, baseline }, deliveries);
      return deliveries;
    });
    for (const delivery of deliveries)
      await ctx.alertQueue.deliver({ tenantId, alertId: delivery.alertId, deliveryId: delivery.id }, 0);
    created += deliveries.length;
  }
  return created;
}

// ------------------------------------------------------------------------------------------------------------
// Delivery

/** `sha256=` and the hex HMAC-SHA256 of the body under the subscription's secret (header `X-Alert-Signature`). */
export function alertSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export const retryDelaySeconds = (attempts: number, tuning: AlertTuning) =>
  Math.min(tuning.retryMaxSeconds, tuning.retryBaseSeconds * 2 ** Math.max(0, attempts - 1));

export interface DeliveryMessage {
  readonly tenantId: string;
  readonly alertId: string;
  readonly deliveryId: string;
}

/**
 * One attempt of a delivery: POSTed with its signature; a 2xx delivers it, anything else is retried after an
 * exponential back-off (a new delayed message) until `maxAttempts`, then it is parked, listed by the API. The
 * attempt is recorded before the next message is sent, and a message that comes early (a duplicate) does nothing.
 */
export async function deliverAlert(
  ctx: AlertPorts,
  message: DeliveryMessage,
  tuning: AlertTuning = alertTuning(),
): Promise<AlertDeliveryStatus | 'skipped'> {
  const delivery = await ctx.alerts.delivery(message.tenantId, message.alertId, message.deliveryId);
  if (delivery?.status !== 'pending') return 'skipped';
  if (Date.parse(delivery.nextAttemptDateTime) > ctx.now().getTime() + 1000) return 'skipped';
  const subscription = await ctx.alerts.subscription(message.tenantId, message.alertId);
  if (!subscription) {
    await ctx.alerts.replaceDelivery({
      ...delivery,
      status: 'cancelled',
      lastError: 'The alert subscription was deleted before this delivery.',
    });
    return 'cancelled';
  }
  const body = JSON.stringify({ value: delivery.notifications });
  let lastStatus: number | null = null;
  let lastError: string | null = null;
  try {
    const answer = await ctx.receivers.post(
      subscription.notificationUrl,
      body,
      {
        'content-type': 'application/json',
        'x-alert-signature': alertSignature(subscription.secret, body),
        'x-alert-delivery-id': delivery.id,
        'x-alert-attempt': String(delivery.attempts + 1),
      },
      tuning.timeoutSeconds * 1000,
    );
    lastStatus = answer.status;
    if (answer.status < 200 || answer.status > 299) lastError = `The receiver answered ${answer.status}.`;
  } catch (error: unknown) {
    lastError = `No answer: ${errorText(error)}`;
  }
  const now = ctx.now();
  const attempts = delivery.attempts + 1;
  const status: AlertDeliveryStatus =
    lastError === null ? 'delivered' : attempts >= tuning.maxAttempts ? 'parked' : 'pending';
  const delay = retryDelaySeconds(attempts, tuning);
  await ctx.alerts.replaceDelivery({
    ...delivery,
    status,
    attempts,
    lastAttemptDateTime: now.toISOString(),
    lastStatus,
    lastError,
    nextAttemptDateTime:
      status === 'pending'
        ? new Date(now.getTime() + delay * 1000).toISOString()
        : delivery.nextAttemptDateTime,
  });
  if (status === 'pending') await ctx.alertQueue.deliver(message, delay);
  return status;
}

/** A delivery whose message was poisoned (it failed in this service, not at the receiver) is parked, not lost. */
export async function parkDelivery(ctx: Pick<AlertPorts, 'alerts' | 'now'>, message: DeliveryMessage) {
  await retryOnConflict(`alert delivery ${message.deliveryId}`, async () => {
    const delivery = await ctx.alerts.delivery(message.tenantId, message.alertId, message.deliveryId);
    if (delivery?.status !== 'pending') return;
    await ctx.alerts.replaceDelivery({
      ...delivery,
      status: 'parked',
      lastError: 'The delivery failed in the service five times and was set aside.',
    });
  });
}

/** The sweep's share: pending deliveries whose message was lost are sent again. Returns how many. */
export async function resendOverdueDeliveries(
  ctx: Pick<AlertPorts, 'alerts' | 'alertQueue' | 'now'>,
  tenantId: string,
): Promise<number> {
  const overdue = await ctx.alerts.overdueDeliveries(
    tenantId,
    new Date(ctx.now().getTime() - OVERDUE_MS),
    500,
  );
  for (const d of overdue)
    await ctx.alertQueue.deliver({ tenantId, alertId: d.alertId, deliveryId: d.id }, 0);
  return overdue.length;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
