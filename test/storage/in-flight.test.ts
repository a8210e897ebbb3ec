import { describe, expect, it } from 'vitest';
import { InFlight, inParallel } from '../../src/storage/in-flight.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('InFlight', () => {
  it('never runs more than its limit at once and finishes everything on drain', async () => {
    const flight = new InFlight(3);
    let running = 0;
    let peak = 0;
    let done = 0;
    for (let i = 0; i < 20; i++) {
      await flight.add(async () => {
        running++;
        peak = Math.max(peak, running);
        await tick(2 + (i % 3));
        running--;
        done++;
      });
    }
    await flight.drain();
    expect(peak).toBe(3);
    expect(done).toBe(20);
  });

  it('rethrows the first failure from drain, after the others finished', async () => {
    const flight = new InFlight(2);
    let finished = 0;
    await flight.add(async () => {
      await tick(1);
      throw new Error('first');
    });
    await flight.add(async () => {
      await tick(5);
      finished++;
    });
    await expect(flight.drain()).rejects.toThrow('first');
    expect(finished).toBe(1);
  });

  it('inParallel rejects when one item fails', async () => {
    await expect(
      inParallel([1, 2, 3, 4], 2, async (n) => {
        await tick(1);
        if (n === 3) throw new Error(`item ${n}`);
      }),
    ).rejects.toThrow('item 3');
  });
});
