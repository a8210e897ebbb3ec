import type { QueueServiceClient } from '@azure/storage-queue';
import { queueServiceClient, type StorageClientOptions, type StorageTarget } from './connection.js';
import { inParallel } from './in-flight.js';
import { countStorage } from './stats.js';

/** The work queues (docs/storage.md, "Queues"). Names carry the storage prefix so test runs do not collide. */
export interface QueueNames {
  /** A group's license change to plan: one message per change. */
  readonly jobs: string;
  /** A page of a group job: a range of member shards. */
  readonly pages: string;
  /** Directory changes to apply and evaluate: memberships, user lifecycle, re-evaluations. */
  readonly changes: string;
  /** Seats freed for a SKU: promote waiting principals. */
  readonly heal: string;
}

export function queueNames(prefix: string): QueueNames {
  const name = (base: string) => (prefix === '' ? `gbl-${base}` : `${prefix}-${base}`);
  return { jobs: name('jobs'), pages: name('pages'), changes: name('changes'), heal: name('heal') };
}

export const poisonQueue = (queue: string) => `${queue}-poison`;

/** The largest message we send (the service allows 64 KiB of base64 text). */
export const MAX_MESSAGE_BYTES = 45_000;

/**
 * Sends work. Messages are JSON, base64-encoded because that is what the Functions queue trigger decodes by
 * default (host.json `messageEncoding`).
 */
export class WorkQueues {
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
