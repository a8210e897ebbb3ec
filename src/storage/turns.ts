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
