// The WebJobs RandomizedExponentialBackoffStrategy used by the queue listener:
// success → the minimum (100 ms); otherwise min + rand(0.8..1.2) × 2^(n-1) × delta, capped at the maximum.
// With a 2 s cap this gives about 100, 200, 300, 500, 900, 1700, 2000, 2000 ms...

export class RandomizedExponentialBackoff {
  private current: number;
  private exponent = 0;

  constructor(
    private readonly minimumMs: number,
    private readonly maximumMs: number,
    private readonly deltaMs: number = minimumMs,
    private readonly random: () => number = Math.random,
  ) {
    this.current = minimumMs;
  }

  next(executionSucceeded: boolean): number {
    if (executionSucceeded) {
      this.current = this.minimumMs;
      this.exponent = 1;
    } else if (this.current !== this.maximumMs) {
      let interval = this.minimumMs;
      if (this.exponent > 0) {
        const factor = 0.8 + this.random() * 0.4;
        interval += factor * 2 ** (this.exponent - 1) * this.deltaMs;
      }
      if (interval < this.maximumMs) {
        this.current = interval;
        this.exponent++;
      } else {
        this.current = this.maximumMs;
      }
    }
    return this.current;
  }
}
