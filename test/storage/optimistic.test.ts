// The one optimistic-write policy (optimistic.ts): a read-modify-write that loses an ETag race is run again until it
// wins, so concurrent writers lose no update; after CONFLICT_ATTEMPTS it gives up with StorageContentionError
// (the HTTP edge's 503); other errors are not retried; and a record not read from storage has no ETag to write with.
import { RestError } from '@azure/core-rest-pipeline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StorageContentionError } from '../../src/application/errors.js';
import { CONFLICT_ATTEMPTS, etagOf, retryOnConflict } from '../../src/storage/optimistic.js';
import { getNumber, getRow } from '../../src/storage/properties.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;

beforeAll(async () => {
  scratch = await scratchTables('optimistic', (t) => [t.jobs]);
});
afterAll(async () => {
  await scratch?.drop();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('retryOnConflict (real Azurite)', () => {
  it('loses no update when writers on several hosts race on one row', async () => {
    const { tables } = scratch;
    await tables.jobs.createEntity({ partitionKey: 'counter', rowKey: 'row', n: 0 });
    const writers = 8;
    let firstReads = 0;
    let attempts = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        const table = scratch.anotherHost().jobs;
        await retryOnConflict('the counter', async (attempt) => {
          attempts++;
          const row = await getRow(table, 'counter', 'row');
          if (!row) throw new Error('counter missing');
          // Everyone reads the same version before anyone writes: all but one first write must lose.
          if (attempt === 0) {
            firstReads++;
            while (firstReads < writers) await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await table.updateEntity(
            { partitionKey: 'counter', rowKey: 'row', n: getNumber(row, 'n') + 1 },
            'Replace',
            { etag: etagOf(row, 'the counter') },
          );
        });
      }),
    );
    const final = await getRow(tables.jobs, 'counter', 'row');
    expect(final && getNumber(final, 'n')).toBe(writers);
    expect(attempts).toBeGreaterThanOrEqual(2 * writers - 1);
  }, 20_000);

  it('runs a create again after a 409, and then sees the row the other writer created', async () => {
    const { tables } = scratch;
    const seen: boolean[] = [];
    const result = await retryOnConflict('the row', async () => {
      const existing = await getRow(tables.jobs, 'create', 'row');
      seen.push(existing !== undefined);
      if (existing) return 'adopted';
      // Another writer creates it between this read and this create.
      await tables.jobs.createEntity({ partitionKey: 'create', rowKey: 'row' });
      await tables.jobs.createEntity({ partitionKey: 'create', rowKey: 'row' });
      return 'created';
    });
    expect(result).toBe('adopted');
    expect(seen).toEqual([false, true]);
  });
});

describe('retryOnConflict limits', () => {
  it(`gives up with StorageContentionError after ${CONFLICT_ATTEMPTS} attempts`, async () => {
    // Fake timers: the real back-off adds up to about ten seconds.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const numbers: number[] = [];
    const outcome = retryOnConflict('subscription X', async (attempt) => {
      numbers.push(attempt);
      throw new RestError('Precondition Failed', { statusCode: 412 });
    }).catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = await outcome;
    expect(error).toBeInstanceOf(StorageContentionError);
    expect(error).toMatchObject({ message: expect.stringContaining('subscription X') });
    expect(numbers).toEqual(Array.from({ length: CONFLICT_ATTEMPTS }, (_, i) => i));
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    await expect(
      retryOnConflict('x', async () => {
        calls++;
        throw new RestError('Server Busy', { statusCode: 503 });
      }),
    ).rejects.toMatchObject({ statusCode: 503 });
    expect(calls).toBe(1);
  });
});

describe('etagOf', () => {
  it('returns the ETag a record was read with, and refuses a record that was not read', () => {
    expect(etagOf({ etag: 'W/"1"' }, 'row')).toBe('W/"1"');
    expect(() => etagOf({}, 'group license G')).toThrow(/group license G was not read from storage/);
    expect(() => etagOf({ etag: '' }, 'row')).toThrow(/not read/);
  });
});
