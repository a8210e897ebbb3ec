/**
 * A budget of work held at once in this process, counted in units the work declares (principals held in memory by
 * group pages): work waits, first come first served, until its units fit. The queue listener bounds messages in
 * flight (host.json `batchSize`), not what each holds, so a host running many large pages at once would hold them
 * all; under the budget its memory stays bounded whatever the page size and the batch size. Work heavier than the
 * whole budget runs alone.
 */
export class WorkBudget {
  private used = 0;
  private readonly waiting: { units: number; start: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity >= 1))
      throw new RangeError(`A work budget needs a capacity of at least 1 (got ${capacity}).`);
  }

  /** Units held by work running now. */
  get inUse(): number {
    return this.used;
  }

  async run<T>(units: number, work: () => Promise<T>): Promise<T> {
    const held = Math.min(this.capacity, Math.max(0, Math.ceil(units)));
    await this.acquire(held);
    try {
      return await work();
    } finally {
      this.used -= held;
      this.startWaiting();
    }
  }

  private acquire(units: number): Promise<void> {
    if (this.waiting.length === 0 && this.used + units <= this.capacity) {
      this.used += units;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push({
        units,
        start: () => {
          this.used += units;
          resolve();
        },
      });
    });
  }

  /** Starts waiting work in arrival order while it fits (the first in line is never overtaken). */
  private startWaiting(): void {
    for (
      let next = this.waiting[0];
      next && this.used + next.units <= this.capacity;
      next = this.waiting[0]
    ) {
      this.waiting.shift();
      next.start();
    }
  }
}
