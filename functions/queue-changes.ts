// Applies directory changes (memberships, user lifecycle, re-evaluations) and evaluates the principals they touch.
import { app, type InvocationContext } from '@azure/functions';
import { applyChanges } from '../src/application/changes.js';
import { appContext } from '../src/application/context.js';
import { changesMessage } from '../src/application/messages.js';
import { storagePrefix } from '../src/config/settings.js';
import { queueNames } from '../src/storage/queues.js';
import { messageIdOf, parseMessage } from '../src/triggers/queue.js';

export async function applyDirectoryChanges(message: unknown, context: InvocationContext): Promise<void> {
  const changes = parseMessage(changesMessage, message, context);
  if (!changes) return;
  await applyChanges(await appContext(), changes, messageIdOf(context));
}

app.storageQueue('applyDirectoryChanges', {
  queueName: queueNames(storagePrefix()).changes,
  connection: 'AzureWebJobsStorage',
  handler: applyDirectoryChanges,
});
