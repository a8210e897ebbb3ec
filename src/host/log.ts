// Log records in the shape `func start` prints: `[2024-05-01T10:00:00.123Z] Executing 'Functions.x' (...)`.
import type { LogLevelName } from './settings.js';

export interface LogRecord {
  time: Date;
  level: LogLevelName;
  /** 'host' for the host's own lines, 'user' for context.log & co, 'system' for the library's messages. */
  category: 'host' | 'user' | 'system';
  message: string;
  functionName?: string;
  invocationId?: string;
}

export type LogSink = (record: LogRecord) => void;

const rank: Record<LogLevelName, number> = {
  trace: 0,
  debug: 1,
  information: 2,
  warning: 3,
  error: 4,
  critical: 5,
  none: 6,
};

export function isEnabled(level: LogLevelName, minimum: LogLevelName): boolean {
  return level !== 'none' && rank[level] >= rank[minimum];
}

export function formatLogRecord(record: LogRecord): string {
  return `[${record.time.toISOString()}] ${record.message}`;
}

/** Writes formatted records to stdout (errors and warnings to stderr). */
export const consoleSink: LogSink = (record) => {
  const line = `${formatLogRecord(record)}\n`;
  if (rank[record.level] >= rank.warning) process.stderr.write(line);
  else process.stdout.write(line);
};

export class HostLogger {
  constructor(
    private readonly sink: LogSink,
    private readonly minimum: LogLevelName,
  ) {}

  enabled(level: LogLevelName): boolean {
    return isEnabled(level, this.minimum);
  }

  write(record: Omit<LogRecord, 'time'>): void {
    if (!isEnabled(record.level, this.minimum)) return;
    this.sink({ time: new Date(), ...record });
  }

  info(message: string): void {
    this.write({ level: 'information', category: 'host', message });
  }

  warn(message: string): void {
    this.write({ level: 'warning', category: 'host', message });
  }

  error(message: string): void {
    this.write({ level: 'error', category: 'host', message });
  }

  debug(message: string): void {
    this.write({ level: 'debug', category: 'host', message });
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}
