// Promotes principals waiting for seats, first come first served, when seats of a SKU free up.
import { app, type InvocationContext } from '@azure/functions';
import { requestAlertEvaluation } from '../src/application/alerts.js';
import { appContext } from '../src/application/context.js';
import { heal } from '../src/application/healing.js';
import { healMessage } from '../src/application/messages.js';
import { queueNames } from '../src/config/queues.js';
import { storagePrefix } from '../src/config/settings.js';
import { messageIdOf, parseMessage } from '../src/triggers/queue.js';

export async function healWaitingRoom(message: unknown, context: InvocationContext): Promise<void> {
  const request = parseMessage(healMessage, message, context);
  if (!request) return;
  const ctx = await appContext();
  await heal(ctx, request, messageIdOf(context));
  await requestAlertEvaluation(ctx, request.tenantId);
}

app.storageQueue('healWaitingRoom', {
  queueName: queueNames(storagePrefix()).heal,
  connection: 'AzureWebJobsStorage',
  handler: healWaitingRoom,
});
