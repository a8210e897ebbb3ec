// The sign-in authority under /api/identity, shaped like Entra ID's v2.0 endpoints so @azure/identity and MSAL use it
// unchanged (authorityHost: https://127.0.0.1:7071/api/identity): the OpenID discovery document, the JWKS, and the
// client-credentials token endpoint, with Entra's OAuth error JSON and AADSTS codes (docs/api.md, "Sign-in").
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { SignInRefusedError, signInWithSecret } from '../application/applications.js';
import { appContext } from '../application/context.js';
import { signingKey } from '../application/signing-keys.js';
import { tenantExists } from '../application/tenants.js';
import { isGuid } from '../engine/ids.js';
import { readBody } from './http-adapter.js';
import { publicUrl } from './odata.js';
import { APPLICATION_TOKEN_SECONDS, mintApplicationToken } from './tokens.js';

/** Graph's resource, by its URI and by its app id (Entra accepts both in a scope). */
const GRAPH_RESOURCES = ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'];
const FORM_BODY_LIMIT = 64 * 1024;

/** A refusal in Entra's words: the OAuth error, its AADSTS code and message. */
class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
}

const missingParameter = (name: string) =>
  new OAuthError(
    400,
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );

function unknownTenant(tenant: string): OAuthError {
  return new OAuthError(
    400,
    'invalid_request',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct ` +
      'cloud. Tenants are created through the operator API (POST /api/manage/tenants).',
  );
}

function refusal(error: SignInRefusedError): OAuthError {
  switch (error.failure) {
    case 'unknownTenant':
      return unknownTenant(error.tenantId);
    case 'unknownApplication':
      return new OAuthError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${error.appId}' was not found in the directory '${error.tenantId}'. This can ` +
          'happen if the application has not been installed by the administrator of the tenant. You may have sent ' +
          'your authentication request to the wrong tenant.',
      );
    case 'missingSecret':
      return new OAuthError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    case 'invalidSecret':
      return new OAuthError(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ' +
          `not the client secret ID, for a secret added to app '${error.appId}'.`,
      );
    case 'expiredSecret':
      return new OAuthError(
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${error.appId}' are expired. Create new keys for your app ` +
          '(POST /api/manage/tenants/{tid}/applications/{appId}/addPassword), or consider using certificate credentials.',
      );
  }
}

/** Entra's error JSON: what MSAL and @azure/identity parse and show. */
function oauthErrorResponse(error: OAuthError, correlationId: string): HttpResponseInit {
  const now = new Date();
  const traceId = randomUUID();
  const timestamp = `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
  return {
    status: error.status,
    headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    jsonBody: {
      error: error.error,
      error_description:
        `AADSTS${error.code}: ${error.message} Trace ID: ${traceId} Correlation ID: ${correlationId} ` +
        `Timestamp: ${timestamp}`,
      error_codes: [error.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${error.code}`,
    },
  };
}

/** The authority's base (`https://host/api/identity`) as the client named it, for the URLs of the documents. */
function authorityOf(request: HttpRequest): string {
  const url = publicUrl(request.url, request.headers);
  const index = url.pathname.toLowerCase().indexOf('/identity/');
  return `${url.origin}${url.pathname.slice(0, index + '/identity'.length)}`;
}

function tenantParam(request: HttpRequest): string {
  const tenant = request.params.tenant ?? '';
  if (!isGuid(tenant)) throw unknownTenant(tenant);
  return tenant.toLowerCase();
}

function identityFunction(handler: (request: HttpRequest) => Promise<HttpResponseInit>) {
  return async (request: HttpRequest, invocation: InvocationContext): Promise<HttpResponseInit> => {
    const correlationId = request.headers.get('client-request-id') ?? randomUUID();
    try {
      return await handler(request);
    } catch (error: unknown) {
      if (error instanceof OAuthError) return oauthErrorResponse(error, correlationId);
      if (error instanceof SignInRefusedError) return oauthErrorResponse(refusal(error), correlationId);
      invocation.error(
        `Sign-in failed unexpectedly: ${error instanceof Error ? error.stack : String(error)}`,
      );
      return oauthErrorResponse(
        new OAuthError(
          500,
          'temporarily_unavailable',
          90033,
          'A transient error has occurred. Please try again.',
        ),
        correlationId,
      );
    }
  };
}

/** `GET /api/identity/{tenant}/v2.0/.well-known/openid-configuration` (MSAL reads it before the first token). */
export const openIdConfiguration = identityFunction(async (request) => {
  const tenant = tenantParam(request);
  const ctx = await appContext();
  if (!(await tenantExists(ctx, tenant))) throw unknownTenant(tenant);
  const authority = authorityOf(request);
  const base = `${authority}/${tenant}`;
  return {
    status: 200,
    jsonBody: {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      jwks_uri: `${authority}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      // MSAL requires these three to be present; only the client-credentials grant is served (docs/api.md).
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      grant_types_supported: ['client_credentials'],
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    },
  };
});

/** `GET /api/identity/{tenant}/discovery/v2.0/keys`: the public key that verifies every token this authority signs. */
export const signingKeys = identityFunction(async () => {
  const key = await signingKey(await appContext());
  return { status: 200, jsonBody: { keys: [key.publicJwk] } };
});

/** A part of a Basic header, form-encoded by the client; one that is not (`%zz`) is taken as sent, not a 500. */
function formDecoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The form fields, from the body (client_secret_post) or the Basic header for the client (client_secret_basic). */
async function readForm(request: HttpRequest): Promise<URLSearchParams> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) throw missingParameter('grant_type');
  const body = await readBody(
    request,
    FORM_BODY_LIMIT,
    () => new OAuthError(400, 'invalid_request', 90056, 'The request body is too large.'),
  );
  const form = new URLSearchParams(body.toString('utf8'));
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (basic && !form.has('client_id')) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      form.set('client_id', formDecoded(decoded.slice(0, colon)));
      form.set('client_secret', formDecoded(decoded.slice(colon + 1)));
    }
  }
  return form;
}

/** The one resource a client-credentials request may name, as `<resource>/.default`. */
function checkScope(scope: string, tenant: string): void {
  const scopes = scope.split(' ').filter((s) => s !== '');
  for (const item of scopes) {
    if (!item.toLowerCase().endsWith('/.default')) {
      throw new OAuthError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${item} is not valid. Client credential flows must have a scope value with ` +
          '/.default suffixed to the resource identifier (application ID URI).',
      );
    }
    const resource = item.slice(0, -'/.default'.length).replace(/\/+$/, '').toLowerCase();
    if (!GRAPH_RESOURCES.includes(resource)) {
      throw new OAuthError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${item.slice(0, -'/.default'.length)} was not found in the tenant named ` +
          `${tenant}. This authority issues tokens for Microsoft Graph only (https://graph.microsoft.com/.default).`,
      );
    }
  }
  if (scopes.length === 0) throw missingParameter('scope');
}

/** `POST /api/identity/{tenant}/oauth2/v2.0/token`: client credentials (an app's id and secret) → a Graph token. */
export const token = identityFunction(async (request) => {
  const tenant = tenantParam(request);
  // Entra names an unknown tenant before anything wrong with the request.
  const ctx = await appContext();
  if (!(await tenantExists(ctx, tenant))) throw unknownTenant(tenant);
  const form = await readForm(request);
  const grantType = form.get('grant_type');
  if (!grantType) throw missingParameter('grant_type');
  if (grantType !== 'client_credentials') {
    throw new OAuthError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grantType}'. This authority serves client_credentials only.`,
    );
  }
  const clientId = form.get('client_id');
  if (!clientId) throw missingParameter('client_id');
  const scope = form.get('scope');
  if (!scope) throw missingParameter('scope');
  checkScope(scope, tenant);
  if (!isGuid(clientId)) throw new SignInRefusedError('unknownApplication', tenant, clientId);
  const app = await signInWithSecret(ctx, tenant, clientId.toLowerCase(), form.get('client_secret') ?? '');
  const accessToken = await mintApplicationToken(await signingKey(ctx), app, ctx.now());
  return {
    status: 200,
    headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    jsonBody: {
      token_type: 'Bearer',
      expires_in: APPLICATION_TOKEN_SECONDS,
      ext_expires_in: APPLICATION_TOKEN_SECONDS,
      access_token: accessToken,
    },
  };
});
