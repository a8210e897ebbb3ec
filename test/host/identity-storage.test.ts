// Identity-based storage connections, end to end: Azurite in its OAuth mode (`--oauth basic` over https: every
// request needs a shared key or a bearer token whose audience, issuer and expiry it checks), the product's host as a
// child process configured as on Azure with a managed identity — AzureWebJobsStorage__tableServiceUri /
// __queueServiceUri, __credential=managedidentity, __clientId — and no connection string. The managed identity
// endpoint is App Service's (IDENTITY_ENDPOINT + IDENTITY_HEADER, what the Functions platform sets), played here by a
// small token service: @azure/identity's ManagedIdentityCredential asks it for storage tokens, as it would on Azure.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { groupSchema, userSchema } from '../../src/contract/graph.js';
import { type RunningAzurite, startAzurite } from '../../src/host/azurite.js';
import { ensureDevelopmentCertificate } from '../../src/host/certificates.js';
import { repoRoot, startHostProcess, uniqueName, waitFor } from '../support/index.js';

const ADMIN_KEY = 'identity-storage-admin-key';
const CLIENT_ID = randomUUID();
const IDENTITY_HEADER = randomUUID();
const TENANT = randomUUID();

let certDir: string;
let azurite: RunningAzurite;
let tokenService: Server;
let identityEndpoint: string;
/** Requests the token service answered: what the credential asked for. */
const tokenRequests: { resource: string | null; clientId: string | null; header: string | undefined }[] = [];
let audience = 'https://storage.azure.com';

beforeAll(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'identity-storage-'));
  const certificate = await ensureDevelopmentCertificate(certDir);
  azurite = await startAzurite({
    inMemory: true,
    https: { certPath: certificate.certPath, keyPath: certificate.keyPath },
    oauth: 'basic',
  });
  const { privateKey } = await generateKeyPair('RS256');
  tokenService = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const header = req.headers['x-identity-header'];
      tokenRequests.push({
        resource: url.searchParams.get('resource'),
        clientId: url.searchParams.get('client_id'),
        header: typeof header === 'string' ? header : undefined,
      });
      const now = Math.floor(Date.now() / 1000);
      const accessToken = await new SignJWT({ tid: TENANT, oid: randomUUID(), appid: CLIENT_ID })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .setAudience(audience)
        .setIssuer(`https://sts.windows.net/${TENANT}/`)
        .setIssuedAt(now - 60)
        .setNotBefore(now - 60)
        .setExpirationTime(now + 3600)
        .sign(privateKey);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: accessToken,
          expires_on: String(now + 3600),
          resource: url.searchParams.get('resource'),
          token_type: 'Bearer',
          client_id: CLIENT_ID,
        }),
      );
    })();
  });
  await new Promise<void>((resolve) => tokenService.listen(0, '127.0.0.1', resolve));
  identityEndpoint = `http://127.0.0.1:${(tokenService.address() as AddressInfo).port}/msi/token`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (tokenService ? tokenService.close(() => resolve()) : resolve()));
  await azurite?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

function hostEnv(prefix: string): Record<string, string> {
  const base = `https://127.0.0.1`;
  return {
    AzureWebJobsStorage__tableServiceUri: `${base}:${azurite.ports.table}/devstoreaccount1`,
    AzureWebJobsStorage__queueServiceUri: `${base}:${azurite.ports.queue}/devstoreaccount1`,
    AzureWebJobsStorage__credential: 'managedidentity',
    AzureWebJobsStorage__clientId: CLIENT_ID,
    IDENTITY_ENDPOINT: identityEndpoint,
    IDENTITY_HEADER,
    NODE_EXTRA_CA_CERTS: path.join(certDir, 'cert.pem'),
    ADMIN_API_KEY: ADMIN_KEY,
    GRAPH_TOKEN_SIGNING_KEY: 'identity-storage-signing-key-0123456789abcdef',
    STORAGE_PREFIX: prefix,
    AzureFunctionsWebHost__hostid: prefix,
    FUNCTIONS_LOG_INVOCATIONS: 'false',
  };
}

const health = z.object({ status: z.string(), table: z.object({ ok: z.boolean() }) });

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('an identity-based AzureWebJobsStorage (managed identity, no connection string)', () => {
  it('serves, licenses a group through queues and tables, with tokens from the managed identity', async () => {
    const host = await startHostProcess({
      appDir: repoRoot,
      storageConnectionString: '',
      env: hostEnv(uniqueName('mi')),
      readyTimeoutMs: 60_000,
    });
    expect(host.output()).toMatch(
      /identity-based connection \(https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1 and .* with the managed identity with client id/,
    );
    const probe = await json(`${host.url}/api/health`);
    expect(probe.status, JSON.stringify(probe.body)).toBe(200);
    expect(health.parse(probe.body).status).toBe('healthy');

    const operator = { 'x-functions-key': ADMIN_KEY, 'content-type': 'application/json' };
    const tenant = z.object({ id: z.string() }).parse(
      (
        await json(`${host.url}/api/manage/tenants`, {
          method: 'POST',
          headers: operator,
          body: JSON.stringify({ displayName: 'Fabrikam', countryLetterCode: 'US' }),
        })
      ).body,
    );
    const bought = await json(`${host.url}/api/manage/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      method: 'PUT',
      headers: operator,
      body: JSON.stringify({ prepaidUnits: { enabled: 5 } }),
    });
    expect(bought.status).toBe(200);
    const { access_token: token } = z.object({ access_token: z.string() }).parse(
      (
        await json(`${host.url}/api/manage/tenants/${tenant.id}/tokens`, {
          method: 'POST',
          headers: operator,
        })
      ).body,
    );
    const graph = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await json(`${host.url}/api/v1.0/users`, {
      method: 'POST',
      headers: graph,
      body: JSON.stringify({
        accountEnabled: true,
        displayName: 'Ada',
        mailNickname: 'ada',
        userPrincipalName: 'ada@fabrikam.example',
        usageLocation: 'US',
        passwordProfile: { password: 'Initial-Passw0rd!' },
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const user = userSchema.pick({ id: true }).parse(created.body);
    const group = groupSchema.pick({ id: true }).parse(
      (
        await json(`${host.url}/api/v1.0/groups`, {
          method: 'POST',
          headers: graph,
          body: JSON.stringify({
            displayName: 'Engineering',
            mailEnabled: false,
            mailNickname: 'eng',
            securityEnabled: true,
          }),
        })
      ).body,
    );
    const added = await json(`${host.url}/api/v1.0/groups/${group.id}/members/$ref`, {
      method: 'POST',
      headers: graph,
      body: JSON.stringify({ '@odata.id': `${host.url}/api/v1.0/directoryObjects/${user.id}` }),
    });
    expect(added.status).toBe(204);
    const assigned = await json(`${host.url}/api/v1.0/groups/${group.id}/assignLicense`, {
      method: 'POST',
      headers: graph,
      body: JSON.stringify({
        addLicenses: [{ skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900', disabledPlans: [] }],
        removeLicenses: [],
      }),
    });
    expect(assigned.status).toBe(202);
    const states = userSchema.pick({ licenseAssignmentStates: true });
    await waitFor(
      async () => {
        const read = await json(`${host.url}/api/v1.0/users/${user.id}?$select=licenseAssignmentStates`, {
          headers: graph,
        });
        const parsed = states.parse(read.body);
        return parsed.licenseAssignmentStates.some(
          (s) => s.state === 'Active' && s.assignedByGroup === group.id,
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 300,
        message: 'the member licensed through the group job (queues over the identity)',
      },
    );

    expect(tokenRequests.length).toBeGreaterThan(0);
    for (const request of tokenRequests) {
      expect(request).toEqual({
        resource: expect.stringMatching(/^https:\/\/storage\.azure\.com\/?$/),
        clientId: CLIENT_ID,
        header: IDENTITY_HEADER,
      });
    }
  }, 180_000);

  it('does not start when the identity’s token is not for storage (so tokens, not a key, are in use)', async () => {
    audience = 'https://graph.microsoft.com';
    try {
      await expect(
        startHostProcess({
          appDir: repoRoot,
          storageConnectionString: '',
          env: hostEnv(uniqueName('mx')),
          readyTimeoutMs: 60_000,
        }),
      ).rejects.toThrow(/Startup failed: Could not create queue .*Server failed to authenticate the request/);
    } finally {
      audience = 'https://storage.azure.com';
    }
  }, 120_000);
});
