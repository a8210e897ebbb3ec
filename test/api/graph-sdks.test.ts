// The acceptance of real sign-in: the README's Graph script (examples/license-a-group.mts), unchanged, runs as its own
// Node process against the service over HTTPS. It signs in with @azure/identity's ClientSecretCredential as an app
// registration and drives both official SDKs through their standard auth providers — no hand-written middleware.
// What it did is then checked here through raw HTTPS calls, not through the SDKs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collectionSchema, userSchema } from '../../src/contract/graph.js';
import { ensureDevelopmentCertificate } from '../../src/host/certificates.js';
import { repoRoot, startTestHost, type TestHost, uniqueName, withTimeout } from '../support/index.js';
import { nodeRequest } from '../support/requests.js';
import { ADMIN_API_KEY, GRAPH_TOKEN_SIGNING_KEY } from './support.js';

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const EMS = 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e';
const script = path.join(repoRoot, 'dist', 'examples', 'license-a-group.mjs');

let host: TestHost;
let certDir: string;
let cert: string;

beforeAll(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'sdk-cert-'));
  const certificate = await ensureDevelopmentCertificate(certDir);
  cert = certificate.cert;
  const prefix = uniqueName('sdk');
  host = await startTestHost({
    appDir: repoRoot,
    createQueues: true,
    logInvocations: false,
    https: { cert: certificate.cert, key: certificate.key },
    env: {
      STORAGE_PREFIX: prefix,
      ADMIN_API_KEY,
      GRAPH_TOKEN_SIGNING_KEY,
      AzureFunctionsWebHost__hostid: prefix,
    },
  });
});

afterAll(async () => {
  await host?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

/** One HTTPS request that trusts only the test's certificate; the body parsed as JSON when there is one. */
async function call(
  method: string,
  apiPath: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: unknown }> {
  const answer = await nodeRequest(`${host.url}${apiPath}`, {
    method,
    ca: cert,
    timeoutMs: 15_000,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: answer.status, json: answer.text === '' ? undefined : JSON.parse(answer.text) };
}

const operator = { 'x-functions-key': ADMIN_API_KEY };

function runScript(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, output }));
      setTimeout(() => child.kill('SIGKILL'), 100_000).unref();
    }),
    110_000,
    'the Graph script',
  );
}

const created = z.object({ id: z.string() });
const application = z.object({ appId: z.string(), clientSecret: z.string() });
const userList = collectionSchema(
  userSchema.pick({ id: true, displayName: true, assignedLicenses: true, licenseAssignmentStates: true }),
);

describe('a Graph script signing in with @azure/identity (README, "License a group with the Graph SDK")', () => {
  it('licenses a group with the v3 client and a user with the Kiota SDK, paging with each SDK’s iterator', async () => {
    const tenant = created.parse(
      (
        await call('POST', '/api/manage/tenants', {
          headers: operator,
          body: { displayName: 'Contoso', countryLetterCode: 'US' },
        })
      ).json,
    );
    for (const sku of ['ENTERPRISEPACK', 'EMS']) {
      const bought = await call('PUT', `/api/manage/tenants/${tenant.id}/subscriptions/${sku}`, {
        headers: operator,
        body: { prepaidUnits: { enabled: 10 } },
      });
      expect(bought.status).toBe(200);
    }
    const registered = await call('POST', `/api/manage/tenants/${tenant.id}/applications`, {
      headers: operator,
      body: {
        displayName: 'Licensing script',
        roles: ['User.ReadWrite.All', 'Group.ReadWrite.All', 'LicenseAssignment.ReadWrite.All'],
      },
    });
    expect(registered.status).toBe(201);
    const app = application.parse(registered.json);

    const { code, output } = await runScript({
      AZURE_TENANT_ID: tenant.id,
      AZURE_CLIENT_ID: app.appId,
      AZURE_CLIENT_SECRET: app.clientSecret,
      AZURE_AUTHORITY_HOST: `${host.url}/api/identity`,
      GRAPH_BASE_URL: `${host.url}/api`,
      NODE_EXTRA_CA_CERTS: path.join(certDir, 'cert.pem'),
    });
    expect(output).toMatch(/v3 client: 3 licensed members: Seller \S+ 1, Seller \S+ 2, Seller \S+ 3/);
    expect(output).toMatch(/Kiota SDK: 4 users of this run: Sales manager \S+, Seller \S+ 1/);
    expect(code, output).toBe(0);

    // What the script did, read back without the SDKs, with an operator-minted token.
    const minted = z
      .object({ access_token: z.string() })
      .parse(
        (await call('POST', `/api/manage/tenants/${tenant.id}/tokens`, { headers: operator, body: {} })).json,
      );
    const read = await call(
      'GET',
      '/api/v1.0/users?$select=id,displayName,assignedLicenses,licenseAssignmentStates&$top=999',
      { headers: { authorization: `Bearer ${minted.access_token}` } },
    );
    const users = userList.parse(read.json).value;
    const sellers = users.filter((u) => u.displayName.startsWith('Seller '));
    expect(sellers).toHaveLength(3);
    for (const seller of sellers) {
      expect(seller.licenseAssignmentStates).toEqual([
        expect.objectContaining({ skuId: E3, state: 'Active', assignedByGroup: expect.any(String) }),
      ]);
    }
    const managers = users.filter((u) => u.displayName.startsWith('Sales manager '));
    expect(managers.map((u) => u.licenseAssignmentStates)).toEqual([
      [expect.objectContaining({ skuId: EMS, state: 'Active', assignedByGroup: null })],
    ]);
  }, 150_000);

  it('is the script the README shows, and it carries no hand-written authentication', () => {
    const source = readFileSync(path.join(repoRoot, 'examples', 'license-a-group.mts'), 'utf8');
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const shown = /## License a group with the Graph SDK[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(shown).toBe(source.slice(source.indexOf('import ')));
    expect(source).not.toMatch(/authorization|bearer|middleware\s*:/i);
    expect(source).toMatch(/new TokenCredentialAuthenticationProvider\(\s*credential/);
    expect(source).toMatch(/new AzureIdentityAuthenticationProvider\(\s*credential/);
  });
});
