// Host child processes: graceful shutdown loses nothing, two hosts share a queue, and the npm start CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { devConnectionString } from '../../src/host/settings.js';
import {
  cliPath,
  freePort,
  type HostProcess,
  messageCount,
  queueClient,
  repoRoot,
  sendMessage,
  startHostProcess,
  takeMessages,
  waitFor,
} from '../support/index.js';
import { fixtureDir, fixtureEnv } from './fixture.js';

function idsOf(results: unknown[]): string[] {
  return results.map((r) => (typeof r === 'object' && r !== null && 'id' in r ? String(r.id) : '?'));
}

function count(host: HostProcess, pattern: RegExp): number {
  return host.lines.filter((line) => pattern.test(line)).length;
}

describe('graceful shutdown', () => {
  it('finishes running invocations on SIGTERM; a second host processes the rest; nothing is lost', async () => {
    const env = {
      ...fixtureEnv(),
      AzureFunctionsJobHost__extensions__queues__batchSize: '3',
      AzureFunctionsJobHost__extensions__queues__newBatchThreshold: '1',
    };
    const work = queueClient(env.WORK_QUEUE);
    const ids = Array.from({ length: 10 }, (_, i) => `job${i}`);
    for (const id of ids) await sendMessage(work, { id, action: 'slow', ms: 1200 });

    const first = await startHostProcess({ appDir: fixtureDir, env });
    await first.waitForLine(/work got job/);
    const exit = await first.stop('SIGTERM');
    expect(exit.code).toBe(0);
    const started = count(first, /Executing 'Functions\.work'/);
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThan(ids.length);
    // Every invocation that had started completed (and its message was deleted) before the process exited.
    expect(count(first, /Executed 'Functions\.work' \(Succeeded/)).toBe(started);
    expect(first.output()).toContain('fixture appTerminate hook ran');

    const second = await startHostProcess({ appDir: fixtureDir, env });
    const results = await takeMessages(queueClient(env.RESULTS_QUEUE), ids.length, {
      timeoutMs: 30_000,
    });
    expect(new Set(idsOf(results))).toEqual(new Set(ids));
    await waitFor(async () => (await messageCount(work)) === 0, { message: 'work queue drained' });
    expect(count(second, /Executing 'Functions\.work'/)).toBe(ids.length - started);
  });
});

describe('scale-out', () => {
  it('two hosts on one queue process each message exactly once', async () => {
    const env = {
      ...fixtureEnv(),
      AzureFunctionsJobHost__extensions__queues__batchSize: '4',
      AzureFunctionsJobHost__extensions__queues__newBatchThreshold: '2',
    };
    const [a, b] = await Promise.all([
      startHostProcess({ appDir: fixtureDir, env }),
      startHostProcess({ appDir: fixtureDir, env }),
    ]);
    const work = queueClient(env.WORK_QUEUE);
    const ids = Array.from({ length: 40 }, (_, i) => `item${i}`);
    await Promise.all(ids.map((id) => sendMessage(work, { id, action: 'slow', ms: 150 })));

    const results = await takeMessages(queueClient(env.RESULTS_QUEUE), ids.length, {
      timeoutMs: 30_000,
    });
    expect(idsOf(results).sort()).toEqual([...ids].sort());
    const pids = new Set(results.map((r) => (typeof r === 'object' && r !== null && 'pid' in r ? r.pid : 0)));
    expect(pids).toEqual(new Set([a.pid, b.pid]));
    await waitFor(async () => (await messageCount(work)) === 0, { message: 'work queue drained' });
    const executing = count(a, /Executing 'Functions\.work'/) + count(b, /Executing 'Functions\.work'/);
    expect(executing).toBe(ids.length);
  });
});

/** `npm start` on free ports with a throw-away Azurite folder; the Azurite pid it prints. */
async function startCliWithAzurite(): Promise<{ host: HostProcess; azuritePid: number }> {
  const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  const host = await startHostProcess({
    appDir: repoRoot,
    withAzurite: true,
    port: await freePort(),
    args: ['--azurite-location', mkdtempSync(`${tmpdir()}/azurite-cli-`)],
    storageConnectionString: devConnectionString(ports),
    readyTimeoutMs: 30_000,
  });
  const azuritePid = Number(/Azurite is ready \(pid (\d+)\)/.exec(host.output())?.[1]);
  expect(azuritePid).toBeGreaterThan(0);
  return { host, azuritePid };
}

describe('npm start CLI', () => {
  it('explains itself with --help', () => {
    const help = spawnSync(process.execPath, [cliPath, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Runs this function app locally without Azure Functions Core Tools');
    expect(help.stdout).toMatch(/--port <port>/);
    expect(help.stdout).toMatch(/--no-azurite/);
  });

  it('starts Azurite and the host, answers /api/health, and stops both on SIGINT', async () => {
    const { host, azuritePid } = await startCliWithAzurite();
    expect(host.output()).toMatch(/health: \[GET\] http:\/\/127\.0\.0\.1:\d+\/api\/health/);
    // The operator API lives at /api/manage: the runtime refuses routes that begin with "admin".
    expect(host.output()).toMatch(/manageCatalog: \[GET\] http:\/\/127\.0\.0\.1:\d+\/api\/manage\/catalog/);
    expect(host.output()).not.toMatch(/\/api\/admin/i);
    const catalog = await fetch(`${host.url}/api/manage/catalog`, {
      headers: { 'x-functions-key': 'dev-admin-key-change-me' },
    });
    expect(catalog.status).toBe(200);

    const response = await fetch(`${host.url}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'healthy',
      table: { ok: true },
      queue: { ok: true },
    });

    const exit = await host.stop('SIGINT');
    expect(exit.code).toBe(0);
    await waitFor(() => !isAlive(azuritePid), { timeoutMs: 10_000, message: 'Azurite child exited' });
  });

  it('stops with exit code 1 and says why when Azurite dies under it, instead of failing every request', async () => {
    const { host, azuritePid } = await startCliWithAzurite();
    process.kill(azuritePid, 'SIGKILL');
    const exit = await Promise.race([
      host.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`host still running:\n${host.output()}`)), 30_000),
      ),
    ]);
    expect(exit.code).toBe(1);
    expect(host.output()).toMatch(
      /Azurite \(the storage emulator, pid \d+\) exited on its own \(code null, signal SIGKILL\)/,
    );
    expect(host.output()).toContain('run npm start again to continue');
  }, 60_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('timer singleton', () => {
  it('runs a timer on one of two hosts sharing storage', async () => {
    const env = fixtureEnv({ TICK_SCHEDULE: '*/1 * * * * *' });
    const [a, b] = await Promise.all([
      startHostProcess({ appDir: fixtureDir, env }),
      startHostProcess({ appDir: fixtureDir, env }),
    ]);
    const ticks = await takeMessages(queueClient(env.TIMER_RESULTS_QUEUE), 4, { timeoutMs: 15_000 });
    const pids = new Set(ticks.map((t) => (typeof t === 'object' && t !== null && 'pid' in t ? t.pid : 0)));
    expect(pids.size).toBe(1);
    expect([a.pid, b.pid]).toContain([...pids][0]);
    // One firing per second, not two.
    const seconds = ticks.map((t) =>
      typeof t === 'object' && t !== null && 'at' in t ? String(t.at).slice(0, 19) : '',
    );
    expect(new Set(seconds).size).toBe(seconds.length);
  });
});
