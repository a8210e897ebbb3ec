// Timer triggers: fires a function at each NCRONTAB occurrence, optionally once at startup (runOnStartup).
// Like the runtime without a schedule monitor, `isPastDue` is false; `scheduleStatus` is kept in memory.
// There is no cross-host singleton lock: every host process fires its own timers (see docs/host.md).
import type { HostLogger } from './log.js';
import type { CronSchedule } from './ncrontab.js';

export interface TimerConfig {
  functionName: string;
  schedule: CronSchedule;
  runOnStartup: boolean;
  logger: HostLogger;
  /** Invokes the function with the timer payload (the host's JSON shape, PascalCase keys). */
  invoke(payload: TimerPayload, firedAt: Date): Promise<void>;
}

export interface TimerPayload {
  Schedule: { AdjustForDST: boolean };
  ScheduleStatus: { Last: string; Next: string; LastUpdated: string };
  IsPastDue: boolean;
}

/** Longest single setTimeout we arm; longer waits are chained (setTimeout caps at ~24.8 days). */
const maxTimerMs = 2 ** 31 - 1;

export class TimerScheduler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private last = new Date(0);
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly config: TimerConfig) {}

  start(): void {
    if (this.config.runOnStartup) this.fire(new Date());
    this.arm();
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const drained = Promise.all([...this.running]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  private arm(): void {
    if (this.stopped) return;
    const now = new Date();
    const next = this.config.schedule.next(now);
    const wait = next.getTime() - now.getTime();
    this.timer = setTimeout(
      () => {
        if (Date.now() < next.getTime()) {
          this.arm();
          return;
        }
        this.fire(next);
        this.arm();
      },
      Math.min(wait, maxTimerMs),
    );
  }

  private fire(occurrence: Date): void {
    if (this.stopped) return;
    const now = new Date();
    const payload: TimerPayload = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: {
        Last: this.last.toISOString(),
        Next: this.config.schedule.next(occurrence).toISOString(),
        LastUpdated: now.toISOString(),
      },
      IsPastDue: false,
    };
    this.last = occurrence;
    const work = this.config.invoke(payload, now).catch(() => {
      // Logged by the invoker. Timer failures do not stop the schedule.
    });
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }
}
