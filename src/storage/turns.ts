/**
 * Work on one key that takes turns inside this process. Concurrent messages of one host that race for the same
 * row with ETags mostly lose (a conflict, a re-read, another write); queued, each wins at its first try. Other
 * instances still race, and the ETags keep that safe — this only removes the races a process has with itself.
 */
export class Turns {
  private readonly queues = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const queued = previous.then(() => done);
    this.queues.set(key, queued);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.queues.get(key) === queued) this.queues.delete(key);
    }
  }
}

/**
 * Runs of one piece of work (one seat reservation) inside this process: a later run waits until the earlier one
 * ended, whatever became of it. Unlike `Turns`, it can tell whether a run is under way (`ifIdle`).
 */
export class RunsInTurn {
  private readonly runs = new Map<string, Promise<unknown>>();

  async inTurn<T>(key: string, work: () => Promise<T>): Promise<T> {
    for (;;) {
      const running = this.runs.get(key);
      if (!running) break;
      // Its failure is its own caller's to hear; this run only waits for it to end.
      await running.catch(() => undefined);
    }
    const run = work();
    this.runs.set(key, run);
    try {
      return await run;
    } finally {
      if (this.runs.get(key) === run) this.runs.delete(key);
    }
  }

  /** Like `inTurn`, but does nothing (undefined) when a run of the key is under way. */
  async ifIdle<T>(key: string, work: () => Promise<T>): Promise<T | undefined> {
    if (this.runs.has(key)) return undefined;
    return this.inTurn(key, work);
  }
}
