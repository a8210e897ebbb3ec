// Evaluates one page of a group's members and writes them in transactions.
import { app, type InvocationContext } from '@azure/functions';
import { appContext } from '../src/application/context.js';
import { processGroupPage } from '../src/application/group-licensing.js';
import { groupPageMessage } from '../src/application/messages.js';
import { storagePrefix } from '../src/config/settings.js';
import { queueNames } from '../src/storage/queues.js';
import { messageIdOf, parseMessage } from '../src/triggers/queue.js';

export async function applyLicensePage(message: unknown, context: InvocationContext): Promise<void> {
  const page = parseMessage(groupPageMessage, message, context);
  if (!page) return;
  await processGroupPage(await appContext(), page, messageIdOf(context));
}

app.storageQueue('applyLicensePage', {
  queueName: queueNames(storagePrefix()).pages,
  connection: 'AzureWebJobsStorage',
  handler: applyLicensePage,
});
