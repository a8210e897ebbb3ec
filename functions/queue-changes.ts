// Applies directory changes (memberships, user lifecycle, re-evaluations) and evaluates the principals they touch.
import { app, type InvocationContext } from '@azure/functions';
import { applyQueuedChanges } from '../src/application/changes.js';
import { appContext } from '../src/application/context.js';
import { wakeWaitingRooms } from '../src/application/healing.js';
import { changesMessage } from '../src/application/messages.js';
import { queueNames } from '../src/config/queues.js';
import { storagePrefix } from '../src/config/settings.js';
import { dequeueCountOf, messageIdOf, parseMessage } from '../src/triggers/queue.js';

export async function applyDirectoryChanges(message: unknown, context: InvocationContext): Promise<void> {
  const changes = parseMessage(changesMessage, message, context);
  if (!changes) return;
  const ctx = await appContext();
  const redelivered = dequeueCountOf(context) > 1;
  await applyQueuedChanges(ctx, changes, messageIdOf(context), redelivered);
  // Delivered again: its first delivery may have died between its writes and the wake-up they owed.
  if (redelivered) await wakeWaitingRooms(ctx, changes.tenantId);
}

app.storageQueue('applyDirectoryChanges', {
  queueName: queueNames(storagePrefix()).changes,
  connection: 'AzureWebJobsStorage',
  handler: applyDirectoryChanges,
});
