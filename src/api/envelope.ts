import { randomUUID } from 'node:crypto';
import {
  LicensingRefusedError,
  NotFoundError,
  RefusedError,
  StorageContentionError,
} from '../application/errors.js';
import { TenantNotFoundError } from '../application/principal-updates.js';
import type { GraphErrorBody } from '../contract/graph.js';
import { licensingFailureText, notFoundText, refusalText } from './wording.js';

/** What an API handler returns; the HTTP adapter (or `$batch`) turns it into a response. */
export interface ApiResponse {
  readonly status: number;
  /** JSON body (or `text` for plain text). */
  readonly body?: unknown;
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type GraphErrorCode =
  | 'Request_BadRequest'
  | 'Request_ResourceNotFound'
  | 'InvalidAuthenticationToken'
  | 'Authorization_RequestDenied'
  | 'Request_UnsupportedQuery'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'Request_MultipleObjectsWithSameKeyValue'
  | 'generalException'
  | 'serviceNotAvailable'
  | 'MethodNotAllowed';

/** A failure to report in Graph's error envelope. Thrown anywhere in a handler; the adapter renders it. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: GraphErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export const badRequest = (message: string) => new GraphError(400, 'Request_BadRequest', message);
export const notFound = (id: string) =>
  new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id.length > 256 ? `${id.slice(0, 256)}…` : id}' does not exist or one of its queried reference-property objects are not present.`,
  );
export const unsupportedQuery = (message: string) => new GraphError(400, 'Request_UnsupportedQuery', message);

export interface RequestIds {
  readonly requestId: string;
  readonly clientRequestId: string;
}

/** A client's `client-request-id` is echoed only when it looks like an id (Graph asks for a GUID). */
const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestIds(clientRequestId: string | null): RequestIds {
  const requestId = randomUUID();
  const echoed = clientRequestId !== null && CLIENT_REQUEST_ID.test(clientRequestId) ? clientRequestId : null;
  return { requestId, clientRequestId: echoed ?? requestId };
}

/** Graph's envelope: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export function errorBody(code: string, message: string, ids: RequestIds): GraphErrorBody {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

export function errorResponse(status: number, code: string, message: string, ids: RequestIds): ApiResponse {
  return { status, body: errorBody(code, message, ids) };
}

/**
 * Maps whatever a handler threw to a Graph error: coded failures get their Graph wording here; anything unexpected
 * is a 500 `generalException` without internals (the details go to the log).
 */
export function toErrorResponse(
  error: unknown,
  ids: RequestIds,
  log: (message: string) => void,
): ApiResponse {
  if (error instanceof GraphError) return errorResponse(error.status, error.code, error.message, ids);
  if (error instanceof LicensingRefusedError)
    return errorResponse(400, 'Request_BadRequest', licensingFailureText(error.failure), ids);
  if (error instanceof NotFoundError)
    return errorResponse(404, 'Request_ResourceNotFound', notFoundText(error.resourceId), ids);
  if (error instanceof RefusedError)
    return errorResponse(400, 'Request_BadRequest', refusalText(error.refusal), ids);
  if (error instanceof TenantNotFoundError) {
    return errorResponse(401, 'InvalidAuthenticationToken', 'Access token validation failure.', ids);
  }
  if (error instanceof StorageContentionError) {
    // As Graph under throttling: 503 with Retry-After, which the Graph SDKs' retry handler honours.
    return {
      ...errorResponse(
        503,
        'serviceNotAvailable',
        'The service is busy with concurrent changes to the same licenses. Retry the request.',
        ids,
      ),
      headers: { 'Retry-After': '1' },
    };
  }
  log(
    `Unexpected error (request-id ${ids.requestId}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return errorResponse(
    500,
    'generalException',
    `An unexpected error occurred. Retry the request; if it keeps failing, report request-id ${ids.requestId}.`,
    ids,
  );
}
