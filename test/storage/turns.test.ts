import { describe, expect, it } from 'vitest';
import { Turns } from '../../src/storage/turns.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Turns', () => {
  it('runs work on one key one at a time, in arrival order, and other keys alongside', async () => {
    const turns = new Turns();
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const work = (key: string, name: string) =>
      turns.run(key, async () => {
        running++;
        peak = Math.max(peak, running);
        log.push(`${name} start`);
        await tick();
        log.push(`${name} end`);
        running--;
        return name;
      });
    const results = await Promise.all([work('a', 'a1'), work('a', 'a2'), work('b', 'b1'), work('a', 'a3')]);
    expect(results).toEqual(['a1', 'a2', 'b1', 'a3']);
    const onA = log.filter((l) => l.startsWith('a'));
    expect(onA).toEqual(['a1 start', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end']);
    expect(peak).toBe(2); // b1 ran beside a1
  });

  it('passes the turn on when work fails', async () => {
    const turns = new Turns();
    const failed = turns.run('k', async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    await expect(turns.run('k', async () => 'next')).resolves.toBe('next');
  });
});
