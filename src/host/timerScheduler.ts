// Timer triggers: fires a function at each NCRONTAB occurrence, optionally once at startup (runOnStartup).
// Like the runtime without a schedule monitor, `isPastDue` is false; `scheduleStatus` is kept in memory.
// With a singleton lock (the default in startHost), only the host holding the lock runs the schedule.
import type { HostLogger } from './log.js';
import type { CronSchedule } from './ncrontab.js';
import type { SingletonLock } from './singletonLock.js';

export interface TimerConfig {
  functionName: string;
  schedule: CronSchedule;
  runOnStartup: boolean;
  logger: HostLogger;
  /** Invokes the function with the timer payload (the host's JSON shape, PascalCase keys). */
  invoke(payload: TimerPayload, firedAt: Date): Promise<void>;
  /** When given, the schedule runs only while this lock is held; its onChange must call setActive. */
  lock?: SingletonLock;
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

  private active = false;
  private startedOnce = false;

  start(): void {
    if (this.config.lock) this.config.lock.start();
    else this.setActive(true);
  }

  /** Starts or pauses the schedule (the singleton lock was acquired or lost). */
  setActive(active: boolean): void {
    if (this.stopped || active === this.active) return;
    this.active = active;
    clearTimeout(this.timer);
    if (!active) return;
    if (this.config.runOnStartup && !this.startedOnce) this.fire(new Date());
    this.startedOnce = true;
    this.arm();
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.config.lock?.stop();
    const drained = Promise.all([...this.running]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  private arm(): void {
    if (this.stopped || !this.active) return;
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
    if (this.stopped || !this.active) return;
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
