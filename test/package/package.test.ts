// What deploys is what runs: `npm run package` builds the zip, the zip is unpacked into an empty folder outside
// the repository (so nothing can be found in the repository's node_modules), and that folder alone runs on the
// local host as a child process and licenses a group through the operator and Graph APIs.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { collectionSchema, subscribedSkuSchema, userSchema } from '../../src/contract/graph.js';
import { extractZip, listZip } from '../../src/package/zip.js';
import { graphClient, OperatorClient } from '../../src/simulator/service.js';
import { repoRoot, startHostProcess, uniqueName, waitFor, withTimeout } from '../support/index.js';

const packageCli = path.join(repoRoot, 'dist', 'src', 'package', 'cli.js');
const ADMIN_API_KEY = 'package-test-admin-key';

function runPackage(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [packageCli, ...args],
      { cwd: repoRoot, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Bounds one service call: a hung request fails the test with its name instead of running into the timeout. */
function step<T>(what: string, call: () => Promise<T>): Promise<T> {
  return withTimeout(call(), 30_000, what);
}

const idOf = (value: unknown): string => z.object({ id: z.string() }).parse(value).id;

describe('npm run package', () => {
  it('builds a zip that holds what the functions load and nothing of the tooling, and it runs: a group gets licensed', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'package-test-'));
    onTestFinished(() => rmSync(work, { recursive: true, force: true }));
    const zipPath = path.join(work, 'app.zip');

    const packaged = await runPackage(['--app-dir', repoRoot, '--out', zipPath]);
    expect(packaged.code, packaged.output).toBe(0);
    expect(packaged.output).toContain(`Package: ${zipPath}`);
    expect(packaged.output).toMatch(/\d+(\.\d)? MB, \d+ files/);
    expect(packaged.output).toContain(
      `az functionapp deployment source config-zip -g <resource-group> -n <function-app> --src ${zipPath}`,
    );

    const names = (await listZip(zipPath)).map((entry) => entry.name);
    for (const required of [
      'host.json',
      'package.json',
      'dist/functions/health.js',
      'dist/functions/manage.js',
      'dist/src/catalog/catalog.json',
      'node_modules/@azure/functions/package.json',
      'node_modules/@azure/data-tables/package.json',
      'node_modules/zod/package.json',
    ])
      expect(names).toContain(required);
    for (const kept of [
      'node_modules/azurite/',
      'node_modules/commander/',
      'node_modules/vitest/',
      'node_modules/typescript/',
      'dist/src/host/',
      'dist/src/simulator/',
      'dist/src/bench/',
      'dist/src/package/',
      'src/',
      'functions/',
      'test/',
      'docs/',
    ])
      expect(names.filter((name) => name.startsWith(kept))).toEqual([]);
    expect(new Set(names.map((name) => name.split('/')[0]))).toEqual(
      new Set(['dist', 'host.json', 'node_modules', 'package.json']),
    );

    const appDir = path.join(work, 'app');
    mkdirSync(appDir);
    expect(await extractZip(zipPath, appDir)).toBe(names.length);
    expect(readdirSync(appDir).sort()).toEqual(['dist', 'host.json', 'node_modules', 'package.json']);

    const prefix = uniqueName('pkg');
    const host = await startHostProcess({
      appDir,
      env: {
        ADMIN_API_KEY,
        GRAPH_TOKEN_SIGNING_KEY: 'package-test-signing-key-0123456789abcdef',
        STORAGE_PREFIX: prefix,
        AzureFunctionsWebHost__hostid: prefix,
        FUNCTIONS_LOG_INVOCATIONS: 'false',
      },
      readyTimeoutMs: 30_000,
    });
    // Every kind of trigger loaded from the unpacked folder.
    expect(host.output()).toMatch(/health: \[GET\] http/);
    expect(host.output()).toMatch(/applyLicensePage: queueTrigger/);
    expect(host.output()).toMatch(/sweepExpiredWork: timerTrigger/);

    const health = await step('GET /api/health', () => fetch(`${host.url}/api/health`));
    expect(health.status).toBe(200);

    const operator = new OperatorClient(host.url, ADMIN_API_KEY);
    const tenant = await step('create a tenant', () => operator.createTenant('Contoso packaged', 'US'));
    await step('buy ENTERPRISEPACK', () => operator.setUnits(tenant.id, 'ENTERPRISEPACK', 5));
    const graph = graphClient(host.url, await step('mint a token', () => operator.token(tenant.id)));

    const skus = collectionSchema(subscribedSkuSchema).parse(
      await step('GET /subscribedSkus', () => graph.api('/subscribedSkus').get()),
    ).value;
    const skuId = skus.find((sku) => sku.skuPartNumber === 'ENTERPRISEPACK')?.skuId ?? '';
    expect(skuId).not.toBe('');

    const userId = idOf(
      await step('POST /users', () =>
        graph.api('/users').post({
          accountEnabled: true,
          displayName: 'Adele Vance',
          mailNickname: 'adelev',
          userPrincipalName: 'adelev@contoso.test',
          passwordProfile: { password: 'xWwvJ]6NMw+bWH-d', forceChangePasswordNextSignIn: false },
          usageLocation: 'US',
        }),
      ),
    );
    const groupId = idOf(
      await step('POST /groups', () =>
        graph.api('/groups').post({
          displayName: 'HR Department',
          mailNickname: 'hr',
          mailEnabled: false,
          securityEnabled: true,
        }),
      ),
    );
    await step('POST /groups/{id}/members/$ref', () =>
      graph
        .api(`/groups/${groupId}/members/$ref`)
        .post({ '@odata.id': `${host.url}/api/v1.0/directoryObjects/${userId}` }),
    );
    await step('POST /groups/{id}/assignLicense', () =>
      graph
        .api(`/groups/${groupId}/assignLicense`)
        .post({ addLicenses: [{ skuId, disabledPlans: [] }], removeLicenses: [] }),
    );

    const states = userSchema.pick({ licenseAssignmentStates: true });
    await waitFor(
      async () => {
        const user = states.parse(
          await step('GET /users/{id}', () =>
            graph.api(`/users/${userId}`).select('licenseAssignmentStates').get(),
          ),
        );
        return user.licenseAssignmentStates.some(
          (s) => s.skuId === skuId && s.assignedByGroup === groupId && s.state === 'Active',
        );
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'the group license to become Active on the user' },
    );

    const exit = await host.stop('SIGTERM');
    expect(exit.code, host.output()).toBe(0);
    expect(host.output()).not.toMatch(/Unexpected error|Cannot find module/);
  }, 300_000);
});
