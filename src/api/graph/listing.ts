import type { TableClient } from '@azure/data-tables';
import { asRaw, type RawEntity } from '../../storage/properties.js';
import { decodeSkipToken, encodeSkipToken, nextLink, parseTop } from '../odata.js';
import type { ApiRequest } from '../routing.js';

export interface Page<T> {
  readonly items: T[];
  readonly nextLink?: string;
}

/**
 * One page of a table query, with Graph's paging: `$top` rows at most, and an opaque `$skiptoken` (the storage
 * continuation token, bound to this filter) in `@odata.nextLink` when more remain.
 */
export async function pageOfRows(
  request: ApiRequest,
  client: TableClient,
  filter: string,
  select?: string[],
): Promise<Page<RawEntity>> {
  const top = parseTop(request.query);
  const state = decodeSkipToken(request.query, filter);
  const continuationToken = typeof state === 'string' ? state : undefined;
  const pages = client
    .listEntities<Record<string, unknown>>({ queryOptions: select ? { filter, select } : { filter } })
    .byPage({ maxPageSize: top, ...(continuationToken ? { continuationToken } : {}) });
  const first = await pages.next();
  if (first.done) return { items: [] };
  const items = first.value.map(asRaw);
  const token = first.value.continuationToken;
  return token ? { items, nextLink: nextLink(request.url, encodeSkipToken(token, filter)) } : { items };
}

/** One page of an in-memory list (member lists, small collections). */
export function pageOfList<T>(request: ApiRequest, all: readonly T[], fingerprint: string): Page<T> {
  const top = parseTop(request.query);
  const state = decodeSkipToken(request.query, fingerprint);
  const offset = typeof state === 'number' && Number.isInteger(state) && state >= 0 ? state : 0;
  const items = all.slice(offset, offset + top);
  const next = offset + top;
  return next < all.length
    ? { items, nextLink: nextLink(request.url, encodeSkipToken(next, fingerprint)) }
    : { items };
}

/** Counts rows of a query (keys only) for `$count=true`. */
export async function countRows(client: TableClient, filter: string): Promise<number> {
  let count = 0;
  for await (const _ of client.listEntities({ queryOptions: { filter, select: ['PartitionKey'] } })) count++;
  return count;
}
