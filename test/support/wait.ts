import { randomBytes } from 'node:crypto';

/**
 * A name valid both as a table name (letters and digits, starting with a letter, 3-63 characters) and as a
 * queue name (lowercase). `uniqueName('orders')` → "orders3f9a1c0b2d". The prefix is lower-cased and
 * stripped of other characters; it must start with a letter and stay short (≤ 40 characters) so that
 * derived names such as `${name}-poison` remain valid queue names.
 */
export function uniqueName(prefix: string): string {
  const cleaned = prefix.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (!/^[a-z]/.test(cleaned)) throw new Error(`uniqueName: prefix "${prefix}" must start with a letter.`);
  if (cleaned.length > 40) throw new Error(`uniqueName: prefix "${prefix}" is too long (max 40).`);
  return `${cleaned}${randomBytes(6).toString('hex')}`;
}

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Time between checks (default 50 ms). */
  intervalMs?: number;
  /** Said in the error when the wait times out. */
  message?: string;
}

/**
 * Polls `predicate` until it returns a truthy value, and returns that value. Rejects loudly after the timeout,
 * with the message and the last error the predicate threw (a throwing predicate counts as "not yet").
 * Prefer awaiting a real event when one exists; use this for state that can only be observed by polling.
 */
type Truthy<T> = NonNullable<Exclude<T, false | 0 | ''>>;

function isTruthy<T>(value: T): value is Truthy<T> {
  return Boolean(value);
}

export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (isTruthy(value)) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` Last error: ${lastError.message}` : '';
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms: ${options.message ?? 'condition not met'}.${detail}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Rejects if `promise` has not settled within `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
