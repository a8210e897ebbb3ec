// Plans a group's license job and fans it out as pages (never one message per member).
import { app, type InvocationContext, output } from '@azure/functions';
import { appContext } from '../src/application/context.js';
import { planGroupJob } from '../src/application/group-licensing.js';
import { groupJobMessage } from '../src/application/messages.js';
import { queueNames } from '../src/config/queues.js';
import { storagePrefix } from '../src/config/settings.js';
import { parseMessage } from '../src/triggers/queue.js';

const queues = queueNames(storagePrefix());
const pages = output.storageQueue({ queueName: queues.pages, connection: 'AzureWebJobsStorage' });

export async function planLicenseJob(message: unknown, context: InvocationContext): Promise<void> {
  const job = parseMessage(groupJobMessage, message, context);
  if (!job) return;
  const planned = await planGroupJob(await appContext(), job);
  context.log(`Job ${job.jobId} for group ${job.groupId}: ${planned.length} pages`);
  context.extraOutputs.set(pages, planned);
}

app.storageQueue('planLicenseJob', {
  queueName: queues.jobs,
  connection: 'AzureWebJobsStorage',
  extraOutputs: [pages],
  handler: planLicenseJob,
});
