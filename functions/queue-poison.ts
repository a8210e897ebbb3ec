// One handler per poison queue: work that failed five times is recorded where an operator sees it.
import { app, type InvocationContext } from '@azure/functions';
import { requestAlertEvaluation } from '../src/application/alerts.js';
import { appContext } from '../src/application/context.js';
import { recordPoisonedWork } from '../src/application/poison.js';
import { poisonQueue, type QueueNames, queueNames } from '../src/config/queues.js';
import { storagePrefix } from '../src/config/settings.js';
import { messageIdOf } from '../src/triggers/queue.js';

const queues = queueNames(storagePrefix());

function poisonHandler(queue: string) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    context.warn(`Recording poisoned work from ${queue}`);
    const ctx = await appContext();
    const tenantId = await recordPoisonedWork(ctx, queue, message, messageIdOf(context));
    // A group's processing may have failed for good: an alert pass.
    if (tenantId) await requestAlertEvaluation(ctx, tenantId);
  };
}

const names: Record<keyof QueueNames, string> = {
  jobs: 'recordPoisonedJobs',
  pages: 'recordPoisonedPages',
  changes: 'recordPoisonedChanges',
  heal: 'recordPoisonedHealing',
};
for (const key of Object.keys(names) as (keyof QueueNames)[]) {
  app.storageQueue(names[key], {
    queueName: poisonQueue(queues[key]),
    connection: 'AzureWebJobsStorage',
    handler: poisonHandler(queues[key]),
  });
}
