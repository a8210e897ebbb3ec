// One listener per queue-triggered function, reproducing the Storage Queues extension (5.x) QueueListener
// and QueueProcessor: batches of `batchSize` received under a 10-minute lease, at most
// batchSize + newBatchThreshold in flight, immediate re-poll after a non-empty batch, randomized exponential
// back-off up to maxPollingInterval when empty, lease renewal at half its length, retry through the
// message's dequeue count, and `<queue>-poison` after maxDequeueCount failures.
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { RandomizedExponentialBackoff } from './backoff.js';
import { describeError, type HostLogger } from './log.js';
import { decodeMessage, sendCreatingQueue, statusOf } from './queueStorage.js';
import type { QueueOptions } from './settings.js';

export interface QueueListenerConfig {
  functionName: string;
  queue: QueueClient;
  /** Undefined when the poison name would be invalid or the queue already ends in "-poison". */
  poisonQueue: QueueClient | undefined;
  options: QueueOptions;
  /** The receive lease; 10 minutes on the runtime. Lower it only in tests of lease renewal. */
  leaseMs: number;
  logger: HostLogger;
  /** Runs the function for one decoded message; rejects when the invocation failed. */
  invoke(message: DequeuedMessageItem, body: string): Promise<void>;
  /** Called after a message was moved to the poison queue (wakes an in-host poison listener). */
  onPoison(poisonQueueName: string): void;
}

interface InFlight {
  message: DequeuedMessageItem;
  popReceipt: string;
  released: boolean;
}

export class QueueListener {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly processing = new Set<Promise<void>>();
  private readonly inFlight = new Set<InFlight>();
  private wake: (() => void) | undefined;
  private notified = false;
  private readonly backoff: RandomizedExponentialBackoff;
  /** Cancels a poll in progress (the SDK may be retrying against unreachable storage) when stopping. */
  private readonly polling = new AbortController();

  constructor(private readonly config: QueueListenerConfig) {
    this.backoff = new RandomizedExponentialBackoff(100, config.options.maxPollingIntervalMs);
  }

  get queueName(): string {
    return this.config.queue.name;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Cuts the current back-off short (a message was just enqueued by this host). */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  /**
   * Stops polling and waits for running invocations. Messages still running after `timeoutMs` are made
   * visible again (so another instance can take them) and will not be deleted by this host.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.polling.abort();
    await this.loop;
    const drained = Promise.all([...this.processing]).then(() => true);
    const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    if (await Promise.race([drained, timedOut])) return;
    const unfinished = [...this.inFlight];
    this.config.logger.warn(
      `Function '${this.config.functionName}': ${unfinished.length} message(s) still running at shutdown; ` +
        'releasing them to the queue.',
    );
    await Promise.all(unfinished.map((entry) => this.release(entry)));
  }

  private async run(): Promise<void> {
    const { queue, options, logger, functionName } = this.config;
    const leaseSeconds = Math.max(1, Math.round(this.config.leaseMs / 1000));
    let checkExists = true;
    let foundMessageSinceLastDelay = false;
    while (!this.stopping) {
      let delayMs: number;
      try {
        if (checkExists) {
          if (!(await queue.exists({ abortSignal: this.polling.signal }))) {
            delayMs = this.backoff.next(false);
            await this.sleep(delayMs);
            continue;
          }
          checkExists = false;
        }
        const response = await queue.receiveMessages({
          numberOfMessages: options.batchSize,
          visibilityTimeout: leaseSeconds,
          abortSignal: this.polling.signal,
        });
        const messages = response.receivedMessageItems;
        if (messages.length > 0) {
          foundMessageSinceLastDelay = true;
          for (const message of messages) this.track(this.process(message));
          await this.waitForCapacity();
          continue;
        }
        delayMs = this.backoff.next(foundMessageSinceLastDelay);
        foundMessageSinceLastDelay = false;
      } catch (error) {
        if (this.stopping) break;
        const status = statusOf(error);
        if (status !== 404) {
          logger.warn(
            `Function '${functionName}': polling queue '${queue.name}' failed: ${describeError(error)}`,
          );
        }
        checkExists = true;
        delayMs = this.backoff.next(false);
      }
      await this.sleep(delayMs);
    }
  }

  private track(work: Promise<void>): void {
    this.processing.add(work);
    void work.finally(() => this.processing.delete(work));
  }

  private async waitForCapacity(): Promise<void> {
    while (this.processing.size > this.config.options.newBatchThreshold && !this.stopping) {
      await Promise.race(this.processing);
    }
  }

  /** Waits `ms`, or less if notified or stopping. A notification that arrived meanwhile skips the wait. */
  private sleep(ms: number): Promise<void> {
    if (this.notified || this.stopping) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = (): void => done();
      this.wake = wake;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.wake = undefined;
      this.notified = false;
    });
  }

  private async process(message: DequeuedMessageItem): Promise<void> {
    const { options, logger, functionName } = this.config;
    const entry: InFlight = { message, popReceipt: message.popReceipt, released: false };
    this.inFlight.add(entry);
    try {
      if (message.dequeueCount > options.maxDequeueCount) {
        await this.moveToPoison(entry);
        return;
      }
      const body = decodeMessage(message.messageText, options.messageEncoding);
      if (body === undefined) {
        logger.warn(
          `Function '${functionName}': message '${message.messageId}' on queue '${this.queueName}' is not valid ` +
            'base64 (host.json extensions.queues.messageEncoding is "base64").',
        );
        await this.moveToPoison(entry);
        return;
      }
      const renewal = this.startLeaseRenewal(entry);
      let succeeded = false;
      try {
        await this.config.invoke(message, body);
        succeeded = true;
      } catch {
        // The invoker has logged the failure; the dequeue count decides what happens next.
      } finally {
        await renewal.stop();
      }
      if (entry.released) return;
      if (succeeded) await this.complete(entry);
      else if (message.dequeueCount >= options.maxDequeueCount) await this.moveToPoison(entry);
      else await this.retryLater(entry);
    } catch (error) {
      logger.error(
        `Function '${functionName}': handling message '${message.messageId}' failed: ${describeError(error)}`,
      );
    } finally {
      this.inFlight.delete(entry);
    }
  }

  /** Renews the receive lease at half its length while the invocation runs, tracking the new pop receipt. */
  private startLeaseRenewal(entry: InFlight): { stop(): Promise<void> } {
    const leaseSeconds = Math.max(1, Math.round(this.config.leaseMs / 1000));
    const intervalMs = Math.max(500, this.config.leaseMs / 2);
    let stopped = false;
    let pending: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const schedule = (): void => {
      timer = setTimeout(() => {
        pending = this.config.queue
          .updateMessage(entry.message.messageId, entry.popReceipt, undefined, leaseSeconds)
          .then((response) => {
            if (response.popReceipt) entry.popReceipt = response.popReceipt;
            if (!stopped) schedule();
          })
          .catch((error: unknown) => {
            this.config.logger.warn(
              `Function '${this.config.functionName}': could not renew the lease of message ` +
                `'${entry.message.messageId}': ${describeError(error)}`,
            );
          });
      }, intervalMs);
    };
    schedule();
    return {
      async stop() {
        stopped = true;
        clearTimeout(timer);
        await pending;
      },
    };
  }

  private async complete(entry: InFlight): Promise<void> {
    try {
      await this.config.queue.deleteMessage(entry.message.messageId, entry.popReceipt);
    } catch (error) {
      // 404: the pop receipt no longer matches (the lease was lost); the runtime ignores this too.
      if (statusOf(error) !== 404) throw error;
      this.config.logger.debug(
        `Message '${entry.message.messageId}' was already deleted or its lease was lost.`,
      );
    }
  }

  private async retryLater(entry: InFlight): Promise<void> {
    const seconds = Math.round(this.config.options.visibilityTimeoutMs / 1000);
    try {
      await this.config.queue.updateMessage(entry.message.messageId, entry.popReceipt, undefined, seconds);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  private async moveToPoison(entry: InFlight): Promise<void> {
    const poison = this.config.poisonQueue;
    if (!poison) {
      // No valid poison queue: leave the message invisible for the rest of its lease, like the runtime.
      return;
    }
    this.config.logger.warn(
      `Message has reached MaxDequeueCount of ${this.config.options.maxDequeueCount}. ` +
        `Moving message to queue '${poison.name}'.`,
    );
    await sendCreatingQueue(poison, entry.message.messageText);
    await this.complete(entry);
    this.config.onPoison(poison.name);
  }

  private async release(entry: InFlight): Promise<void> {
    entry.released = true;
    try {
      await this.config.queue.updateMessage(entry.message.messageId, entry.popReceipt, undefined, 0);
    } catch (error) {
      this.config.logger.warn(
        `Could not release message '${entry.message.messageId}': ${describeError(error)}`,
      );
    }
  }
}

/** `<queue>-poison`, or undefined when that would not be a valid queue name (as in the runtime). */
export function poisonQueueName(queueName: string): string | undefined {
  if (queueName.endsWith('-poison')) return undefined;
  const name = `${queueName}-poison`;
  return isValidQueueName(name) ? name : undefined;
}

export function isValidQueueName(name: string): boolean {
  return name.length >= 3 && name.length <= 63 && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name);
}
