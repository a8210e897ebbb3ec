// Starts Azurite (the project's pinned node_modules/azurite) as a child process, so its work never shares the
// host's event loop. The child runs Azurite's own CLI entry after a preload (azurite-preload.cjs) that makes it
// exit when its parent dies (the IPC channel closes), so no orphan keeps the ports, and (with a location) saves its
// databases when it is quiet, one file per collection, instead of whole on Azurite's fixed 5 s timer.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { devConnectionString, type StoragePorts } from './settings.js';

export interface AzuriteOptions {
  /** Keep data in this folder (created if missing). Mutually exclusive with inMemory. */
  location?: string;
  /** Keep no data on disk. Default true when no location is given. */
  inMemory?: boolean;
  /** Ports to listen on; 0 (the default for each) picks a free port. */
  ports?: Partial<StoragePorts>;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Milliseconds to wait for all three services. Default 30 s. */
  startTimeoutMs?: number;
  /** Receives Azurite's own output lines (it is started with --silent, so there is no access log). */
  onOutput?: (line: string) => void;
  /** Extra flags for Azurite's node process (the benchmark profiles it with --cpu-prof). */
  nodeArgs?: readonly string[];
  /**
   * With a location: Azurite writes its databases to disk once it has been quiet (no change) for `saveWhenQuietMs`,
   * and while it stays busy at least every `saveIntervalMs` (they are also written when it stops). Azurite's own
   * fixed 5 s timer serialises the whole table database — one JSON file, ~230 MB for a 100,000-user tenant,
   * seconds of its single thread — every 5 s even in the middle of an import.
   */
  saveIntervalMs?: number;
  saveWhenQuietMs?: number;
  /** Serve HTTPS with this certificate and key (PEM files), as Azurite's --cert/--key. */
  https?: { certPath: string; keyPath: string };
  /**
   * `basic`: also accept OAuth bearer tokens (Azurite checks their audience, issuer and expiry, not the signature),
   * for identity-based connections. Needs https.
   */
  oauth?: 'basic';
}

export const DEFAULT_SAVE_INTERVAL_MS = 120_000;
export const DEFAULT_SAVE_WHEN_QUIET_MS = 2_000;

export interface RunningAzurite {
  /** Full connection string for the devstoreaccount1 account on the bound ports. */
  connectionString: string;
  /**
   * What the start had to say about the data folder: the journal replayed over a snapshot after a crash, a torn
   * record or file left out (lines beginning with "Azurite journal:" or "Azurite store:").
   */
  notes: string[];
  ports: StoragePorts;
  pid: number;
  /** Stops the child (SIGTERM, then SIGKILL after 5 s, or 60 s with a location: its final save). Idempotent. */
  stop(): Promise<void>;
  /** Settles when the child exits, whether stopped or not (`expected` is false when it died on its own). */
  exited: Promise<AzuriteExit>;
}

export interface AzuriteExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
  /** Azurite's last output lines (up to 40) before it exited. */
  lastOutput: string[];
}

/**
 * The preload (a CommonJS file beside this one in src/host, also used from dist) that runs in Azurite's process
 * before its CLI: it exits with its parent, and with a data folder saves Azurite's databases when quiet, one file
 * per collection (azurite-preload.cjs explains why).
 */
function preloadPath(): string {
  const candidates = [
    path.join(__dirname, 'azurite-preload.cjs'),
    path.join(__dirname, '..', '..', '..', 'src', 'host', 'azurite-preload.cjs'),
  ];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`azurite-preload.cjs not found (looked in ${candidates.join(', ')})`);
  return found;
}

export function azuriteMainPath(): string {
  const requireHere = createRequire(__filename);
  return path.join(path.dirname(requireHere.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const host = options.host ?? '127.0.0.1';
  const args = [
    '--blobHost',
    host,
    '--queueHost',
    host,
    '--tableHost',
    host,
    '--blobPort',
    String(options.ports?.blob ?? 0),
    '--queuePort',
    String(options.ports?.queue ?? 0),
    '--tablePort',
    String(options.ports?.table ?? 0),
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
  ];
  if (options.https) args.push('--cert', options.https.certPath, '--key', options.https.keyPath);
  if (options.oauth) {
    if (!options.https) throw new Error('Azurite accepts OAuth tokens only over https: give https too.');
    args.push('--oauth', options.oauth);
  }
  const location =
    options.location !== undefined && options.inMemory !== true ? path.resolve(options.location) : undefined;
  if (location !== undefined) {
    mkdirSync(location, { recursive: true });
    args.push('--location', location);
  } else {
    args.push('--inMemoryPersistence');
  }

  // detached: its own process group, so a terminal Ctrl-C reaches only the parent, which then stops the
  // host before Azurite (in-flight invocations can still delete their messages).
  const save =
    location === undefined
      ? undefined
      : {
          quietMs: Math.max(100, Math.floor(options.saveWhenQuietMs ?? DEFAULT_SAVE_WHEN_QUIET_MS)),
          maxMs: Math.max(1000, Math.floor(options.saveIntervalMs ?? DEFAULT_SAVE_INTERVAL_MS)),
        };
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (save) env.GBL_AZURITE_SAVE = JSON.stringify(save);
  else delete env.GBL_AZURITE_SAVE;
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--require', preloadPath(), azuriteMainPath(), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      cwd: location ?? process.cwd(),
      detached: true,
      env,
    },
  );
  // Azurite writes its databases once more when it stops; a big table database takes seconds.
  const graceMs = location === undefined ? 5_000 : 60_000;
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const output: string[] = [];
  try {
    const ports = await waitForPorts(child, output, options);
    let stopping: Promise<void> | undefined;
    // After readiness, keep forwarding Azurite's output (errors it reports later) and its last lines: if it dies,
    // they usually say why.
    const recent: string[] = [];
    forwardLines(child, (line) => {
      options.onOutput?.(line);
      recent.push(line);
      if (recent.length > 40) recent.shift();
    });
    const exited = new Promise<AzuriteExit>((resolve) => {
      child.once('exit', (code, signal) =>
        resolve({ code, signal, expected: stopping !== undefined, lastOutput: [...recent] }),
      );
    });
    return {
      exited,
      notes: output.filter((line) => /^Azurite (journal|store):/.test(line)),
      connectionString: devConnectionString(ports, host, options.https ? 'https' : 'http'),
      ports,
      pid: child.pid ?? -1,
      stop() {
        stopping ??= stopChild(child, graceMs).finally(() => process.off('exit', killOnExit));
        return stopping;
      },
    };
  } catch (error) {
    await stopChild(child, graceMs);
    process.off('exit', killOnExit);
    throw error;
  }
}

function waitForPorts(child: ChildProcess, output: string[], options: AzuriteOptions): Promise<StoragePorts> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const found: Partial<StoragePorts> = {};
    const timer = setTimeout(() => {
      fail(new Error(`Azurite did not start within ${timeoutMs} ms. Output:\n${output.join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string): void => {
      output.push(line);
      options.onOutput?.(line);
      const listening = listeningPort(line);
      if (listening) {
        found[listening.service] = listening.port;
        if (found.blob !== undefined && found.queue !== undefined && found.table !== undefined) {
          clearTimeout(timer);
          cleanup();
          resolve({ blob: found.blob, queue: found.queue, table: found.table });
        }
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      const inUse = output.some((l) => l.includes('EADDRINUSE'));
      fail(
        new Error(
          inUse
            ? `Azurite could not start: a port is already in use (${describePorts(options.ports)}). ` +
                'Stop whatever is listening there (maybe another Azurite) or choose other ports.\n' +
                output.join('\n')
            : `Azurite exited before it was ready (code ${code}, signal ${signal}). Output:\n${output.join('\n')}`,
        ),
      );
    };
    const onError = (error: Error): void => fail(new Error(`Could not start Azurite: ${error.message}`));
    const stopForwarding = forwardLines(child, onLine);
    child.once('exit', onExit);
    child.once('error', onError);
    function cleanup(): void {
      stopForwarding();
      child.off('exit', onExit);
      child.off('error', onError);
    }
    function fail(error: Error): void {
      clearTimeout(timer);
      cleanup();
      reject(error);
    }
  });
}

/** The service and port of an Azurite "… service is successfully listening at …" line, if it is one. */
export function listeningPort(line: string): { service: keyof StoragePorts; port: number } | undefined {
  const match = /Azurite (Blob|Queue|Table) service is successfully listening at https?:\/\/[^:]+:(\d+)/.exec(
    line,
  );
  if (!match?.[1] || !match[2]) return undefined;
  const service = match[1] === 'Blob' ? 'blob' : match[1] === 'Queue' ? 'queue' : 'table';
  return { service, port: Number(match[2]) };
}

function describePorts(ports: Partial<StoragePorts> | undefined): string {
  if (!ports) return 'free ports were requested';
  return `blob ${ports.blob ?? 0}, queue ${ports.queue ?? 0}, table ${ports.table ?? 0}`;
}

/** Calls `onLine` for each line of the child's stdout and stderr; returns an unsubscribe function. */
function forwardLines(child: ChildProcess, onLine: (line: string) => void): () => void {
  const buffers = { stdout: '', stderr: '' };
  const make =
    (key: 'stdout' | 'stderr') =>
    (chunk: Buffer): void => {
      buffers[key] += chunk.toString('utf8');
      const lines = buffers[key].split('\n');
      buffers[key] = lines.pop() ?? '';
      for (const line of lines) onLine(line.replace(/\r$/, ''));
    };
  const onStdout = make('stdout');
  const onStderr = make('stderr');
  child.stdout?.on('data', onStdout);
  child.stderr?.on('data', onStderr);
  return () => {
    child.stdout?.off('data', onStdout);
    child.stderr?.off('data', onStderr);
  };
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Keep draining the pipes so the child never blocks on a full stdout while closing.
  child.stdout?.resume();
  child.stderr?.resume();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
