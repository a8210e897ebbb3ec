import type { z } from 'zod';
import { type ApiResponse, badRequest, errorResponse, GraphError, toErrorResponse } from '../envelope.js';
import { parseJsonBody } from '../http-adapter.js';
import { refuseUnsupportedOptions } from '../odata.js';
import {
  type ApiRequest,
  type GraphContext,
  type GraphRoute,
  handlerFor,
  type Method,
  matchRoute,
} from '../routing.js';
import { parseBody } from './body.js';
import { type batchRequestSchema, batchSchema, MAX_BATCH_REQUESTS } from './wire.js';

type SubRequest = z.infer<typeof batchRequestSchema>;

/**
 * `POST /$batch` (JSON batching): up to 20 requests, run in order; `dependsOn` is honoured — a request whose
 * dependency failed gets 424 without running. Each sub-request goes through the same route table, permission
 * checks and validation as a direct call, as the same caller.
 */
export function batchRoute(routes: () => readonly GraphRoute[]): GraphRoute {
  return {
    name: 'graphBatch',
    template: '$batch',
    handlers: {
      POST: {
        permissions: 'anyCaller',
        handle: async (request, context) => {
          const body = parseBody(batchSchema, await request.json(), 'batch');
          if (body.requests.length > MAX_BATCH_REQUESTS) {
            throw badRequest(`The number of requests in a batch must not exceed ${MAX_BATCH_REQUESTS}.`);
          }
          const ids = new Set<string>();
          for (const sub of body.requests) {
            if (ids.has(sub.id))
              throw badRequest(`Request id '${sub.id}' appears more than once in the batch.`);
            for (const dependency of sub.dependsOn ?? []) {
              if (!ids.has(dependency)) {
                throw badRequest(
                  `Request '${sub.id}' depends on '${dependency}', which is not an earlier request of the batch.`,
                );
              }
            }
            ids.add(sub.id);
          }
          const statuses = new Map<string, number>();
          const responses: unknown[] = [];
          for (const sub of body.requests) {
            const failedDependency = (sub.dependsOn ?? []).find((d) => (statuses.get(d) ?? 0) >= 400);
            const response: ApiResponse = failedDependency
              ? errorResponse(
                  424,
                  'FailedDependency',
                  `Request '${sub.id}' was not run because request '${failedDependency}' it depends on failed.`,
                  context.ids,
                )
              : await runSubRequest(sub, routes(), context);
            statuses.set(sub.id, response.status);
            // `Content-Type` spelled as Graph does: the SDKs' BatchResponseContent looks for exactly this key to
            // rebuild a JSON body.
            responses.push({
              id: sub.id,
              status: response.status,
              headers: {
                ...(response.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
                ...response.headers,
              },
              ...(response.body !== undefined ? { body: response.body } : {}),
            });
          }
          return { status: 200, body: { responses } };
        },
      },
    },
  };
}

async function runSubRequest(
  sub: SubRequest,
  routes: readonly GraphRoute[],
  context: GraphContext,
): Promise<ApiResponse> {
  try {
    const relative = sub.url.replace(/^https?:\/\/[^/]+/i, '').replace(/^\/?(api\/)?v1\.0/i, '');
    const url = new URL(relative.startsWith('/') ? relative : `/${relative}`, `${context.serviceRoot}/`);
    const path = relative.split('?')[0] ?? '';
    const match = matchRoute(routes, path);
    if (!match || match.route.template === '$batch')
      throw new GraphError(404, 'Request_ResourceNotFound', `Resource not found for the segment '${path}'.`);
    const headers = new Headers(sub.headers ?? {});
    const bodyText = sub.body === undefined ? '' : JSON.stringify(sub.body);
    const contentType = headers.get('content-type') ?? (sub.body === undefined ? null : 'application/json');
    const batchRequestSchema: ApiRequest = {
      method: sub.method as Method,
      url: new URL(`${context.serviceRoot}${url.pathname}${url.search}`),
      params: match.params,
      query: new URL(`${context.serviceRoot}${url.pathname}${url.search}`).searchParams,
      headers,
      json: async () => parseJsonBody(Buffer.from(bodyText), contentType),
      text: async () => bodyText,
    };
    refuseUnsupportedOptions(batchRequestSchema.query);
    return await handlerFor(match.route, sub.method)(batchRequestSchema, context);
  } catch (error: unknown) {
    return toErrorResponse(error, context.ids, () => {});
  }
}
