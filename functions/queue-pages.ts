// Evaluates one page of a group's members (a license job) or of the tenant's principals (a dynamic group's rule).
import { app, type InvocationContext } from '@azure/functions';
import { requestAlertEvaluation } from '../src/application/alerts.js';
import { appContext } from '../src/application/context.js';
import { processRulePage } from '../src/application/dynamic-groups.js';
import { processGroupPage } from '../src/application/group-licensing.js';
import { wakeWaitingRooms } from '../src/application/healing.js';
import { pageMessage } from '../src/application/messages.js';
import { queueNames } from '../src/config/queues.js';
import { storagePrefix } from '../src/config/settings.js';
import { dequeueCountOf, messageIdOf, parseMessage } from '../src/triggers/queue.js';

export async function applyLicensePage(message: unknown, context: InvocationContext): Promise<void> {
  const page = parseMessage(pageMessage, message, context);
  if (!page) return;
  const ctx = await appContext();
  if (page.kind === 'rule-page') await processRulePage(ctx, page, messageIdOf(context));
  else await processGroupPage(ctx, page, messageIdOf(context));
  // Delivered again: its first delivery may have died between its writes and the wake-up they owed.
  if (dequeueCountOf(context) > 1) await wakeWaitingRooms(ctx, page.tenantId);
  // Errors, seats and waiters moved: an alert pass after the debounce (held back while the job still runs).
  await requestAlertEvaluation(ctx, page.tenantId);
}

app.storageQueue('applyLicensePage', {
  queueName: queueNames(storagePrefix()).pages,
  connection: 'AzureWebJobsStorage',
  handler: applyLicensePage,
});
