import type { ChangesMessage } from './messages.js';

/**
 * A combined batch stops growing at this many changes: its principals stay a few megabytes, its run a few seconds,
 * and the messages waiting on it well inside their queue lease.
 */
export const MAX_BATCH_CHANGES = 6000;

/**
 * Whether a message may share a batch: membership joins and leaves only. Their effect depends on nothing but the
 * rows (a replay changes nothing, newer notifications win), so applying them together is applying them one after
 * another. User lifecycle changes write audit records keyed by their own message, and evaluations are the system's
 * own follow-ups: those run alone.
 */
export function isBatchable(message: ChangesMessage): boolean {
  return message.changes.every((change) => change.type === 'member');
}

/** Applies changes under the given seat reservation id. */
type Apply = (message: ChangesMessage, reservationId: string) => Promise<void>;

interface Waiting {
  readonly message: ChangesMessage;
  readonly messageId: string;
  readonly settle: (error?: unknown) => void;
}

interface Lane {
  readonly waiting: Waiting[];
}

/**
 * Group commit for `changes` messages. The messages of one tenant and origin that this process holds while a batch
 * of that tenant runs are applied together, as one batch, when it is done: a few hundred changes per message become
 * thousands per batch, so their principals share full transactions. A message alone runs at once; nothing waits on
 * a timer.
 *
 * A batch runs under the seat reservation of its first message. If the batch dies, that message's next delivery
 * (which runs alone: see `applyQueuedChanges`) resumes the reservation and settles it, as for a message that ran
 * alone; if a delivery of it runs while the batch is still alive elsewhere (a lease that lapsed), the reservation is
 * taken over with the batch's unlanded chunks fenced (src/storage/README.md, "Fenced takeovers"), so no seat is
 * counted twice. Each message still succeeds or fails on its own terms: its invocation returns only once the batch
 * holding it is written, and if a batch of several fails, each of its messages is applied alone, so one bad message
 * fails only its own delivery. Other instances run their own batches: correctness never relies on one process
 * seeing every change.
 */
export class ChangeBatches {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly apply: Apply,
    private readonly maxChanges = MAX_BATCH_CHANGES,
  ) {}

  /** Applies the message, alone or with the tenant's others held here; settles when its changes are written. */
  submit(message: ChangesMessage, messageId: string): Promise<void> {
    const key = `${message.tenantId}|${message.origin}`;
    const running = this.lanes.get(key);
    const lane = running ?? { waiting: [] };
    const done = new Promise<void>((resolve, reject) => {
      lane.waiting.push({
        message,
        messageId,
        settle: (error) => (error === undefined ? resolve() : reject(error)),
      });
    });
    if (!running) {
      this.lanes.set(key, lane);
      void this.drain(key, lane);
    }
    return done;
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    try {
      while (lane.waiting.length > 0) await this.runBatch(this.takeBatch(lane));
    } finally {
      this.lanes.delete(key);
    }
  }

  /** The waiting messages in arrival order, up to the size limit (the first always, however large). */
  private takeBatch(lane: Lane): Waiting[] {
    const batch: Waiting[] = [];
    let changes = 0;
    for (let next = lane.waiting[0]; next; next = lane.waiting[0]) {
      const size = next.message.changes.length;
      if (batch.length > 0 && changes + size > this.maxChanges) break;
      batch.push(next);
      changes += size;
      lane.waiting.shift();
    }
    return batch;
  }

  private async runBatch(batch: readonly Waiting[]): Promise<void> {
    const [first] = batch;
    if (!first) return;
    if (batch.length === 1) {
      first.settle(await this.attempt(first.message, first.messageId));
      return;
    }
    const combined: ChangesMessage = { ...first.message, changes: batch.flatMap((w) => w.message.changes) };
    const failure = await this.attempt(combined, first.messageId);
    if (failure === undefined) {
      for (const waiting of batch) waiting.settle();
      return;
    }
    // Whatever the batch wrote stays (every step is idempotent); each message now succeeds or fails alone, the
    // first one resuming the batch's reservation.
    for (const waiting of batch) waiting.settle(await this.attempt(waiting.message, waiting.messageId));
  }

  /** Runs one apply; resolves to its error, if any (a batch's failure must not escape the lane). */
  private async attempt(message: ChangesMessage, reservationId: string): Promise<unknown> {
    try {
      await this.apply(message, reservationId);
      return undefined;
    } catch (error: unknown) {
      return error ?? new Error('The changes failed.');
    }
  }
}
