import { StorageContentionError } from '../application/errors.js';
import { isConflict } from './properties.js';

/**
 * Optimistic concurrency, one policy for every read-modify-write: read a row with its ETag, compute the next
 * version, write it under that ETag; when another writer got there first (412, or 409 for a create), read again
 * and retry, up to CONFLICT_ATTEMPTS times with jittered backoff, then give up with StorageContentionError (the
 * HTTP edge answers 503 with Retry-After). A write never falls back to `*`: last-writer-wins would lose the other
 * writer's change.
 */
// Enough for every concurrent handler of one host (a queue batch of 16, plus the next batch) to win its turn on
// the same row, e.g. the pages of a job finishing together; about 10 s of backoff in the worst case.
export const CONFLICT_ATTEMPTS = 30;

/**
 * Runs `attempt` (a whole read-modify-write) until it does not conflict. `what` names the row for the error; the
 * attempt number lets a caller refresh what it read.
 */
export async function retryOnConflict<T>(what: string, attempt: (attempt: number) => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error: unknown) {
      if (!isConflict(error)) throw error;
      if (n + 1 >= CONFLICT_ATTEMPTS) throw new StorageContentionError(what, n + 1);
      await backoff(n);
    }
  }
}

/** The ETag a record was read with: an optimistic write of a record not read from storage is a bug, not a race. */
export function etagOf(record: { readonly etag?: string | undefined }, what: string): string {
  if (!record.etag)
    throw new Error(`${what} was not read from storage (no ETag): it cannot be written back.`);
  return record.etag;
}

/** Jittered exponential backoff: 5 ms doubling to 500 ms, ±50%. */
export async function backoff(attempt: number): Promise<void> {
  const ms = Math.min(500, 5 * 2 ** Math.min(attempt, 7)) * (0.5 + Math.random());
  await new Promise((resolve) => setTimeout(resolve, ms));
}
