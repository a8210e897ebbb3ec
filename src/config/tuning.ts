/**
 * Optional knobs, read from the environment (app settings): defaults fit production; tests, the benchmark and
 * profiling change them. The required settings are in settings.ts. Nothing here is read at import.
 */
type Env = Readonly<Record<string, string | undefined>>;

/**
 * How long a user principal name may point at a user that was never written before another user may take it
 * (application/names.ts): the host's function timeout (host.json functionTimeout, 10 minutes), since no request
 * writes after it. NAME_RESERVATION_TIMEOUT_SECONDS shortens it (crash tests).
 */
export function nameReservationTimeoutMs(env: Env = process.env): number {
  const seconds = Number(env.NAME_RESERVATION_TIMEOUT_SECONDS);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 10 * 60_000;
}

/**
 * About this many members per page of a group job: big enough for full transactions, small enough to retry
 * cheaply. LICENSE_PAGE_MEMBERS tunes it (the crash tests use small pages); fewer than 10 is ignored.
 */
export function membersPerPage(env: Env = process.env): number {
  const configured = Number(env.LICENSE_PAGE_MEMBERS);
  return Number.isInteger(configured) && configured >= 10 ? configured : 1000;
}

/**
 * How many principals the group pages running in one process may hold at once (read, evaluated and encoded): pages
 * wait for room beyond it, so a host's memory does not grow with the queue's batch size times the page size.
 * LICENSE_PAGE_PRINCIPALS_IN_FLIGHT tunes it; fewer than 100 is ignored. A page larger than the budget runs alone.
 */
export function pagePrincipalsInFlight(env: Env = process.env): number {
  const configured = Number(env.LICENSE_PAGE_PRINCIPALS_IN_FLIGHT);
  return Number.isInteger(configured) && configured >= 100 ? configured : 8000;
}

/**
 * Storage request counting (STORAGE_STATS=1), for the benchmark and profiling; with STORAGE_STATS_FILE the host
 * process writes its counts to that file every second.
 */
export function storageStatsSettings(env: Env = process.env): { enabled: boolean; file?: string } {
  const enabled = env.STORAGE_STATS === '1';
  const file = env.STORAGE_STATS_FILE;
  return enabled && file ? { enabled, file } : { enabled };
}

/** The settings that name the storage account (AzureWebJobsStorage and its `__` parts), as one comparable text. */
export function storageSettingsKey(env: Env = process.env): string {
  return Object.entries(env)
    .filter(([name]) => name.toLowerCase().startsWith('azurewebjobsstorage'))
    .sort(([a], [b]) => a.localeCompare(b))
    .join('\n');
}

/** How alerts are evaluated and delivered (docs/api.md, "Alerts"); tests shorten every delay. */
export interface AlertTuning {
  /** An evaluation requested after work waits this long, so a burst of changes makes one alert (ALERT_DEBOUNCE_SECONDS). */
  readonly debounceSeconds: number;
  /** The first retry of a failed delivery waits this long, doubling each time (ALERT_RETRY_BASE_SECONDS). */
  readonly retryBaseSeconds: number;
  /** The longest wait between two attempts (ALERT_RETRY_MAX_SECONDS). */
  readonly retryMaxSeconds: number;
  /** A delivery failed this many times is parked (ALERT_MAX_ATTEMPTS). */
  readonly maxAttempts: number;
  /** A group processing without progress for this long is stuck (ALERT_STUCK_AFTER_SECONDS). */
  readonly stuckAfterSeconds: number;
  /** A receiver's answer is awaited this long, the handshake's included (ALERT_TIMEOUT_SECONDS; Graph's is 10 s). */
  readonly timeoutSeconds: number;
}

export function alertTuning(env: Env = process.env): AlertTuning {
  const read = (name: string, fallback: number, min: number) => {
    const value = Number(env[name]);
    return env[name] !== undefined && env[name] !== '' && Number.isFinite(value) && value >= min
      ? value
      : fallback;
  };
  return {
    debounceSeconds: Math.round(read('ALERT_DEBOUNCE_SECONDS', 30, 0)),
    retryBaseSeconds: read('ALERT_RETRY_BASE_SECONDS', 10, 0),
    retryMaxSeconds: read('ALERT_RETRY_MAX_SECONDS', 3600, 0),
    maxAttempts: Math.round(read('ALERT_MAX_ATTEMPTS', 8, 1)),
    stuckAfterSeconds: read('ALERT_STUCK_AFTER_SECONDS', 1800, 0),
    timeoutSeconds: read('ALERT_TIMEOUT_SECONDS', 10, 1),
  };
}
