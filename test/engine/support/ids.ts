import type { Guid, IsoTime } from '../../../src/engine/model.js';

/**
 * Deterministic, readable ids: a kind prefix and a zero-padded number, so that ids sort the way their numbers do
 * (the engine breaks ties by id).
 */
function guid(prefix: string, n: number): Guid {
  if (!Number.isInteger(n) || n < 0) throw new Error(`bad id number ${n}`);
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export const userId = (n: number): Guid => guid('00000000', n);
export const deviceId = (n: number): Guid => guid('d0000000', n);
export const groupId = (n: number): Guid => guid('a0000000', n);
export const skuGuid = (n: number): Guid => guid('5c000000', n);
export const planGuid = (n: number): Guid => guid('9a000000', n);

const EPOCH = Date.UTC(2026, 0, 1, 0, 0, 0);

/** The ISO time `minutes` minutes after a fixed epoch. */
export function at(minutes: number): IsoTime {
  return new Date(EPOCH + minutes * 60_000).toISOString();
}

/** A clock the test moves by hand; every reading until the next move is the same instant. */
export class TestClock {
  private minutes = 0;

  constructor(start = 0) {
    this.minutes = start;
  }

  readonly now = (): IsoTime => at(this.minutes);

  advance(minutes = 1): IsoTime {
    this.minutes += minutes;
    return this.now();
  }
}
