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

/**
 * One page of the same query run over several tables in turn (the principal tables): the skiptoken carries which
 * table the listing is in and that table's continuation token.
 */
export async function pageOfTables(
  request: ApiRequest,
  clients: readonly TableClient[],
  filter: string,
  select?: string[],
): Promise<Page<RawEntity>> {
  const top = parseTop(request.query);
  const state = decodeSkipToken(request.query, filter);
  let table = 0;
  let continuationToken: string | undefined;
  if (typeof state === 'object' && state !== null && 't' in state && typeof state.t === 'number') {
    table = Math.max(0, Math.min(clients.length, Math.floor(state.t)));
    continuationToken = 'c' in state && typeof state.c === 'string' ? state.c : undefined;
  }
  const items: RawEntity[] = [];
  while (table < clients.length && items.length < top) {
    const client = clients[table];
    if (!client) break;
    const pages = client
      .listEntities<Record<string, unknown>>({ queryOptions: select ? { filter, select } : { filter } })
      .byPage({ maxPageSize: top - items.length, ...(continuationToken ? { continuationToken } : {}) });
    const page = await pages.next();
    if (!page.done) items.push(...page.value.map(asRaw));
    continuationToken = page.done ? undefined : page.value.continuationToken;
    if (!continuationToken) table++;
  }
  const more = table < clients.length;
  return more
    ? {
        items,
        nextLink: nextLink(
          request.url,
          encodeSkipToken({ t: table, ...(continuationToken ? { c: continuationToken } : {}) }, filter),
        ),
      }
    : { items };
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

/** Counts rows of a query (keys only) for `$count=true`, over one table or several. */
export async function countRows(
  clients: TableClient | readonly TableClient[],
  filter: string,
): Promise<number> {
  let count = 0;
  for (const client of Array.isArray(clients) ? clients : [clients]) {
    for await (const _ of client.listEntities({ queryOptions: { filter, select: ['PartitionKey'] } }))
      count++;
  }
  return count;
}
