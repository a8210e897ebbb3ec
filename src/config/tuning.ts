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
