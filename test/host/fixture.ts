// The fixture app (test/fixtures/host-app) and the app settings its functions need.
import path from 'node:path';
import { repoRoot, uniqueName } from '../support/index.js';

export const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'host-app');

/** A never-firing NCRONTAB schedule (midnight, January 1st) for tests that do not look at the timer. */
export const neverSchedule = '0 0 0 1 1 *';

export interface FixtureSettings {
  WORK_QUEUE: string;
  RESULTS_QUEUE: string;
  FANOUT_QUEUE: string;
  SLOW_QUEUE: string;
  TIMER_RESULTS_QUEUE: string;
  TICK_SCHEDULE: string;
  [setting: string]: string;
}

/** Unique queue names for every %SETTING% the fixture uses, plus a timer that does not fire. */
export function fixtureEnv(overrides: Record<string, string> = {}): FixtureSettings {
  return {
    WORK_QUEUE: uniqueName('work'),
    RESULTS_QUEUE: uniqueName('results'),
    FANOUT_QUEUE: uniqueName('fanout'),
    SLOW_QUEUE: uniqueName('slow'),
    TIMER_RESULTS_QUEUE: uniqueName('timer'),
    TICK_SCHEDULE: neverSchedule,
    // Timer locks are per host id: give each test its own app identity so parallel tests do not compete.
    AzureFunctionsWebHost__hostid: uniqueName('app'),
    // Tests read the Executing/Executed lines, whatever the outer environment says.
    FUNCTIONS_LOG_INVOCATIONS: 'true',
    ...overrides,
  };
}
