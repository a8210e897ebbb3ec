// Starting function hosts from tests: in-process (fast, logs captured as records) or as a child process
// running the real CLI (`dist/src/host/cli.js`, so `npm run build` must have run). Both are stopped when the
// test that started them finishes, pass or fail; a process-exit hook kills any child left over.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { inject, onTestFinished } from 'vitest';
import { type HostOptions, type RunningHost, startHost } from '../../src/host/host.js';
import { formatLogRecord, type LogRecord } from '../../src/host/log.js';

/** The repository root (this file is test/support/hosts.ts). */
export const repoRoot = path.resolve(__dirname, '..', '..');
export const cliPath = path.join(repoRoot, 'dist', 'src', 'host', 'cli.js');

/** Registers `cleanup` to run when the current test ends; outside a test, the caller must clean up. */
function cleanupAfterTest(cleanup: () => Promise<unknown>): void {
  try {
    onTestFinished(async () => {
      await cleanup();
    });
  } catch {
    // Not inside a test (e.g. beforeAll): the caller owns stopping it.
  }
}

/** A TCP port that was free a moment ago (for tests that must name ports up front). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

// ---------------------------------------------------------------------------------------------------------
// In-process hosts

export interface TestHost extends RunningHost {
  /** Every log record so far. */
  logs: LogRecord[];
  /** The log as func would print it, one `[time] message` per line. */
  logText(): string;
}

/**
 * Starts a host in this process on a free port against the shared Azurite (`AzureWebJobsStorage` defaults to
 * the injected connection string). Logs are captured, not printed; Executing/Executed lines are on unless
 * `logInvocations: false`. Stopped when the test ends.
 * Usage: `const host = await startTestHost({ appDir, env: { WORK_QUEUE: uniqueName('work') } });`
 */
export async function startTestHost(options: HostOptions): Promise<TestHost> {
  const logs: LogRecord[] = [];
  const host = await startHost({
    port: 0,
    shutdownTimeoutMs: 10_000,
    logInvocations: true,
    ...options,
    env: { AzureWebJobsStorage: inject('storageConnectionString'), ...options.env },
    logSink: (record) => {
      logs.push(record);
      options.logSink?.(record);
    },
  });
  cleanupAfterTest(() => host.stop());
  return { ...host, logs, logText: () => logs.map(formatLogRecord).join('\n') };
}

// ---------------------------------------------------------------------------------------------------------
// Child-process hosts

export interface HostProcessOptions {
  /** Function app folder (passed as --app-dir). */
  appDir: string;
  /** Environment overrides on top of this process's environment. */
  env?: Record<string, string>;
  /** Extra CLI arguments, e.g. ['--enable-auth']. */
  args?: string[];
  /** HTTP port; default 0 (a free port, read back from the output). */
  port?: number;
  /** How long to wait for "Host listening on ..." (default 20 s). */
  readyTimeoutMs?: number;
  /** Storage for AzureWebJobsStorage; default the shared Azurite. */
  storageConnectionString?: string;
  /**
   * Let the CLI start its own Azurite when AzureWebJobsStorage is local (as `npm start` does). Default false:
   * the child gets --no-azurite and uses the shared one.
   */
  withAzurite?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HostProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** stdout and stderr lines so far, in arrival order. */
  lines: string[];
  output(): string;
  /** Resolves with the first line (already seen or future) matching `pattern`; rejects on timeout or exit. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited. */
  exited: Promise<ExitInfo>;
  /** Sends `signal` (default SIGTERM), waits up to `timeoutMs` (default 20 s), then SIGKILLs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
}

const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/**
 * Starts `node dist/src/host/cli.js --app-dir <appDir> --no-azurite --port 0` and waits until it prints
 * "Host listening on <url>" (http, or https with --https).
 * The child is killed when the current test ends (or at process exit).
 * Usage: `const host = await startHostProcess({ appDir, env: { WORK_QUEUE: q } }); await fetch(`${host.url}/api/x`);`
 */
export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  if (!existsSync(cliPath))
    throw new Error(`${cliPath} is missing: run \`npm run build\` before these tests.`);
  const child = spawn(
    process.execPath,
    [
      cliPath,
      '--app-dir',
      options.appDir,
      ...(options.withAzurite ? [] : ['--no-azurite']),
      '--port',
      String(options.port ?? 0),
      ...(options.args ?? []),
    ],
    {
      cwd: options.appDir,
      env: {
        ...process.env,
        AzureWebJobsStorage: options.storageConnectionString ?? inject('storageConnectionString'),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  liveChildren.add(child);
  const lines: string[] = [];
  const lineWaiters = new Set<() => void>();
  let exitedNow = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    // 'close' (not 'exit'): by then stdout/stderr are fully read, so waiters see the last lines.
    child.once('close', (code, signal) => {
      exitedNow = true;
      liveChildren.delete(child);
      resolve({ code, signal });
      for (const wake of [...lineWaiters]) wake();
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = '';
    stream?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      lines.push(...parts);
      for (const wake of [...lineWaiters]) wake();
    });
    stream?.on('end', () => {
      if (buffer !== '') lines.push(buffer);
      buffer = '';
    });
  }

  const waitForLine = (pattern: RegExp, timeoutMs = 20_000): Promise<string> =>
    new Promise((resolve, reject) => {
      let checked = 0;
      const check = (): void => {
        for (; checked < lines.length; checked++) {
          const line = lines[checked] ?? '';
          if (pattern.test(line)) {
            done();
            resolve(line);
            return;
          }
        }
        if (exitedNow) {
          done();
          reject(new Error(`Host process exited before printing ${pattern}. Output:\n${lines.join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`No line matching ${pattern} within ${timeoutMs} ms. Output:\n${lines.join('\n')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        lineWaiters.delete(check);
      };
      lineWaiters.add(check);
      check();
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<ExitInfo> => {
    if (!exitedNow) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  cleanupAfterTest(() => stop('SIGKILL'));

  try {
    const ready = await waitForLine(/Host listening on (https?:\/\/\S+)/, options.readyTimeoutMs ?? 20_000);
    const url = /Host listening on (https?:\/\/\S+)/.exec(ready)?.[1] ?? '';
    const port = Number(new URL(url).port);
    return {
      url,
      port,
      pid: child.pid ?? -1,
      child,
      lines,
      output: () => lines.join('\n'),
      waitForLine,
      exited,
      stop,
    };
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
}
