// Loading state for the pages: what a call returned, its refusal, and a way to ask again (or every few seconds).
import { type DependencyList, useCallback, useEffect, useRef, useState } from 'react';

/** How often a group's processing details are read: often while its members are processed, seldom after. */
export function processingPollMs(details: { readonly status: string } | undefined): number {
  return details === undefined || details.status === 'inProgress' ? 2_000 : 30_000;
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  reload(): void;
}

/**
 * Runs `load` when `deps` change (and on `reload`); with `everyMs`, again that long after each answer while the page
 * is open — a function of the last answer when how often depends on it (a finished job needs no fast polling).
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: DependencyList,
  everyMs?: number | ((last: T | undefined) => number),
): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what `load` depends on.
  useEffect(() => {
    const call = ++latest.current;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last: T | undefined;
    const run = async () => {
      try {
        const value = await load();
        last = value;
        if (call !== latest.current) return;
        setData(value);
        setError(undefined);
      } catch (caught) {
        if (call !== latest.current) return;
        setError(caught instanceof Error ? caught : new Error(String(caught)));
      } finally {
        if (call === latest.current) {
          setLoading(false);
          const wait = typeof everyMs === 'function' ? everyMs(last) : everyMs;
          if (wait) timer = setTimeout(run, wait);
        }
      }
    };
    setLoading(true);
    void run();
    return () => {
      latest.current++;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, generation, everyMs]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload };
}

export interface Action {
  /** The work is running (its button stays disabled meanwhile). */
  readonly busy: boolean;
  /** The refusal of the last run, until the next one. */
  readonly error: unknown;
  /** Runs `work`; resolves true when it succeeded, false when it was refused (the refusal is in `error`). */
  run(work: () => Promise<unknown>): Promise<boolean>;
  reset(): void;
}

/** A write the admin started: whether it is still running, and what refused it. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = useCallback(async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const reset = useCallback(() => setError(undefined), []);
  return { busy, error, run, reset };
}
