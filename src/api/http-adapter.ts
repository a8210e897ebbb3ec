import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { type AppContext, appContext } from '../application/context.js';
import { signingKey } from '../application/signing-keys.js';
import { tenantExists } from '../application/tenants.js';
import { settings } from '../config/settings.js';
import {
  type ApiResponse,
  badRequest,
  GraphError,
  type RequestIds,
  requestIds,
  toErrorResponse,
} from './envelope.js';
import { publicUrl, refuseUnsupportedOptions, serviceRootOf } from './odata.js';
import { type ApiRequest, type GraphContext, type GraphRoute, handlerFor, type Method } from './routing.js';
import { authenticate, type Caller } from './tokens.js';

/** Graph refuses request bodies above a few MB; the import has its own, larger limit. */
export const JSON_BODY_LIMIT = 4 * 1024 * 1024;

const METHODS: readonly Method[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];

export function asMethod(method: string): Method {
  const upper = method.toUpperCase();
  const found = METHODS.find((m) => m === upper);
  if (!found) throw new GraphError(405, 'MethodNotAllowed', `The ${method} method is not supported.`);
  return found;
}

const INVALID_JSON =
  'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.';

/**
 * Reads a request body with a size cap, the one way every endpoint reads one: refused before reading when the
 * declared length is over, and after when the body is (413 in Graph's envelope unless `tooLarge` says otherwise).
 */
export async function readBody(
  request: HttpRequest,
  limit: number,
  tooLarge: (limit: number) => Error = bodyTooLarge,
): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw tooLarge(limit);
  const body = Buffer.from(await request.arrayBuffer());
  if (body.length > limit) throw tooLarge(limit);
  return body;
}

function bodyTooLarge(limit: number) {
  return new GraphError(
    413,
    'RequestEntityTooLarge',
    `The request body is larger than the limit of ${limit} bytes.`,
  );
}

/** Parses a JSON body; 415 for another content type, 400 for broken JSON. */
export function parseJsonBody(body: Buffer, contentType: string | null): unknown {
  if (body.length === 0) throw badRequest(INVALID_JSON);
  if (!/^application\/json\b/i.test(contentType ?? '')) {
    throw new GraphError(
      415,
      'UnsupportedMediaType',
      `Content-Type '${contentType ?? ''}' is not supported; send the body as application/json.`,
    );
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest(INVALID_JSON);
  }
}

export function toApiRequest(
  request: HttpRequest,
  params: Record<string, string>,
  limit = JSON_BODY_LIMIT,
): ApiRequest {
  const url = publicUrl(request.url, request.headers);
  let body: Promise<Buffer> | undefined;
  const read = () => {
    body ??= readBody(request, limit);
    return body;
  };
  return {
    method: asMethod(request.method),
    url,
    params,
    query: url.searchParams,
    // The library's own Headers (a fetch Headers over the request): read-only here, so not copied per request.
    headers: request.headers,
    json: async () => parseJsonBody(await read(), request.headers.get('content-type')),
    text: async () => (await read()).toString('utf8'),
  };
}

/** Renders an API response for the Functions runtime, with Graph's request-id headers. */
export function toHttpResponse(response: ApiResponse, ids: RequestIds): HttpResponseInit {
  const headers: Record<string, string> = {
    'request-id': ids.requestId,
    'client-request-id': ids.clientRequestId,
    ...response.headers,
  };
  if (response.text !== undefined) {
    return {
      status: response.status,
      body: response.text,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
    };
  }
  if (response.body === undefined) return { status: response.status, headers };
  return {
    status: response.status,
    jsonBody: response.body,
    headers: { 'content-type': 'application/json; odata.metadata=minimal; charset=utf-8', ...headers },
  };
}

/** Tenants known to exist, per app context (tenants are never deleted, so a hit stays true). */
const knownTenants = new WeakMap<AppContext, Set<string>>();

/**
 * A correctly signed token whose tenant this service does not know is refused like a token of another directory:
 * 401, before any handler runs (otherwise reads would answer empty collections and writes 404 for it).
 */
async function requireKnownTenant(app: AppContext, caller: Caller): Promise<void> {
  let known = knownTenants.get(app);
  if (!known) {
    known = new Set();
    knownTenants.set(app, known);
  }
  if (known.has(caller.tenantId)) return;
  if (!(await tenantExists(app, caller.tenantId))) {
    throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
  }
  known.add(caller.tenantId);
}

/**
 * Wraps a Graph route as an HTTP-triggered function: authenticate the bearer token (the tenant comes from it),
 * dispatch by method, and render results and failures the Graph way. Nothing a client sends reaches storage
 * before it has been validated, and no internal detail reaches the response.
 */
export function graphFunction(route: GraphRoute) {
  return async (request: HttpRequest, invocation: InvocationContext): Promise<HttpResponseInit> => {
    const ids = requestIds(request.headers.get('client-request-id'));
    try {
      const app = await appContext();
      const caller = await authenticate(settings().tokenSigningKey, request.headers.get('authorization'), {
        authorityKey: () => signingKey(app),
        now: app.now,
      });
      const api = toApiRequest(request, request.params);
      refuseUnsupportedOptions(api.query);
      await requireKnownTenant(app, caller);
      const context: GraphContext = {
        app,
        caller,
        ids,
        serviceRoot: serviceRootOf(api.url),
      };
      const response = await handlerFor(route, request.method)(api, context);
      return toHttpResponse(response, ids);
    } catch (error: unknown) {
      return toHttpResponse(
        toErrorResponse(error, ids, (message) => invocation.error(message)),
        ids,
      );
    }
  };
}
