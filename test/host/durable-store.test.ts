// npm start's store survives whatever dies, tested on the real thing: the CLI with its own Azurite on a data folder
// (not an in-memory Azurite), killed with SIGKILL in the middle of work, then started again on the same folder, as a
// user would. The tenant is then checked by the simulator against its own record of what it sent (src/simulator:
// every principal's licenses, group members, subscriptions, and the rules' invariants), not by the service's code.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog, loadCatalogData } from '../../src/catalog/load.js';
import { collectionSchema, selectedUserSchema, userSchema } from '../../src/contract/graph.js';
import { provisionTenant } from '../../src/simulator/generate.js';
import { silentProgress } from '../../src/simulator/progress.js';
import { OperatorClient } from '../../src/simulator/service.js';
import { verify } from '../../src/simulator/verify.js';
import { devConnectionString, type StoragePorts } from '../../src/storage/connection.js';
import {
  freePort,
  type HostProcess,
  repoRoot,
  startHostProcess,
  uniqueName,
  waitFor,
} from '../support/index.js';

const ADMIN_KEY = 'durable-store-admin-key';
const catalog = loadCatalog();
const folders: string[] = [];
const azurites: number[] = [];
afterAll(async () => {
  // A host killed at the end of a test leaves its Azurite saving into the folder for a moment (as it should): wait
  // for every Azurite to be gone before removing the folders, or the removal races its last writes.
  for (const pid of azurites) await gone(pid, 'Azurite, at teardown');
  for (const folder of folders) rmSync(folder, { recursive: true, force: true, maxRetries: 5 });
}, 120_000);

interface Store {
  readonly location: string;
  readonly ports: StoragePorts;
  readonly port: number;
  readonly prefix: string;
}

async function newStore(): Promise<Store> {
  const location = mkdtempSync(path.join(tmpdir(), 'durable-store-'));
  folders.push(location);
  const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  return { location, ports, port: await freePort(), prefix: uniqueName('d') };
}

/** `npm start` on the store's folder: the CLI starts its own Azurite there, then the host. */
async function npmStart(
  store: Store,
  env: Record<string, string> = {},
): Promise<{ host: HostProcess; azuritePid: number }> {
  const host = await startHostProcess({
    appDir: repoRoot,
    withAzurite: true,
    port: store.port,
    storageConnectionString: devConnectionString(store.ports),
    args: ['--azurite-location', store.location, '--no-log-invocations'],
    env: {
      ADMIN_API_KEY: ADMIN_KEY,
      GRAPH_TOKEN_SIGNING_KEY: 'durable-store-signing-key-0123456789abcdef',
      STORAGE_PREFIX: store.prefix,
      AzureFunctionsWebHost__hostid: store.prefix,
      // Messages a killed host held come back when their lease ends: 10 minutes, as on the runtime; 3 s here.
      FUNCTIONS_QUEUE_LEASE_MS: '3000',
      ...env,
    },
    readyTimeoutMs: 60_000,
  });
  const azuritePid = Number(/Azurite is ready \(pid (\d+)\)/.exec(host.output())?.[1]);
  expect(azuritePid).toBeGreaterThan(0);
  azurites.push(azuritePid);
  return { host, azuritePid };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, what: string): Promise<void> {
  await waitFor(() => !isAlive(pid), {
    timeoutMs: 60_000,
    intervalMs: 100,
    message: `${what} (pid ${pid}) exited`,
  });
}

/** A tenant big enough that its group jobs are still running when the test kills something. */
async function busyTenant(operator: OperatorClient) {
  const { state } = await provisionTenant(
    operator,
    catalog,
    { users: 3000, groups: 8, devices: 60, seed: 16 },
    silentProgress,
  );
  expect(await operator.isIdle(state.tenant.id)).toBe(false);
  return state;
}

describe('npm start on a data folder, when something is killed mid-work', () => {
  it('loses nothing when the host is SIGKILLed in the middle of group jobs: restarted, the jobs finish', async () => {
    const store = await newStore();
    const first = await npmStart(store);
    const state = await busyTenant(new OperatorClient(first.host.url, ADMIN_KEY));
    first.host.child.kill('SIGKILL');
    await gone(first.azuritePid, 'Azurite, whose parent died');

    const second = await npmStart(store);
    const operator = new OperatorClient(second.host.url, ADMIN_KEY);
    const result = await verify(operator, loadCatalogData(), state, silentProgress, {
      idleTimeoutMs: 240_000,
    });
    expect(result.differences.slice(0, 10)).toEqual([]);
    expect(result.principalsChecked).toBeGreaterThan(3000);
  }, 420_000);

  it('loses nothing acknowledged when Azurite is SIGKILLed in the middle of group jobs', async () => {
    const store = await newStore();
    const first = await npmStart(store);
    const state = await busyTenant(new OperatorClient(first.host.url, ADMIN_KEY));
    process.kill(first.azuritePid, 'SIGKILL');
    const exit = await first.host.exited;
    expect(exit.code).toBe(1); // npm start stops, loudly, when its storage dies

    const second = await npmStart(store);
    expect(second.host.output()).toMatch(
      /Azurite journal: __azurite_db_table__\.json restored with \d+ change/,
    );
    expect(second.host.output()).not.toMatch(/could not be applied/);
    const operator = new OperatorClient(second.host.url, ADMIN_KEY);
    const result = await verify(operator, loadCatalogData(), state, silentProgress, {
      idleTimeoutMs: 240_000,
    });
    expect(result.differences.slice(0, 10)).toEqual([]);
    expect(result.principalsChecked).toBeGreaterThan(3000);
  }, 420_000);

  it('keeps what was answered when Azurite is SIGKILLed mid-import; the unanswered import is retried whole', async () => {
    const store = await newStore();
    const first = await npmStart(store);
    const operator = new OperatorClient(first.host.url, ADMIN_KEY);
    const tenant = await operator.createTenant('Mid-import', 'US');
    const token = await operator.token(tenant.id);
    const lines = Array.from({ length: 20_000 }, (_, i) => ({
      type: 'user',
      userPrincipalName: `u${i}@mid-import.example`,
      displayName: `User ${i}`,
      usageLocation: 'US',
    }));
    const importing = operator.import(tenant.id, lines).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Answered just before the kill: it must be there afterwards.
    const answered = await fetch(`${first.host.url}/api/v1.0/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        accountEnabled: true,
        displayName: 'Answered',
        mailNickname: 'answered',
        userPrincipalName: 'answered@mid-import.example',
        passwordProfile: { password: `Pw-${randomUUID()}` },
      }),
    });
    expect(answered.status).toBe(201);
    const answeredId = userSchema.pick({ id: true }).parse(await answered.json()).id;
    process.kill(first.azuritePid, 'SIGKILL');
    expect(await importing).toBe('failed');
    await first.host.exited;

    // Names the killed import had reserved for users it never wrote are free once no request can still write
    // them: after the function timeout (10 minutes), a second here.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const second = await npmStart(store, { NAME_RESERVATION_TIMEOUT_SECONDS: '1' });
    const again = new OperatorClient(second.host.url, ADMIN_KEY);
    const graph = { authorization: `Bearer ${await again.token(tenant.id)}` };
    const read = await fetch(`${second.host.url}/api/v1.0/users/${answeredId}`, { headers: graph });
    expect(read.status).toBe(200);
    // The client retries the import that was never answered: the users that made it before the kill are refused as
    // existing (whole users, never half of one), the rest are created, and every user is there exactly once.
    const retried = await again.import(tenant.id, lines);
    expect(retried.users).toBeGreaterThan(0);
    for (const error of retried.errors) {
      expect(error).toMatchObject({
        message: 'Another object with the same value for property userPrincipalName already exists.',
      });
    }
    const count = await fetch(`${second.host.url}/api/v1.0/users?$count=true&$top=1`, {
      headers: { ...graph, ConsistencyLevel: 'eventual' },
    });
    expect(collectionSchema(selectedUserSchema).parse(await count.json())['@odata.count']).toBe(20_001);
    const sample = await fetch(`${second.host.url}/api/v1.0/users/u19999@mid-import.example`, {
      headers: graph,
    });
    expect(sample.status).toBe(200);
  }, 300_000);
});
