// The sign-in authority under /api/identity, served over https as `npm start -- --https` does: the OpenID discovery
// document, the JWKS, and client-credentials sign-in of app registrations made through the operator API. Tokens
// are checked here with jose against the JWKS fetched over HTTPS, not with the service's own verifier; Entra's
// refusals (AADSTS codes) are checked field by field.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  generateKeyPair,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ensureDevelopmentCertificate } from '../../src/host/certificates.js';
import { nodeFetch, waitFor } from '../support/index.js';
import { expectRawError, type HttpResult, type Service, startService, type Tenant } from './support.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

const discoveryDocument = z.looseObject({
  issuer: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
  token_endpoint_auth_methods_supported: z.array(z.string()),
  id_token_signing_alg_values_supported: z.array(z.string()),
  grant_types_supported: z.array(z.string()),
  authorization_endpoint: z.string(),
});

const jwksDocument = z.object({
  keys: z.array(z.looseObject({ kty: z.string(), kid: z.string(), use: z.string(), alg: z.string() })),
});

const tokenResponse = z.object({
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  ext_expires_in: z.number(),
  access_token: z.string(),
});

const oauthError = z.object({
  error: z.string(),
  error_description: z.string(),
  error_codes: z.array(z.number()),
  timestamp: z.string(),
  trace_id: z.string(),
  correlation_id: z.string(),
  error_uri: z.string(),
});

const passwordCredential = z.object({
  customKeyIdentifier: z.null(),
  displayName: z.string().nullable(),
  endDateTime: z.string(),
  hint: z.string(),
  keyId: z.string().regex(GUID),
  secretText: z.string().nullable(),
  startDateTime: z.string(),
});

const application = z.object({
  id: z.string().regex(GUID),
  appId: z.string().regex(GUID),
  displayName: z.string(),
  roles: z.array(z.string()),
  createdDateTime: z.string(),
  passwordCredentials: z.array(passwordCredential),
  signIn: z.object({
    tenantId: z.string(),
    authorityHost: z.string(),
    tokenEndpoint: z.string(),
    scope: z.string(),
  }),
});

const createdApplication = application.extend({ clientSecret: z.string() });

/** An app registration as created: its id, its first secret, and that secret's keyId. */
interface App {
  readonly tenantId: string;
  readonly appId: string;
  readonly secret: string;
  readonly keyId: string;
}

let certDir: string;
let service: Service;
let tenant: Tenant;
/** An app granted User.Read.All and Group.Read.All, for the tests that only need one that works. */
let reader: App;

beforeAll(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'identity-certs-'));
  const certificate = await ensureDevelopmentCertificate(certDir);
  service = await startService({}, { https: { cert: certificate.cert, key: certificate.key } });
  tenant = await service.newTenant();
  reader = await register(tenant.id, ['User.Read.All', 'Group.Read.All']);
});
afterAll(async () => {
  await service?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

async function register(
  tenantId: string,
  roles: readonly string[],
  displayName = 'Nightly sync',
): Promise<App> {
  const answer = await service.manage('POST', `/tenants/${tenantId}/applications`, { displayName, roles });
  expect(answer.status, answer.text).toBe(201);
  const created = createdApplication.parse(answer.json);
  const first = created.passwordCredentials[0];
  if (!first) throw new Error('a new application came without its secret');
  return { tenantId, appId: created.appId, secret: created.clientSecret, keyId: first.keyId };
}

async function readApplication(app: App): Promise<z.infer<typeof application>> {
  const answer = await service.manage('GET', `/tenants/${app.tenantId}/applications/${app.appId}`);
  expect(answer.status, answer.text).toBe(200);
  return application.parse(answer.json);
}

interface SignInOptions {
  /** The tenant in the URL (default the app's, or the test tenant's). */
  readonly tenant?: string;
  /** Sends the client's id and secret in `Authorization: Basic` (client_secret_basic) instead of the body. */
  readonly basic?: { readonly id: string; readonly secret: string };
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

/** POSTs a form to the token endpoint, as MSAL and @azure/identity do. */
function postToken(form: Record<string, string>, options: SignInOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
    ...options.headers,
  };
  if (options.basic) {
    // RFC 6749 §2.3.1: each part form-encoded, then joined with ':' and base64-encoded.
    const { id, secret } = options.basic;
    const pair = `${encodeURIComponent(id)}:${encodeURIComponent(secret)}`;
    headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  }
  return service.http('POST', `/api/identity/${options.tenant ?? tenant.id}/oauth2/v2.0/token`, {
    rawBody: new URLSearchParams(form).toString(),
    headers,
  });
}

/** The client-credentials form of an app (client_secret_post). */
function credentials(app: App, secret = app.secret): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_id: app.appId,
    client_secret: secret,
    scope: GRAPH_SCOPE,
  };
}

/** Signs the app in and returns its access token (the sign-in must succeed). */
async function signIn(app: App, secret = app.secret): Promise<string> {
  const answer = await postToken(credentials(app, secret), { tenant: app.tenantId });
  expect(answer.status, answer.text).toBe(200);
  return tokenResponse.parse(answer.json).access_token;
}

/** Checks Entra's OAuth error JSON: status, error, AADSTS code, and the ids it names. */
function expectOAuthError(answer: HttpResult, status: number, error: string, code: number) {
  expect({ status: answer.status, body: answer.json }, answer.text).toMatchObject({
    status,
    body: { error, error_codes: [code] },
  });
  expect(answer.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const body = oauthError.parse(answer.json);
  expect(body.error_description.startsWith(`AADSTS${code}: `), body.error_description).toBe(true);
  expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  expect(body.trace_id).toMatch(GUID);
  expect(body.correlation_id).toMatch(GUID);
  expect(body.error_description).toContain(`Trace ID: ${body.trace_id}`);
  expect(body.error_description).toContain(`Correlation ID: ${body.correlation_id}`);
  expect(body.error_uri).toBe(`https://login.microsoftonline.com/error?code=${code}`);
  expect(body.error_description).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules/);
  return body;
}

async function discover(tenantId: string): Promise<z.infer<typeof discoveryDocument>> {
  const answer = await service.http('GET', `/api/identity/${tenantId}/v2.0/.well-known/openid-configuration`);
  expect(answer.status, answer.text).toBe(200);
  return discoveryDocument.parse(answer.json);
}

/** Verifies a token as a resource server would: RS256 against the keys published at the tenant's jwks_uri. */
async function verifyWithJwks(token: string, tenantId: string) {
  const { jwks_uri } = await discover(tenantId);
  const ca = service.ca;
  const keys = createRemoteJWKSet(new URL(jwks_uri), {
    [customFetch]: (url, init) =>
      nodeFetch(url, { method: init.method, headers: Object.fromEntries(init.headers.entries()), ca }),
  });
  return jwtVerify(token, keys, {
    algorithms: ['RS256'],
    audience: 'https://graph.microsoft.com',
    issuer: `https://sts.windows.net/${tenantId}/`,
  });
}

function graphGet(token: string, path: string): Promise<HttpResult> {
  return service.graphRaw('GET', path, { token });
}

describe('discovery', () => {
  it('publishes the tenant’s OpenID configuration with absolute https URLs on this host', async () => {
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const authority = `${service.url}/api/identity/${tenant.id}`;
    const document = await discover(tenant.id);
    expect(document).toMatchObject({
      issuer: `${authority}/v2.0`,
      token_endpoint: `${authority}/oauth2/v2.0/token`,
      jwks_uri: `${authority}/discovery/v2.0/keys`,
      id_token_signing_alg_values_supported: ['RS256'],
      grant_types_supported: ['client_credentials'],
    });
    expect(document.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_post', 'client_secret_basic']),
    );
    // The tenant id is matched without regard to case, and the URLs name it in lower case.
    expect((await discover(tenant.id.toUpperCase())).issuer).toBe(`${authority}/v2.0`);
  });

  it('refuses an unknown tenant with AADSTS90002 (400), on discovery and on sign-in', async () => {
    for (const unknown of [randomUUID(), 'contoso.onmicrosoft.com']) {
      const answer = await service.http(
        'GET',
        `/api/identity/${unknown}/v2.0/.well-known/openid-configuration`,
      );
      expectOAuthError(answer, 400, 'invalid_request', 90002);
      expectOAuthError(
        await postToken(credentials(reader), { tenant: unknown }),
        400,
        'invalid_request',
        90002,
      );
      // The tenant is named first, before what is wrong with the request (an empty form here).
      expectOAuthError(await postToken({}, { tenant: unknown }), 400, 'invalid_request', 90002);
    }
  });

  it('publishes one RSA signing key, without its private parts', async () => {
    const { jwks_uri } = await discover(tenant.id);
    const answer = await service.http('GET', new URL(jwks_uri).pathname);
    expect(answer.status, answer.text).toBe(200);
    const { keys } = jwksDocument.parse(answer.json);
    expect(keys).toHaveLength(1);
    const [key] = keys;
    expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', n: expect.any(String), e: 'AQAB' });
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret);
  });
});

describe('client credentials', () => {
  it('gives a posted id and secret an RS256 Graph token that verifies against the JWKS', async () => {
    const before = Math.floor(Date.now() / 1000);
    const answer = await postToken(credentials(reader));
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('cache-control')).toContain('no-store');
    const body = tokenResponse.parse(answer.json);
    expect(body.expires_in).toBeGreaterThan(3500);

    const { payload, protectedHeader } = await verifyWithJwks(body.access_token, tenant.id);
    const keys = jwksDocument.parse(
      (await service.http('GET', `/api/identity/${tenant.id}/discovery/v2.0/keys`)).json,
    );
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: keys.keys[0]?.kid });
    expect(payload).toMatchObject({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${tenant.id}/`,
      tid: tenant.id,
      appid: reader.appId,
      idtyp: 'app',
    });
    expect([...z.array(z.string()).parse(payload.roles)].sort()).toEqual(['Group.Read.All', 'User.Read.All']);
    // About an hour ahead, as Entra's app tokens.
    const exp = z.number().parse(payload.exp);
    expect(exp - before).toBeGreaterThanOrEqual(3540);
    expect(exp - before).toBeLessThanOrEqual(3660);
    expect(exp - before).toBeLessThanOrEqual(body.expires_in + 60);
  });

  it('takes the id and secret in a Basic authorization header too (client_secret_basic)', async () => {
    const answer = await postToken(
      { grant_type: 'client_credentials', scope: GRAPH_SCOPE },
      { basic: { id: reader.appId, secret: reader.secret } },
    );
    expect(answer.status, answer.text).toBe(200);
    const { payload } = await verifyWithJwks(tokenResponse.parse(answer.json).access_token, tenant.id);
    expect(payload).toMatchObject({ tid: tenant.id, appid: reader.appId, idtyp: 'app' });
  });

  it('accepts Graph’s app id as the resource of the scope', async () => {
    const answer = await postToken({
      ...credentials(reader),
      scope: '00000003-0000-0000-c000-000000000000/.default',
    });
    expect(answer.status, answer.text).toBe(200);
  });

  it('gives a token the Graph API accepts, with the app’s permissions and no more', async () => {
    const token = await signIn(reader);
    expect((await graphGet(token, '/users')).status).toBe(200);
    expect((await graphGet(token, '/groups')).status).toBe(200);
    // Reading is all it was granted.
    const write = await service.graphRaw('POST', '/groups', {
      token,
      body: { displayName: 'X', mailEnabled: false, mailNickname: 'x', securityEnabled: true },
    });
    expectRawError(write, 403, 'Authorization_RequestDenied');

    const groupsOnly = await signIn(await register(tenant.id, ['Group.Read.All']));
    expect((await graphGet(groupsOnly, '/groups')).status).toBe(200);
    expectRawError(await graphGet(groupsOnly, '/users'), 403, 'Authorization_RequestDenied');
  });

  it('gives an app granted nothing a token without roles, which Graph refuses (403)', async () => {
    const token = await signIn(await register(tenant.id, []));
    const { payload } = await verifyWithJwks(token, tenant.id);
    expect(payload.roles).toBeUndefined();
    expectRawError(await graphGet(token, '/users'), 403, 'Authorization_RequestDenied');
  });

  it('refuses on Graph a token signed by another key under the authority’s kid (401)', async () => {
    const genuine = await signIn(reader);
    const { kid } = decodeProtectedHeader(genuine);
    const claims: JWTPayload = decodeJwt(genuine);
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ ...claims, roles: ['Directory.ReadWrite.All'] })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: kid ?? '' })
      .sign(privateKey);
    expectRawError(
      await graphGet(forged, '/users'),
      401,
      'InvalidAuthenticationToken',
      'Access token validation failure.',
    );
    // A resource server checking against the JWKS refuses it too.
    await expect(verifyWithJwks(forged, tenant.id)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
    // While the genuine one still works.
    expect((await graphGet(genuine, '/users')).status).toBe(200);
  });
});

describe('refusals, in Entra’s words', () => {
  it('refuses a wrong secret with AADSTS7000215 (401 invalid_client)', async () => {
    const answer = await postToken(credentials(reader, `${reader.secret.slice(0, -1)}x`));
    expectOAuthError(answer, 401, 'invalid_client', 7000215);
    // The secret's keyId (what the portal shows beside the value) is not the secret.
    expectOAuthError(await postToken(credentials(reader, reader.keyId)), 401, 'invalid_client', 7000215);
  });

  it('refuses an app the tenant does not have with AADSTS700016 (400 unauthorized_client)', async () => {
    for (const clientId of [randomUUID(), 'not-a-guid']) {
      const answer = await postToken({ ...credentials(reader), client_id: clientId });
      expectOAuthError(answer, 400, 'unauthorized_client', 700016);
    }
    // An app of another tenant is unknown in this one.
    const elsewhere = await service.newTenant();
    const answer = await postToken(credentials(reader), { tenant: elsewhere.id });
    expectOAuthError(answer, 400, 'unauthorized_client', 700016);
  });

  it('refuses a sign-in without a secret with AADSTS7000218 (401 invalid_client)', async () => {
    const { client_secret: _omitted, ...withoutSecret } = credentials(reader);
    expectOAuthError(await postToken(withoutSecret), 401, 'invalid_client', 7000218);
    expectOAuthError(await postToken(credentials(reader, '')), 401, 'invalid_client', 7000218);
  });

  it('refuses a scope without /.default with AADSTS1002012 (400 invalid_scope)', async () => {
    for (const scope of ['User.Read.All', 'https://graph.microsoft.com/User.Read.All']) {
      expectOAuthError(await postToken({ ...credentials(reader), scope }), 400, 'invalid_scope', 1002012);
    }
  });

  it('refuses any resource but Graph with AADSTS500011 (400 invalid_resource)', async () => {
    for (const scope of ['https://management.azure.com/.default', 'api://my-api/.default']) {
      expectOAuthError(await postToken({ ...credentials(reader), scope }), 400, 'invalid_resource', 500011);
    }
  });

  it('refuses other grant types with AADSTS70003 (400 unsupported_grant_type)', async () => {
    for (const grant of ['password', 'authorization_code', 'refresh_token']) {
      const answer = await postToken({ ...credentials(reader), grant_type: grant });
      expectOAuthError(answer, 400, 'unsupported_grant_type', 70003);
    }
  });

  it('names a missing parameter with AADSTS900144 (400 invalid_request)', async () => {
    for (const missing of ['grant_type', 'client_id', 'scope']) {
      const form = Object.fromEntries(
        Object.entries(credentials(reader)).filter(([name]) => name !== missing),
      );
      const body = expectOAuthError(await postToken(form), 400, 'invalid_request', 900144);
      expect(body.error_description).toContain(`'${missing}'`);
    }
    // A JSON body is not a form: nothing in it counts.
    const json = await postToken(credentials(reader), { contentType: 'application/json' });
    expectOAuthError(json, 400, 'invalid_request', 900144);
  });

  it('takes a Basic header that is not form-encoded as sent: refused as any wrong id or secret, not a 500', async () => {
    const grant = { grant_type: 'client_credentials', scope: GRAPH_SCOPE };
    // Built by hand: percent signs that start no escape.
    const basic = (pair: string) => ({
      headers: { authorization: `Basic ${Buffer.from(pair, 'utf8').toString('base64')}` },
    });
    const unknownApp = await postToken(grant, basic(`%zz:${reader.secret}`));
    expectOAuthError(unknownApp, 400, 'unauthorized_client', 700016);
    const wrongSecret = await postToken(grant, basic(`${reader.appId}:%E0%A4%A`));
    expectOAuthError(wrongSecret, 401, 'invalid_client', 7000215);
  });

  it('echoes the client-request-id as the correlation id', async () => {
    const correlation = randomUUID();
    const answer = await postToken(credentials(reader, 'wrong'), {
      headers: { 'client-request-id': correlation },
    });
    expect(expectOAuthError(answer, 401, 'invalid_client', 7000215).correlation_id).toBe(correlation);
  });

  it('refuses an expired secret with AADSTS7000222 (401 invalid_client)', async () => {
    // The operator API does not create a secret already expired; one that expires in three seconds does.
    const app = await register(tenant.id, ['User.Read.All']);
    const endDateTime = new Date(Date.now() + 3000).toISOString();
    const added = await service.manage(
      'POST',
      `/tenants/${tenant.id}/applications/${app.appId}/addPassword`,
      {
        passwordCredential: { displayName: 'short-lived', endDateTime },
      },
    );
    expect(added.status, added.text).toBe(200);
    const secret = passwordCredential.parse(added.json);
    expect(secret.endDateTime).toBe(endDateTime);
    await signIn(app, secret.secretText ?? '');
    await waitFor(() => Date.now() > Date.parse(endDateTime) + 50, {
      timeoutMs: 5000,
      message: 'secret expired',
    });
    expectOAuthError(
      await postToken(credentials(app, secret.secretText ?? '')),
      401,
      'invalid_client',
      7000222,
    );
    // The app's other secret is still good.
    await signIn(app);
  });
});

describe('app registrations through the operator API', () => {
  it('creates an app (201) with its secret shown once, and where to sign in with it', async () => {
    const answer = await service.manage('POST', `/tenants/${tenant.id}/applications`, {
      displayName: 'License report',
      roles: ['Directory.Read.All', 'Directory.Read.All'],
    });
    expect(answer.status, answer.text).toBe(201);
    const created = createdApplication.parse(answer.json);
    expect(created).toMatchObject({
      displayName: 'License report',
      roles: ['Directory.Read.All'],
      signIn: {
        tenantId: tenant.id,
        authorityHost: `${service.url}/api/identity`,
        tokenEndpoint: `${service.url}/api/identity/${tenant.id}/oauth2/v2.0/token`,
        scope: GRAPH_SCOPE,
      },
    });
    // Entra's shape: three characters (the hint), "8Q~", then 34 more.
    expect(created.clientSecret).toMatch(/^[A-Za-z0-9_.~-]{3}8Q~[A-Za-z0-9_.~-]{34}$/);
    expect(created.passwordCredentials).toEqual([
      expect.objectContaining({ secretText: created.clientSecret, hint: created.clientSecret.slice(0, 3) }),
    ]);
  });

  it('never shows a secret’s text again, in the list or the app', async () => {
    const app = await register(tenant.id, ['User.Read.All'], 'Listed');
    const list = await service.manage('GET', `/tenants/${tenant.id}/applications`);
    expect(list.status, list.text).toBe(200);
    const apps = z.object({ value: z.array(application) }).parse(list.json).value;
    expect(apps.map((a) => a.appId)).toEqual(expect.arrayContaining([app.appId, reader.appId]));
    for (const listed of apps) for (const p of listed.passwordCredentials) expect(p.secretText).toBeNull();
    expect(list.text).not.toContain(app.secret);
    expect(list.text).not.toContain(reader.secret);

    const read = await service.manage('GET', `/tenants/${tenant.id}/applications/${app.appId}`);
    expect(read.text).not.toContain(app.secret);
    expect(application.parse(read.json).passwordCredentials).toEqual([
      expect.objectContaining({ keyId: app.keyId, secretText: null, hint: app.secret.slice(0, 3) }),
    ]);
  });

  it('rotates secrets: addPassword’s secret works, and removePassword stops the old one at once', async () => {
    const app = await register(tenant.id, ['User.Read.All'], 'Rotated');
    const added = await service.manage(
      'POST',
      `/tenants/${tenant.id}/applications/${app.appId}/addPassword`,
      {
        passwordCredential: { displayName: 'rotation 2' },
      },
    );
    expect(added.status, added.text).toBe(200);
    const next = passwordCredential.parse(added.json);
    expect(next).toMatchObject({ displayName: 'rotation 2', secretText: expect.any(String) });
    const nextSecret = next.secretText ?? '';
    // Both work while the client switches.
    await signIn(app);
    await signIn(app, nextSecret);

    const removed = await service.manage(
      'POST',
      `/tenants/${tenant.id}/applications/${app.appId}/removePassword`,
      {
        keyId: app.keyId,
      },
    );
    expect(removed.status, removed.text).toBe(204);
    expectOAuthError(await postToken(credentials(app)), 401, 'invalid_client', 7000215);
    const { payload } = await verifyWithJwks(await signIn(app, nextSecret), tenant.id);
    expect(payload.appid).toBe(app.appId);
    expect((await readApplication(app)).passwordCredentials.map((p) => p.keyId)).toEqual([next.keyId]);

    // addPassword without a body: a secret valid for two years.
    const plain = await service.manage('POST', `/tenants/${tenant.id}/applications/${app.appId}/addPassword`);
    expect(plain.status, plain.text).toBe(200);
    const years =
      (Date.parse(passwordCredential.parse(plain.json).endDateTime) - Date.now()) / (365 * 86_400_000);
    expect(years).toBeGreaterThan(1.9);
    expect(years).toBeLessThan(2.1);

    // Removing a secret the app does not have is a 404.
    const again = await service.manage(
      'POST',
      `/tenants/${tenant.id}/applications/${app.appId}/removePassword`,
      {
        keyId: app.keyId,
      },
    );
    expectRawError(again, 404, 'Request_ResourceNotFound');
  });

  it('refuses a secret that would be born expired (400)', async () => {
    for (const endDateTime of [new Date(Date.now() - 60_000).toISOString(), '2020-01-01T00:00:00Z']) {
      const answer = await service.manage(
        'POST',
        `/tenants/${tenant.id}/applications/${reader.appId}/addPassword`,
        {
          passwordCredential: { endDateTime },
        },
      );
      expectRawError(answer, 400, 'Request_BadRequest');
    }
    expect((await readApplication(reader)).passwordCredentials).toHaveLength(1);
  });

  it('changes the roles of the next token when the app’s roles change; tokens already issued keep theirs', async () => {
    const app = await register(tenant.id, ['User.Read.All'], 'Changing');
    const before = await signIn(app);
    const patched = await service.manage('PATCH', `/tenants/${tenant.id}/applications/${app.appId}`, {
      roles: ['Group.Read.All'],
      displayName: 'Changed',
    });
    expect(patched.status, patched.text).toBe(200);
    expect(application.parse(patched.json)).toMatchObject({
      roles: ['Group.Read.All'],
      displayName: 'Changed',
    });

    const after = await signIn(app);
    const { payload } = await verifyWithJwks(after, tenant.id);
    expect(payload.roles).toEqual(['Group.Read.All']);
    expectRawError(await graphGet(after, '/users'), 403, 'Authorization_RequestDenied');
    expect((await graphGet(after, '/groups')).status).toBe(200);
    expect(decodeJwt(before).roles).toEqual(['User.Read.All']);
    expect((await graphGet(before, '/users')).status).toBe(200);
  });

  it('deletes an app (204): it can no longer sign in (AADSTS700016) and is gone (404)', async () => {
    const app = await register(tenant.id, ['User.Read.All'], 'Deleted');
    await signIn(app);
    const deleted = await service.manage('DELETE', `/tenants/${tenant.id}/applications/${app.appId}`);
    expect(deleted.status, deleted.text).toBe(204);
    expectOAuthError(await postToken(credentials(app)), 400, 'unauthorized_client', 700016);
    for (const method of ['GET', 'DELETE']) {
      const gone = await service.manage(method, `/tenants/${tenant.id}/applications/${app.appId}`);
      expectRawError(gone, 404, 'Request_ResourceNotFound');
    }
  });

  it('refuses unknown roles and bad bodies (400), a missing key (401), unknown tenants and apps (404)', async () => {
    const base = `/tenants/${tenant.id}/applications`;
    const bad: unknown[] = [
      { displayName: 'X', roles: ['Mail.Send'] },
      { displayName: 'X', roles: ['user.read.all'] },
      { displayName: '', roles: [] },
      { displayName: 'X' },
      { displayName: 'X', roles: [], requiredResourceAccess: [] },
    ];
    for (const body of bad)
      expectRawError(await service.manage('POST', base, body), 400, 'Request_BadRequest');
    const patch = await service.manage('PATCH', `${base}/${reader.appId}`, { roles: ['Sites.Read.All'] });
    expectRawError(patch, 400, 'Request_BadRequest');

    const unauthenticated = await service.http('POST', `/api/manage${base}`, {
      body: { displayName: 'X', roles: [] },
    });
    expectRawError(unauthenticated, 401, 'InvalidAuthenticationToken');
    const wrongKey = await service.http('GET', `/api/manage${base}`, {
      headers: { 'x-functions-key': 'nope' },
    });
    expectRawError(wrongKey, 401, 'InvalidAuthenticationToken');

    const elsewhere = `/tenants/${randomUUID()}/applications`;
    expectRawError(await service.manage('GET', elsewhere), 404, 'Request_ResourceNotFound');
    expectRawError(
      await service.manage('POST', elsewhere, { displayName: 'X', roles: [] }),
      404,
      'Request_ResourceNotFound',
    );
    for (const appId of [randomUUID(), 'not-a-guid']) {
      expectRawError(await service.manage('GET', `${base}/${appId}`), 404, 'Request_ResourceNotFound');
    }
    // Nothing was created by the refused requests.
    const list = z.object({ value: z.array(application) }).parse((await service.manage('GET', base)).json);
    expect(list.value.map((a) => a.displayName)).not.toContain('X');
  });
});
