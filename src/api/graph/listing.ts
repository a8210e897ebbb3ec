import type { PageRequest, Page as StoredPage } from '../../application/queries.js';
import { decodeSkipToken, encodeSkipToken, nextLink, parseTop } from '../odata.js';
import type { ApiRequest } from '../routing.js';

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextLink?: string;
}

/**
 * One page of a listing, with Graph's paging: `$top` items at most, and an opaque `$skiptoken` in
 * `@odata.nextLink` when more remain. The token carries the listing's own continuation, sealed to the query
 * (the tenant and `query`) so it cannot be replayed against another query or another tenant.
 */
export async function pageOf<T>(
  request: ApiRequest,
  tenantId: string,
  query: string,
  list: (page: PageRequest) => Promise<StoredPage<T>>,
): Promise<Page<T>> {
  const top = parseTop(request.query);
  const fingerprint = `${tenantId}|${query}`;
  const state = decodeSkipToken(request.query, fingerprint);
  const page = await list(typeof state === 'string' ? { top, continuation: state } : { top });
  return page.continuation
    ? { items: page.items, nextLink: nextLink(request.url, encodeSkipToken(page.continuation, fingerprint)) }
    : { items: page.items };
}

/** One page of an in-memory list (member lists, small collections). */
export function pageOfList<T>(
  request: ApiRequest,
  tenantId: string,
  all: readonly T[],
  query: string,
): Page<T> {
  const top = parseTop(request.query);
  const fingerprint = `${tenantId}|${query}`;
  const state = decodeSkipToken(request.query, fingerprint);
  const offset = typeof state === 'number' && Number.isInteger(state) && state >= 0 ? state : 0;
  const items = all.slice(offset, offset + top);
  const next = offset + top;
  return next < all.length
    ? { items, nextLink: nextLink(request.url, encodeSkipToken(next, fingerprint)) }
    : { items };
}
