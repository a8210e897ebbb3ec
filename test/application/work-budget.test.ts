import { describe, expect, it } from 'vitest';
import { WorkBudget } from '../../src/application/work-budget.js';

/** Work whose end the test decides, recording what ran at once. */
function controlled(budget: WorkBudget, log: string[]) {
  const ends = new Map<string, () => void>();
  const start = (name: string, units: number) =>
    budget.run(units, async () => {
      log.push(`${name} start (${budget.inUse} in use)`);
      await new Promise<void>((resolve) => ends.set(name, resolve));
      log.push(`${name} end`);
      return name;
    });
  const end = async (name: string) => {
    ends.get(name)?.();
    // Let the ended work's continuation and whatever it starts run.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { start, end };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('WorkBudget', () => {
  it('runs work together while its units fit, and the rest once units are given back', async () => {
    const log: string[] = [];
    const budget = new WorkBudget(10);
    const { start, end } = controlled(budget, log);
    const a = start('a', 4);
    const b = start('b', 5);
    const c = start('c', 3);
    await settle();
    expect(log).toEqual(['a start (9 in use)', 'b start (9 in use)']);
    await end('a');
    expect(log).toEqual(['a start (9 in use)', 'b start (9 in use)', 'a end', 'c start (8 in use)']);
    await end('b');
    await end('c');
    await expect(Promise.all([a, b, c])).resolves.toEqual(['a', 'b', 'c']);
    expect(budget.inUse).toBe(0);
  });

  it('starts waiting work in arrival order: small work does not overtake the first in line', async () => {
    const log: string[] = [];
    const budget = new WorkBudget(10);
    const { start, end } = controlled(budget, log);
    const a = start('a', 6);
    const big = start('big', 8);
    const small = start('small', 1);
    await settle();
    expect(log).toEqual(['a start (6 in use)']);
    await end('a');
    expect(log.slice(1)).toEqual(['a end', 'big start (9 in use)', 'small start (9 in use)']);
    await end('big');
    await end('small');
    await Promise.all([a, big, small]);
  });

  it('runs work heavier than the whole budget alone rather than never', async () => {
    const log: string[] = [];
    const budget = new WorkBudget(10);
    const { start, end } = controlled(budget, log);
    const huge = start('huge', 50);
    const next = start('next', 1);
    await settle();
    expect(log).toEqual(['huge start (10 in use)']);
    await end('huge');
    expect(log.slice(1)).toEqual(['huge end', 'next start (1 in use)']);
    await end('next');
    await Promise.all([huge, next]);
  });

  it('gives the units back when work fails', async () => {
    const budget = new WorkBudget(5);
    await expect(
      budget.run(5, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(budget.inUse).toBe(0);
    await expect(budget.run(5, async () => 'next')).resolves.toBe('next');
  });
});
