// Queue clients, message encoding and the in-host "a message was just enqueued" signal.
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { accountKey, queueServiceClient, type StorageAccount } from '../storage/connection.js';
import { isRecord, type RpcTypedData } from './rpc.js';
import type { MessageEncoding } from './settings.js';

/** One QueueServiceClient per account, so HTTP keep-alive connections (and an identity's token) are shared. */
export class QueueClients {
  private readonly services = new Map<string, QueueServiceClient>();

  get(account: StorageAccount, queueName: string): QueueClient {
    const key = accountKey(account);
    let service = this.services.get(key);
    if (!service) {
      service = queueServiceClient(account);
      this.services.set(key, service);
    }
    return service.getQueueClient(queueName);
  }
}

/**
 * The runtime's SharedQueueWatcher: an output binding (or a poison move) in this host wakes the listener of
 * the queue it wrote to, so in-host fan-out does not wait for the next poll.
 */
export class QueueWatcher {
  private readonly subscribers = new Map<string, Set<() => void>>();

  private static key(account: StorageAccount, queueName: string): string {
    return `${accountKey(account)}\n${queueName.toLowerCase()}`;
  }

  subscribe(account: StorageAccount, queueName: string, wake: () => void): () => void {
    const key = QueueWatcher.key(account, queueName);
    let set = this.subscribers.get(key);
    if (!set) {
      set = new Set();
      this.subscribers.set(key, set);
    }
    set.add(wake);
    return () => set.delete(wake);
  }

  notify(account: StorageAccount, queueName: string): void {
    for (const wake of this.subscribers.get(QueueWatcher.key(account, queueName)) ?? []) wake();
  }
}

export function statusOf(error: unknown): number | undefined {
  return isRecord(error) && typeof error.statusCode === 'number' ? error.statusCode : undefined;
}

/** Sends a message, creating the queue on the first 404 (the runtime's AddMessageAndCreateIfNotExistsAsync). */
export async function sendCreatingQueue(queue: QueueClient, text: string): Promise<void> {
  try {
    await queue.sendMessage(text);
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    await queue.createIfNotExists();
    await queue.sendMessage(text);
  }
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a received message body; undefined when it is not valid base64 (such messages go to poison). */
export function decodeMessage(text: string, encoding: MessageEncoding): string | undefined {
  if (encoding === 'none') return text;
  const compact = text.replace(/\s+/g, '');
  if (!base64Pattern.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

export function encodeMessage(content: string | Uint8Array, encoding: MessageEncoding): string {
  if (encoding === 'none')
    return typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  return Buffer.from(content).toString('base64');
}

/**
 * The messages an output value stands for: a string is one message, an object one JSON message, an array
 * one message per element (as the runtime's async collector does), bytes one message.
 */
export function messagesOf(data: RpcTypedData): (string | Uint8Array)[] {
  if (data.string !== undefined) return [data.string];
  if (data.bytes !== undefined) return [data.bytes];
  if (data.int !== undefined) return [String(data.int)];
  if (data.double !== undefined) return [String(data.double)];
  if (data.json !== undefined) {
    const parsed: unknown = JSON.parse(data.json);
    if (Array.isArray(parsed)) {
      return parsed.map((item: unknown) => (typeof item === 'string' ? item : JSON.stringify(item)));
    }
    return [data.json];
  }
  return [];
}
