import type { AppContext } from '../application/context.js';
import { type ApiResponse, GraphError, type RequestIds } from './envelope.js';
import { type Caller, type Permission, requireAny } from './tokens.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A request as the API handlers see it, whether it came over HTTP or inside a `$batch`. */
export interface ApiRequest {
  readonly method: Method;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: Headers;
  /** The JSON body: content type and size checked, parse errors reported the Graph way. */
  json(): Promise<unknown>;
  /** The body as text, for non-JSON payloads (NDJSON imports). */
  text(): Promise<string>;
}

export interface GraphContext {
  readonly app: AppContext;
  readonly caller: Caller;
  readonly ids: RequestIds;
  /** The service root, e.g. `http://127.0.0.1:7071/api/v1.0`. */
  readonly serviceRoot: string;
}

export type GraphHandler = (request: ApiRequest, context: GraphContext) => Promise<ApiResponse>;

/** One route of the Graph surface: a template relative to `/v1.0` and a handler per method. */
/**
 * One method of a route: the application permissions that allow it (any one of them; checked in one place, before
 * the handler runs, as Graph answers 403 before looking at the request), and the handler.
 */
export interface GraphOperation {
  /** `anyCaller`: every signed-in caller (`$batch`, whose sub-requests are each checked as a direct call). */
  readonly permissions: readonly Permission[] | 'anyCaller';
  readonly handle: GraphHandler;
}

export interface GraphRoute {
  readonly name: string;
  readonly template: string;
  readonly handlers: Partial<Record<Method, GraphOperation>>;
}

/** Matches a path (relative to `/v1.0`) against the routes: literal segments beat parameters. */
export function matchRoute(
  routes: readonly GraphRoute[],
  path: string,
): { route: GraphRoute; params: Record<string, string> } | undefined {
  let segments: string[];
  try {
    segments = path
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .map(decodeURIComponent);
  } catch {
    // A malformed escape (`%E0%A4%A`) names no resource.
    return undefined;
  }
  let best: { route: GraphRoute; params: Record<string, string>; score: number } | undefined;
  for (const route of routes) {
    const parts = route.template.split('/');
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let score = 0;
    let matched = true;
    parts.forEach((part, i) => {
      const segment = segments[i] ?? '';
      const param = /^\{(\w+)\}$/.exec(part);
      if (param?.[1]) params[param[1]] = segment;
      else if (part.toLowerCase() === segment.toLowerCase()) score++;
      else matched = false;
    });
    if (matched && (!best || score > best.score)) best = { route, params, score };
  }
  return best && { route: best.route, params: best.params };
}

/** The handler of a route's method, behind its permission check. */
export function handlerFor(route: GraphRoute, method: string): GraphHandler {
  const operation = route.handlers[method.toUpperCase() as Method];
  if (!operation) {
    throw new GraphError(405, 'MethodNotAllowed', `The ${method} method is not supported on this resource.`);
  }
  return (request, context) => {
    if (operation.permissions !== 'anyCaller') requireAny(context.caller, operation.permissions);
    return operation.handle(request, context);
  };
}

/** The JSON response of a Graph call, with its `@odata.context`. */
export function ok(
  body: Record<string, unknown>,
  context: string,
  serviceRoot: string,
  status = 200,
): ApiResponse {
  return { status, body: { '@odata.context': `${serviceRoot}/$metadata#${context}`, ...body } };
}

export const noContent: ApiResponse = { status: 204 };
