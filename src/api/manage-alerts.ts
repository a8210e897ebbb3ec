// Alert subscriptions through the operator API (`/api/manage/tenants/{tid}/alerts`, docs/api.md "Alerts"): where a
// tenant's alerts go and what they watch; the secret that signs deliveries is shown once, in the create's answer.
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import {
  createAlert,
  deleteAlert,
  getAlert,
  listAlerts,
  listDeliveries,
  updateAlert,
} from '../application/alerts.js';
import {
  ALERT_KINDS,
  type AlertDeliveryRecord,
  type AlertSubscriptionRecord,
} from '../application/records.js';
import { isGuid } from '../engine/ids.js';
import { GraphError } from './envelope.js';
import { parseBody } from './graph/body.js';
import { type ManageHandler, readJson, tenantIdOf } from './manage.js';

const kinds = z.array(z.enum(ALERT_KINDS)).min(1).max(ALERT_KINDS.length);
const fields = {
  kinds,
  notificationUrl: z.string().url().max(2048),
  clientState: z.string().max(128).nullable().optional(),
  seatUsagePercent: z.number().gt(0).max(100).optional(),
};
export const newAlertSchema = z.object(fields).strict();
export const alertPatchSchema = z
  .object({
    kinds: fields.kinds.optional(),
    notificationUrl: fields.notificationUrl.optional(),
    clientState: fields.clientState,
    seatUsagePercent: fields.seatUsagePercent,
  })
  .strict();
const statusQuery = z.enum(['pending', 'delivered', 'parked', 'cancelled']);

function alertJson(alert: AlertSubscriptionRecord, baseUrl: string) {
  return {
    id: alert.id,
    kinds: alert.kinds,
    notificationUrl: alert.notificationUrl,
    clientState: alert.clientState,
    seatUsagePercent: alert.seatUsagePercent,
    createdDateTime: alert.createdDateTime,
    deliveries: `${baseUrl}/api/manage/tenants/${alert.tenantId}/alerts/${alert.id}/deliveries`,
  };
}

function deliveryJson(delivery: AlertDeliveryRecord) {
  return {
    id: delivery.id,
    status: delivery.status,
    attempts: delivery.attempts,
    createdDateTime: delivery.createdDateTime,
    lastAttemptDateTime: delivery.lastAttemptDateTime,
    nextAttemptDateTime: delivery.status === 'pending' ? delivery.nextAttemptDateTime : null,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    value: delivery.notifications,
  };
}

function alertIdOf(request: HttpRequest): string {
  const id = request.params.alertId ?? '';
  if (!isGuid(id)) throw new GraphError(404, 'Request_ResourceNotFound', `Alert '${id}' does not exist.`);
  return id.toLowerCase();
}

export const manageAlerts: Partial<Record<string, ManageHandler>> = {
  GET: async (request, ctx, baseUrl) => ({
    status: 200,
    body: { value: (await listAlerts(ctx, tenantIdOf(request))).map((a) => alertJson(a, baseUrl)) },
  }),
  /** 201 with the subscription and its `secret` (shown this once); 400 when the handshake fails. */
  POST: async (request, ctx, baseUrl) => {
    const input = parseBody(newAlertSchema, await readJson(request), 'alert');
    const alert = await createAlert(ctx, tenantIdOf(request), {
      kinds: input.kinds,
      notificationUrl: input.notificationUrl,
      ...(input.clientState === undefined ? {} : { clientState: input.clientState }),
      ...(input.seatUsagePercent === undefined ? {} : { seatUsagePercent: input.seatUsagePercent }),
    });
    return { status: 201, body: { ...alertJson(alert, baseUrl), secret: alert.secret } };
  },
};

export const manageAlert: Partial<Record<string, ManageHandler>> = {
  GET: async (request, ctx, baseUrl) => ({
    status: 200,
    body: alertJson(await getAlert(ctx, tenantIdOf(request), alertIdOf(request)), baseUrl),
  }),
  PATCH: async (request, ctx, baseUrl) => {
    const patch = parseBody(alertPatchSchema, await readJson(request), 'alert');
    const alert = await updateAlert(ctx, tenantIdOf(request), alertIdOf(request), {
      ...(patch.kinds === undefined ? {} : { kinds: patch.kinds }),
      ...(patch.notificationUrl === undefined ? {} : { notificationUrl: patch.notificationUrl }),
      ...(patch.clientState === undefined ? {} : { clientState: patch.clientState }),
      ...(patch.seatUsagePercent === undefined ? {} : { seatUsagePercent: patch.seatUsagePercent }),
    });
    return { status: 200, body: alertJson(alert, baseUrl) };
  },
  DELETE: async (request, ctx) => {
    await deleteAlert(ctx, tenantIdOf(request), alertIdOf(request));
    return { status: 204 };
  },
};

/** The delivery log, oldest first (`?status=parked` lists the parked ones). */
export const manageAlertDeliveries: Partial<Record<string, ManageHandler>> = {
  GET: async (request, ctx) => {
    const raw = new URL(request.url).searchParams.get('status');
    const status = raw === null ? undefined : statusQuery.safeParse(raw);
    if (status && !status.success)
      throw new GraphError(
        400,
        'Request_BadRequest',
        `status must be one of ${statusQuery.options.join(', ')}.`,
      );
    const deliveries = await listDeliveries(ctx, tenantIdOf(request), alertIdOf(request), status?.data);
    return { status: 200, body: { value: deliveries.map(deliveryJson) } };
  },
};
