import type { QueueServiceClient } from '@azure/storage-queue';
import type { WorkSender } from '../application/ports.js';
import { poisonQueue, type QueueNames, queueNames } from '../config/queues.js';
import { queueServiceClient, type StorageClientOptions, type StorageTarget } from './connection.js';
import { inParallel } from './in-flight.js';
import { countStorage } from './stats.js';

/** The largest message we send (the service allows 64 KiB of base64 text). */
export const MAX_MESSAGE_BYTES = 45_000;

/**
 * Sends work. Messages are JSON, base64-encoded because that is what the Functions queue trigger decodes by
 * default (host.json `messageEncoding`).
 */
export class WorkQueues implements WorkSender {
  private readonly service: QueueServiceClient;
  readonly names: QueueNames;

  constructor(storage: StorageTarget, prefix: string, options: StorageClientOptions = {}) {
    this.service = queueServiceClient(storage, options);
    this.names = queueNames(prefix);
  }

  async ensure(): Promise<void> {
    const all = Object.values(this.names).flatMap((q) => [q, poisonQueue(q)]);
    await Promise.all(all.map((q) => this.service.getQueueClient(q).createIfNotExists()));
  }

  async send(queue: keyof QueueNames, message: unknown): Promise<void> {
    const text = JSON.stringify(message);
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
      throw new Error(
        `A ${queue} message of ${Buffer.byteLength(text)} bytes exceeds ${MAX_MESSAGE_BYTES}; split it.`,
      );
    }
    countStorage(`POST queue ${queue}`);
    await this.service.getQueueClient(this.names[queue]).sendMessage(Buffer.from(text).toString('base64'));
  }

  async sendAll(queue: keyof QueueNames, messages: readonly unknown[]): Promise<void> {
    await inParallel(messages, 8, (message) => this.send(queue, message));
  }

  /** Approximate messages waiting in each queue (for "is the service idle?"). */
  async depth(): Promise<Record<string, number>> {
    const depths: Record<string, number> = {};
    await Promise.all(
      Object.values(this.names).map(async (q) => {
        const props = await this.service.getQueueClient(q).getProperties();
        depths[q] = props.approximateMessagesCount ?? 0;
      }),
    );
    return depths;
  }
}
