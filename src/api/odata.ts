import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TextCondition } from '../application/queries.js';
import { settings } from '../config/settings.js';
import { GUID_TEXT } from '../engine/ids.js';
import { badRequest, unsupportedQuery } from './envelope.js';

/**
 * The seal of a skiptoken: an HMAC (keyed with the token signing key) over the query it belongs to and the position,
 * so a client can neither move the position (e.g. hand the storage SDK a continuation token of its own making) nor
 * reuse the token for another query or tenant.
 */
function seal(fingerprint: string, state: string): string {
  return createHmac('sha256', settings().tokenSigningKey)
    .update(`${fingerprint}\n${state}`)
    .digest('base64url')
    .slice(0, 22);
}

/** The system query options this service evaluates. */
const SUPPORTED_OPTIONS = new Set(['$select', '$filter', '$top', '$skiptoken', '$count']);

/**
 * Refuses any other system query option (`$orderby`, `$expand`, `$search`, `$skip`, …): ignoring it would answer
 * a different question than the one asked (an unordered page for `$orderby`), so it is Graph's 400
 * `Request_UnsupportedQuery` instead.
 */
export function refuseUnsupportedOptions(query: URLSearchParams): void {
  for (const name of query.keys()) {
    if (name.startsWith('$') && !SUPPORTED_OPTIONS.has(name.toLowerCase())) {
      throw unsupportedQuery(`The query option '${name.slice(0, 64)}' is not supported by this service.`);
    }
  }
}

/** `$top`: default 100, at most 999 (Graph's directory limits). */
export function parseTop(query: URLSearchParams, fallback = 100, max = 999): number {
  const raw = query.get('$top');
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(value) || value < 1) {
    throw badRequest(`Invalid page size specified: '${raw}'. Must be between 1 and ${max} inclusive.`);
  }
  if (value > max)
    throw badRequest(`Invalid page size specified: '${raw}'. Must be between 1 and ${max} inclusive.`);
  return value;
}

/** An opaque `$skiptoken`: the position in a listing, sealed to the query it belongs to. */
export function encodeSkipToken(state: unknown, fingerprint: string): string {
  const position = JSON.stringify(state);
  return Buffer.from(JSON.stringify({ s: position, f: seal(fingerprint, position) })).toString('base64url');
}

export function decodeSkipToken(query: URLSearchParams, fingerprint: string): unknown {
  const raw = query.get('$skiptoken') ?? query.get('$skipToken');
  if (raw === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      's' in parsed &&
      'f' in parsed &&
      typeof parsed.s === 'string' &&
      typeof parsed.f === 'string'
    ) {
      const expected = Buffer.from(seal(fingerprint, parsed.s));
      const given = Buffer.from(parsed.f);
      if (given.length === expected.length && timingSafeEqual(given, expected)) {
        const state: unknown = JSON.parse(parsed.s);
        return state;
      }
    }
  } catch {
    // falls through
  }
  throw badRequest(
    `The skip token '${raw.slice(0, 64)}' is not valid for this query; request the first page again.`,
  );
}

/**
 * The URL the client called, as it named it: behind the Azure front end (or any proxy) the function sees its own
 * address, and `X-Forwarded-Proto` / `X-Forwarded-Host` carry the scheme and host the client used. Values that are
 * not a plain scheme or host are ignored, so a header cannot inject anything into the links built from this URL.
 */
export function publicUrl(requestUrl: string, headers: { get(name: string): string | null }): URL {
  const url = new URL(requestUrl);
  const first = (name: string) => headers.get(name)?.split(',')[0]?.trim().toLowerCase() ?? '';
  const proto = first('x-forwarded-proto');
  if (proto === 'http' || proto === 'https') url.protocol = `${proto}:`;
  const host = first('x-forwarded-host');
  if (/^([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/.test(host)) {
    // The forwarded host replaces the port too: `url.host = 'contoso.example'` would keep the function's own port.
    try {
      const forwarded = new URL(`${url.protocol}//${host}`);
      url.hostname = forwarded.hostname;
      url.port = forwarded.port;
    } catch {
      // Not a host after all (a port above 65535): ignored.
    }
  }
  return url;
}

/** The service root of the Graph surface for this request (`https://…/api/v1.0`). */
export function serviceRootOf(url: URL): string {
  const index = url.pathname.toLowerCase().indexOf('/v1.0');
  const base = index >= 0 ? url.pathname.slice(0, index + '/v1.0'.length) : '/api/v1.0';
  return `${url.origin}${base}`;
}

/**
 * `@odata.nextLink`: the same request with the new `$skiptoken`. Over https it is absolute, as Graph's always is
 * (the Kiota SDK's page iterator fetches it as a URL, and the v3 client follows any `https://` link). Over plain
 * http it stays relative to the service root (`users?$top=5&$skiptoken=…`): the v3 client takes every link that
 * is not `https://` as a path under its `baseUrl`, so an absolute `http://` link would send it to
 * `…/v1.0/http://…`; OData resolves a relative link against the context URL, the same absolute URL. The caller's
 * own query encoding is kept. docs/api.md, "Links".
 */
export function nextLink(url: URL, token: string): string {
  const path = url.pathname;
  const root = path.toLowerCase().indexOf('/v1.0/');
  const relative = root >= 0 ? path.slice(root + '/v1.0/'.length) : path.replace(/^\/+/, '');
  const query = url.search
    .replace(/^\?/, '')
    .split('&')
    .filter((part) => part !== '' && !/^(\$|%24)skiptoken=/i.test(part));
  query.push(`$skiptoken=${token}`);
  const link = `${relative}?${query.join('&')}`;
  return url.protocol === 'https:' ? `${serviceRootOf(url)}/${link}` : link;
}

/** Each type's property names by their lower-case form, built once per list (the lists are module constants). */
const lookups = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

function propertyLookup(known: readonly string[]): ReadonlyMap<string, string> {
  let lookup = lookups.get(known);
  if (!lookup) {
    lookup = new Map(known.map((k) => [k.toLowerCase(), k] as const));
    lookups.set(known, lookup);
  }
  return lookup;
}

/**
 * `$select`: the properties asked for, validated against what the type has (Graph: 400 for an unknown one).
 * Returns undefined when absent, meaning the default property set.
 */
export function parseSelect(
  query: URLSearchParams,
  typeName: string,
  known: readonly string[],
): Set<string> | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  const lookup = propertyLookup(known);
  const selected = new Set<string>();
  for (const part of raw.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    const property = lookup.get(name.toLowerCase());
    if (!property)
      throw badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.${typeName}'.`);
    selected.add(property);
  }
  if (selected.size === 0) throw badRequest('The $select query option is empty.');
  return selected;
}

/** Keeps the selected properties (and `id`, always), or the default set when nothing was selected. */
export function project(
  full: Readonly<Record<string, unknown>>,
  selected: ReadonlySet<string> | undefined,
  defaults: readonly string[],
): Record<string, unknown> {
  const names = selected ?? new Set(defaults);
  const result: Record<string, unknown> = {};
  // Only the kept properties are read: a builder may compute costly ones in getters (shapes.ts, userJson).
  for (const key of Object.keys(full)) {
    if (key.startsWith('@odata.') || key === 'id' || names.has(key)) result[key] = full[key];
  }
  return result;
}

/** A clause of the `$filter` forms this service evaluates (api.md). */
export type FilterClause =
  | { readonly kind: 'anyAssignedLicense'; readonly skuId: string }
  | { readonly kind: 'eq'; readonly property: string; readonly value: string | boolean }
  | {
      readonly kind: 'compare';
      readonly property: string;
      readonly op: 'ge' | 'gt' | 'le' | 'lt';
      readonly value: string;
    }
  | { readonly kind: 'startswith'; readonly property: string; readonly value: string };

/** A string clause on `property` (`eq` or `startswith`), as the listings' text condition; undefined otherwise. */
export function textCondition(clause: FilterClause, property: string): TextCondition | undefined {
  if (clause.kind === 'eq' && clause.property === property && typeof clause.value === 'string')
    return { equals: clause.value };
  if (clause.kind === 'startswith' && clause.property === property) return { startsWith: clause.value };
  return undefined;
}

const STRING = "'((?:[^']|'')*)'";

/**
 * Parses `$filter` into clauses joined by `and`. Only the forms api.md lists are understood; anything else is
 * Graph's 400 `Request_UnsupportedQuery`, never a silently wrong answer.
 */
export function parseFilter(query: URLSearchParams, allowed: readonly string[]): FilterClause[] {
  const raw = query.get('$filter');
  if (raw === null || raw.trim() === '') return [];
  const clauses: FilterClause[] = [];
  for (const part of splitAnd(raw.trim())) {
    const clause = parseClause(part.trim());
    const property = clause.kind === 'anyAssignedLicense' ? 'assignedLicenses' : clause.property;
    if (!allowed.includes(property)) throw unsupported(raw);
    clauses.push(clause);
  }
  return clauses;
}

/** A clause in words, for the 400 of a clause a collection cannot evaluate. */
export function describeClause(clause: FilterClause): string {
  if (clause.kind === 'anyAssignedLicense') return `assignedLicenses/any(x:x/skuId eq ${clause.skuId})`;
  if (clause.kind === 'startswith') return `startswith(${clause.property},'…')`;
  return `${clause.property} ${clause.kind === 'compare' ? clause.op : 'eq'} ${JSON.stringify(clause.value)}`;
}

function unsupported(raw: string) {
  return unsupportedQuery(`Unsupported or invalid query filter clause specified: '${raw}'.`);
}

function splitAnd(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (depth === 0 && text.slice(i, i + 5).toLowerCase() === ' and ') {
      parts.push(text.slice(start, i));
      start = i + 5;
      i += 4;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseClause(text: string): FilterClause {
  let m = new RegExp(
    `^assignedLicenses/any\\(\\s*(\\w+)\\s*:\\s*\\1/skuId\\s+eq\\s+(${GUID_TEXT})\\s*\\)$`,
    'i',
  ).exec(text);
  if (m?.[2]) return { kind: 'anyAssignedLicense', skuId: m[2].toLowerCase() };
  m = new RegExp(`^startswith\\(\\s*(\\w+)\\s*,\\s*${STRING}\\s*\\)$`, 'i').exec(text);
  if (m?.[1] && m[2] !== undefined)
    return { kind: 'startswith', property: m[1], value: m[2].replace(/''/g, "'") };
  m = /^(\w+)\s+eq\s+(true|false)$/i.exec(text);
  if (m?.[1] && m[2]) return { kind: 'eq', property: m[1], value: m[2].toLowerCase() === 'true' };
  m = new RegExp(`^(\\w+)\\s+eq\\s+${STRING}$`, 'i').exec(text);
  if (m?.[1] && m[2] !== undefined) return { kind: 'eq', property: m[1], value: m[2].replace(/''/g, "'") };
  m = /^(\w+)\s+(ge|gt|le|lt)\s+(\d{4}-\d{2}-\d{2}T[\d:.]+Z?)$/i.exec(text);
  if (m?.[1] && m[2] && m[3]) {
    return {
      kind: 'compare',
      property: m[1],
      op: m[2].toLowerCase() as 'ge' | 'gt' | 'le' | 'lt',
      value: m[3],
    };
  }
  throw unsupported(text);
}

/** Whether `$count=true` was asked for; Graph requires `ConsistencyLevel: eventual` for it on directory objects. */
export function wantsCount(query: URLSearchParams, headers: Headers): boolean {
  const raw = query.get('$count');
  if (raw === null || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() !== 'true') throw badRequest(`Invalid value '${raw}' for $count; use true or false.`);
  if ((headers.get('consistencylevel') ?? '').toLowerCase() !== 'eventual') {
    throw badRequest(
      "Count is supported only with the header 'ConsistencyLevel: eventual'. Add the header and retry.",
    );
  }
  return true;
}
