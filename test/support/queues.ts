// Queue helpers for tests against the shared Azurite.
import { type QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { inject } from 'vitest';
import { withTimeout } from './wait.js';

const services = new Map<string, QueueServiceClient>();

/** A QueueClient for `name` on the shared Azurite (or the given connection string). Does not create it. */
export function queueClient(
  name: string,
  connectionString: string = inject('storageConnectionString'),
): QueueClient {
  let service = services.get(connectionString);
  if (!service) {
    service = QueueServiceClient.fromConnectionString(connectionString);
    services.set(connectionString, service);
  }
  return service.getQueueClient(name);
}

/**
 * Enqueues `body` (objects as JSON) the way a Functions producer must: base64-encoded, unless
 * `encoding: 'none'`. Creates the queue if needed.
 */
export async function sendMessage(
  queue: QueueClient,
  body: unknown,
  options: { encoding?: 'base64' | 'none' } = {},
): Promise<void> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  await queue.createIfNotExists();
  await queue.sendMessage(options.encoding === 'none' ? text : Buffer.from(text).toString('base64'));
}

/** Parses a received message body: base64-decoded unless encoding 'none', then JSON if it parses. */
export function decodeBody(messageText: string, encoding: 'base64' | 'none' = 'base64'): unknown {
  const text = encoding === 'none' ? messageText : Buffer.from(messageText, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Receives and deletes messages until `count` have arrived, returning their decoded bodies in arrival
 * order. Fails with the bodies seen so far when `timeoutMs` (default 20 s) passes first.
 */
export async function takeMessages(
  queue: QueueClient,
  count: number,
  options: { timeoutMs?: number; encoding?: 'base64' | 'none' } = {},
): Promise<unknown[]> {
  const bodies: unknown[] = [];
  let cancelled = false;
  const work = async (): Promise<unknown[]> => {
    while (bodies.length < count && !cancelled) {
      const exists = await queue.exists();
      const received = exists
        ? (await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 })).receivedMessageItems
        : [];
      for (const message of received) {
        bodies.push(decodeBody(message.messageText, options.encoding));
        await queue.deleteMessage(message.messageId, message.popReceipt);
      }
      if (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return bodies;
  };
  const timeoutMs = options.timeoutMs ?? 20_000;
  try {
    return await withTimeout(work(), timeoutMs, `waiting for ${count} message(s) on '${queue.name}'`);
  } catch (error) {
    cancelled = true;
    const seen = JSON.stringify(bodies).slice(0, 2000);
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}; got ${bodies.length}: ${seen}`,
    );
  }
}

/** Number of messages in the queue (approximate, as the service reports it); 0 for a missing queue. */
export async function messageCount(queue: QueueClient): Promise<number> {
  if (!(await queue.exists())) return 0;
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}
