/**
 * A bounded set of storage requests in flight. Azurite and Azure Storage both answer several requests at once far
 * faster than one after another, but an unbounded fan-out only queues inside the HTTP agent and holds memory.
 * `add` starts a task and waits only while `limit` are running; the first failure is rethrown by the next `add` or
 * by `drain`, which waits for everything started so far.
 */
export class InFlight {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(task: () => Promise<void>): Promise<void> {
    this.rethrow();
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.rethrow();
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      throw error;
    }
  }
}

/** Runs `work` over `items` with at most `limit` at a time; rejects with the first failure. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const flight = new InFlight(limit);
  for (const item of items) await flight.add(() => work(item));
  await flight.drain();
}
