import type { QueueServiceClient } from '@azure/storage-queue';
import type { AlertQueue } from '../application/ports.js';
import { type AlertQueueNames, alertQueueNames, poisonQueue } from '../config/queues.js';
import { queueServiceClient, type StorageClientOptions, type StorageTarget } from './connection.js';
import { countStorage } from './stats.js';

/** The longest delay a queue message may be sent with (Azure Queue Storage: 7 days). */
const MAX_DELAY_SECONDS = 7 * 86_400;

/**
 * The alert queues: JSON messages, base64 as the Functions trigger decodes them, sent invisible for a while — the
 * debounce of an evaluation, the back-off of a delivery.
 */
export class AlertQueues implements AlertQueue {
  private readonly service: QueueServiceClient;
  readonly names: AlertQueueNames;

  constructor(storage: StorageTarget, prefix: string, options: StorageClientOptions = {}) {
    this.service = queueServiceClient(storage, options);
    this.names = alertQueueNames(prefix);
  }

  async ensure(): Promise<void> {
    const all = Object.values(this.names).flatMap((q) => [q, poisonQueue(q)]);
    await Promise.all(all.map((q) => this.service.getQueueClient(q).createIfNotExists()));
  }

  evaluate(tenantId: string, delaySeconds: number): Promise<void> {
    return this.send(this.names.evaluate, { tenantId }, delaySeconds);
  }

  deliver(
    message: { readonly tenantId: string; readonly alertId: string; readonly deliveryId: string },
    delaySeconds: number,
  ): Promise<void> {
    return this.send(this.names.deliver, message, delaySeconds);
  }

  private async send(queue: string, message: unknown, delaySeconds: number): Promise<void> {
    countStorage(`POST queue ${queue}`);
    const visibilityTimeout = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
    await this.service
      .getQueueClient(queue)
      .sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'), { visibilityTimeout });
  }
}
