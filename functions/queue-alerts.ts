// Alerts: a tenant's alert pass (requested with a delay after work, so bursts coalesce) and webhook deliveries
// (retried with back-off through delayed messages, parked after the last attempt).
import { app, type InvocationContext } from '@azure/functions';
import { deliverAlert, evaluateAlerts, parkDelivery } from '../src/application/alerts.js';
import { appContext } from '../src/application/context.js';
import { alertDeliveryMessage, alertEvaluationMessage } from '../src/application/messages.js';
import { alertQueueNames, poisonQueue } from '../src/config/queues.js';
import { storagePrefix } from '../src/config/settings.js';
import { parseMessage } from '../src/triggers/queue.js';

const queues = alertQueueNames(storagePrefix());

export async function evaluateTenantAlerts(message: unknown, context: InvocationContext): Promise<void> {
  const request = parseMessage(alertEvaluationMessage, message, context);
  if (!request) return;
  const created = await evaluateAlerts(await appContext(), request.tenantId);
  if (created > 0) context.log(`Alerts of tenant ${request.tenantId}: ${created} deliveries`);
}

export async function deliverTenantAlert(message: unknown, context: InvocationContext): Promise<void> {
  const delivery = parseMessage(alertDeliveryMessage, message, context);
  if (!delivery) return;
  const status = await deliverAlert(await appContext(), delivery);
  if (status === 'parked')
    context.warn(`Alert delivery ${delivery.deliveryId} parked after its last attempt`);
}

/** A delivery that failed in this service (not at its receiver) five times: parked, so it stays listed. */
export async function parkPoisonedDelivery(message: unknown, context: InvocationContext): Promise<void> {
  const delivery = parseMessage(alertDeliveryMessage, message, context);
  if (delivery) await parkDelivery(await appContext(), delivery);
}

app.storageQueue('evaluateTenantAlerts', {
  queueName: queues.evaluate,
  connection: 'AzureWebJobsStorage',
  handler: evaluateTenantAlerts,
});

app.storageQueue('deliverTenantAlert', {
  queueName: queues.deliver,
  connection: 'AzureWebJobsStorage',
  handler: deliverTenantAlert,
});

app.storageQueue('parkPoisonedAlertDelivery', {
  queueName: poisonQueue(queues.deliver),
  connection: 'AzureWebJobsStorage',
  handler: parkPoisonedDelivery,
});
