// Shared setup for the HTTP tests: the product's functions run in this process (one host per test FILE, because
// queue names are fixed when the app loads), tenants come from the operator API, and the Graph surface is driven with
// the official @microsoft/microsoft-graph-client. Raw `fetch` is used only where the client hides what is tested
// (status lines of hostile requests, headers, content types, the webhook and the operator API).
import { randomUUID } from 'node:crypto';
import {
  Client,
  type Context,
  GraphError,
  HTTPMessageHandler,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { expect, inject } from 'vitest';
import { z } from 'zod';
import {
  collectionSchema,
  deviceSchema,
  directoryObjectSchema,
  graphErrorSchema,
  groupSchema,
  licenseProcessingDetailsSchema,
  selectedUserSchema,
  subscribedSkuSchema,
  userSchema,
} from '../../src/contract/graph.js';
import { formatLogRecord } from '../../src/host/log.js';
import {
  nodeRequest,
  repoRoot,
  startTestHost,
  type TestHost,
  uniqueName,
  waitFor,
} from '../support/index.js';

export const ADMIN_API_KEY = 'test-admin-key';
export const GRAPH_TOKEN_SIGNING_KEY = 'test-signing-key-0123456789abcdef0123456789';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------------------
// Narrowing what comes back (the Graph client returns untyped JSON)

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown, what = 'value'): Json {
  if (!isObject(value)) throw new Error(`${what} is not a JSON object: ${JSON.stringify(value)}`);
  return value;
}

export function arr(value: unknown, what = 'value'): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not an array: ${JSON.stringify(value)}`);
  return value;
}

export function str(value: unknown, what = 'value'): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string: ${JSON.stringify(value)}`);
  return value;
}

type Tuple<N extends number, T extends string[] = []> = T['length'] extends N ? T : Tuple<N, [...T, string]>;

/** A list of exactly `n` ids as a tuple, so it can be destructured (`const [a, b] = exactly(ids, 2)`). */
export function exactly<N extends number>(list: readonly string[], n: N): Tuple<N> {
  if (list.length !== n) throw new Error(`expected ${n} ids, got ${list.length}`);
  return [...list] as Tuple<N>;
}

/** The `value` of a collection response, as objects. */
export function items(collection: unknown): Json[] {
  return arr(obj(collection, 'collection').value, 'value').map((v) => obj(v, 'item'));
}

export function ids(collection: unknown): string[] {
  return items(collection).map((item) => str(item.id, 'id'));
}

/** A user read with `$select=assignedLicenses,licenseAssignmentStates,assignedPlans,usageLocation`. */
export const licensedUser = userSchema.pick({
  id: true,
  assignedLicenses: true,
  licenseAssignmentStates: true,
  assignedPlans: true,
  usageLocation: true,
});

/** A user or device read with `$select=licenseAssignmentStates,assignedLicenses`. */
const LICENSES = { id: true, licenseAssignmentStates: true, assignedLicenses: true } as const;
const userLicenses = userSchema.pick(LICENSES);
const deviceLicenses = deviceSchema.pick(LICENSES);

/** `licenseProcessingDetails` as answered: the details and their `@odata.context`. */
export const processingDetails = licenseProcessingDetailsSchema.extend({ '@odata.context': z.string() });

// ---------------------------------------------------------------------------------------------------------
// The service

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  readonly json: unknown;
}

export interface RawOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as is (no JSON encoding). */
  readonly rawBody?: string | Buffer;
  readonly headers?: Record<string, string>;
}

export interface Catalog {
  skuId(partNumber: string): string;
  planId(partNumber: string, planName: string): string;
  planIds(partNumber: string): string[];
}

export interface Service {
  readonly host: TestHost;
  /** e.g. http://127.0.0.1:43123, or https://127.0.0.1:43123 when started with `https`. */
  readonly url: string;
  /** Over https: the certificate (PEM) a client must trust to reach it. */
  readonly ca?: string;
  /** e.g. http://127.0.0.1:43123/api/v1.0 */
  readonly graphRoot: string;
  readonly catalog: Catalog;
  /** Any request against the host; `path` starts after the origin (`/api/...`). */
  http(method: string, path: string, options?: RawOptions): Promise<HttpResult>;
  /** A Graph call without the client: `path` is relative to `/api/v1.0`. */
  graphRaw(method: string, path: string, options?: RawOptions): Promise<HttpResult>;
  /** An operator API call with the operator key; `path` relative to `/api/manage`. */
  manage(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult>;
  newTenant(options?: TenantOptions): Promise<Tenant>;
  /** What the service logged about requests it answered with a 500 (Graph, operator API, sign-in; should stay empty). */
  unexpectedErrors(): string[];
  stop(): Promise<void>;
}

export interface TenantOptions {
  readonly country?: string;
  readonly healing?: 'automatic' | 'manual';
  /** Subscriptions to buy: part number → enabled units. */
  readonly buy?: Readonly<Record<string, number>>;
  /** Roles of the tenant's default token (default: the operator API's default roles). */
  readonly roles?: readonly string[];
}

export interface Tenant {
  readonly id: string;
  readonly clientState: string;
  readonly notificationUrl: string;
  readonly token: string;
  readonly graph: Client;
  /** A token with exactly these roles (and optional lifetime). */
  tokenWith(roles: readonly string[], expiresInSeconds?: number): Promise<string>;
  /** Buys (or changes) a subscription; returns its skuId. */
  buy(partNumber: string, enabled: number): Promise<string>;
  /** Bulk users through the NDJSON import; returns their ids (in order). */
  importUsers(count: number, spec?: UserSpec | ((i: number) => UserSpec)): Promise<string[]>;
  /** Any NDJSON lines through the import; returns the import's answer. */
  importLines(lines: readonly Json[]): Promise<Json>;
  /**
   * Waits until the tenant's queues are drained and no group is processing, seen idle for `settleMs` (default
   * 500 ms: a handler may be between two queue messages).
   */
  waitIdle(timeoutMs?: number, settleMs?: number): Promise<void>;
  /** A security group, through POST /groups; returns its id. */
  createGroup(displayName: string, extra?: Json): Promise<string>;
  /** A user through POST /users; returns its id. */
  createUser(extra?: Json): Promise<string>;
  /** Reads a user with its license properties. */
  licenses(userId: string): Promise<z.infer<typeof licensedUser>>;
  /** `licenseProcessingDetails` of a group. */
  details(groupId: string): Promise<z.infer<typeof processingDetails>>;
  subscribedSkus(): Promise<z.infer<typeof subscribedSkuSchema>[]>;
  /** consumedUnits of one SKU. */
  consumed(skuId: string): Promise<number>;
  /** Every member id of a group (all pages). */
  memberIds(groupId: string): Promise<string[]>;
  /** Every user (all pages) with the given properties selected. */
  allUsers(select: string): Promise<Json[]>;
  /**
   * The seat invariants of rules.md §7 as far as HTTP shows them: for every SKU, consumedUnits equals the users and
   * devices holding it, and no seat is idle while someone waits for it (automatic healing). Returns the violations
   * (empty when all hold).
   */
  seatViolations(): Promise<string[]>;
}

export interface UserSpec {
  readonly usageLocation?: string | null;
  readonly proxyAddresses?: readonly string[];
  readonly memberOf?: readonly string[];
  readonly displayName?: string;
  readonly accountEnabled?: boolean;
}

/** The product's app settings for one test file: its own table and queue prefix and host id. */
export function productEnv(prefix: string): Record<string, string> {
  return {
    AzureWebJobsStorage: inject('storageConnectionString'),
    STORAGE_PREFIX: prefix,
    ADMIN_API_KEY,
    GRAPH_TOKEN_SIGNING_KEY,
    FUNCTIONS_LOG_INVOCATIONS: 'false',
    AzureFunctionsWebHost__hostid: prefix,
  };
}

export interface ServiceOptions {
  /**
   * Serve https with this certificate and key (PEM), as `npm start -- --https` does; the service's requests trust
   * the certificate as their only CA. The official Graph client (fetch) cannot reach it in-process: use `http`.
   */
  readonly https?: { readonly cert: string; readonly key: string };
  /**
   * The table and queue prefix (default a new one). Services started one after the other in one file must share
   * it: the process keeps the storage settings of the first, while each host names its queues afresh.
   */
  readonly prefix?: string;
}

/** Starts the product in this process (call it in beforeAll, stop it in afterAll). */
export async function startService(
  extraEnv: Record<string, string> = {},
  serviceOptions: ServiceOptions = {},
): Promise<Service> {
  const { https } = serviceOptions;
  const prefix = serviceOptions.prefix ?? uniqueName('api');
  const host = await startTestHost({
    appDir: repoRoot,
    env: { ...productEnv(prefix), ...extraEnv },
    createQueues: true,
    logInvocations: false,
    ...(https ? { https } : {}),
  });
  const url = host.url;
  const graphRoot = `${url}/api/v1.0`;

  const http = async (method: string, path: string, options: RawOptions = {}): Promise<HttpResult> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = https
      ? await nodeRequest(`${url}${path}`, {
          method,
          headers,
          ca: https.cert,
          ...(body === undefined ? {} : { body }),
        })
      : await fetch(`${url}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(30_000),
        }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }));
    const text = response.text;
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  const manage = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    http(method, `/api/manage${path}`, {
      headers: { 'x-functions-key': ADMIN_API_KEY, ...headers },
      ...(body === undefined ? {} : { body }),
    });

  const catalogAnswer = await manage('GET', '/catalog');
  expect(catalogAnswer.status).toBe(200);
  const catalog = readCatalog(catalogAnswer.json);

  const service: Service = {
    host,
    url,
    ...(https ? { ca: https.cert } : {}),
    graphRoot,
    catalog,
    http,
    graphRaw: (method, path, options) => http(method, `/api/v1.0${path}`, options),
    manage,
    newTenant: (options) => newTenant(service, options),
    unexpectedErrors: () =>
      host.logs
        .map(formatLogRecord)
        .filter((line) => line.includes('Unexpected error') || line.includes('failed unexpectedly')),
    stop: async () => {
      const errors = service.unexpectedErrors();
      await host.stop();
      // A 500 is a bug whatever the test expected: say so where the file's tests ran.
      expect(errors).toEqual([]);
    },
  };
  return service;
}

function readCatalog(json: unknown): Catalog {
  const skus = z
    .object({
      value: z.array(
        z.object({
          skuId: z.string(),
          skuPartNumber: z.string(),
          servicePlans: z.array(z.object({ servicePlanId: z.string(), servicePlanName: z.string() })),
        }),
      ),
    })
    .parse(json).value;
  const sku = (partNumber: string) => {
    const found = skus.find((s) => s.skuPartNumber === partNumber);
    if (!found) throw new Error(`no SKU ${partNumber} in the catalog`);
    return found;
  };
  return {
    skuId: (partNumber) => sku(partNumber).skuId,
    planId: (partNumber, planName) => {
      const plan = sku(partNumber).servicePlans.find((p) => p.servicePlanName === planName);
      if (!plan) throw new Error(`no plan ${planName} in ${partNumber}`);
      return plan.servicePlanId;
    },
    planIds: (partNumber) => sku(partNumber).servicePlans.map((p) => p.servicePlanId),
  };
}

/** Sets `Authorization: Bearer …` on every request (the client's own handler does so only over https). */
class BearerToken implements Middleware {
  private next: Middleware | undefined;
  constructor(
    private readonly token: string,
    private readonly onRequest?: (url: string) => void,
  ) {}
  async execute(context: Context): Promise<void> {
    this.onRequest?.(typeof context.request === 'string' ? context.request : context.request.url);
    const options = context.options ?? {};
    const headers = new Headers(options.headers);
    headers.set('Authorization', `Bearer ${this.token}`);
    context.options = { ...options, headers: Object.fromEntries(headers.entries()) };
    if (!this.next) throw new Error('BearerToken must be followed by HTTPMessageHandler');
    await this.next.execute(context);
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** The official Graph client pointed at the service, as api.md and the README describe. */
export function graphClient(service: Service, token: string, onRequest?: (url: string) => void): Client {
  const bearer = new BearerToken(token, onRequest);
  bearer.setNext(new HTTPMessageHandler());
  return Client.initWithMiddleware({
    baseUrl: `${service.url}/api`,
    defaultVersion: 'v1.0',
    middleware: bearer,
  });
}

async function newTenant(service: Service, options: TenantOptions = {}): Promise<Tenant> {
  const created = await service.manage('POST', '/tenants', {
    displayName: `Contoso ${randomUUID().slice(0, 8)}`,
    countryLetterCode: options.country ?? 'US',
    licenseErrorHealing: options.healing ?? 'automatic',
  });
  expect(created.status, created.text).toBe(201);
  const tenant = z
    .object({
      id: z.string(),
      webhook: z.object({ notificationUrl: z.string(), clientState: z.string() }),
    })
    .parse(created.json);
  const tid = tenant.id;

  const tokenWith = async (roles: readonly string[], expiresInSeconds?: number): Promise<string> => {
    const answer = await service.manage('POST', `/tenants/${tid}/tokens`, {
      roles,
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    });
    expect(answer.status, answer.text).toBe(200);
    return z.object({ access_token: z.string() }).parse(answer.json).access_token;
  };
  let token: string;
  if (options.roles) token = await tokenWith(options.roles);
  else {
    const answer = await service.manage('POST', `/tenants/${tid}/tokens`, {});
    expect(answer.status, answer.text).toBe(200);
    token = z.object({ access_token: z.string() }).parse(answer.json).access_token;
  }
  const graph = graphClient(service, token);

  const buy = async (partNumber: string, enabled: number): Promise<string> => {
    const answer = await service.manage('PUT', `/tenants/${tid}/subscriptions/${partNumber}`, {
      prepaidUnits: { enabled },
    });
    expect(answer.status, answer.text).toBe(200);
    return z.object({ skuId: z.string() }).parse(answer.json).skuId;
  };
  for (const [partNumber, units] of Object.entries(options.buy ?? {})) await buy(partNumber, units);

  const importLines = async (lines: readonly Json[]): Promise<Json> => {
    const answer = await service.http('POST', `/api/manage/tenants/${tid}/import`, {
      headers: { 'x-functions-key': ADMIN_API_KEY, 'content-type': 'application/x-ndjson' },
      rawBody: lines.map((l) => JSON.stringify(l)).join('\n'),
    });
    expect(answer.status, answer.text).toBe(200);
    return obj(answer.json);
  };

  const self: Tenant = {
    id: tid,
    clientState: tenant.webhook.clientState,
    notificationUrl: tenant.webhook.notificationUrl,
    token,
    graph,
    tokenWith,
    buy,
    importLines,
    importUsers: async (count, spec = {}) => {
      const userIds = Array.from({ length: count }, () => randomUUID());
      const lines = userIds.map((id, i) => {
        const s = typeof spec === 'function' ? spec(i) : spec;
        return {
          type: 'user',
          id,
          userPrincipalName: `user${i}.${id.slice(0, 8)}@contoso.test`,
          displayName: s.displayName ?? `User ${String(i).padStart(5, '0')}`,
          usageLocation: s.usageLocation === undefined ? 'US' : s.usageLocation,
          ...(s.accountEnabled === undefined ? {} : { accountEnabled: s.accountEnabled }),
          ...(s.proxyAddresses ? { proxyAddresses: s.proxyAddresses } : {}),
          ...(s.memberOf ? { memberOf: s.memberOf } : {}),
        };
      });
      const result = await importLines(lines);
      expect(result.errors).toEqual([]);
      expect(result.users).toBe(count);
      return userIds;
    },
    waitIdle: async (timeoutMs = 60_000, settleMs = 500) => {
      let idleSince = 0;
      await waitFor(
        async () => {
          const answer = await service.manage('GET', `/tenants/${tid}/activity`);
          if (answer.status !== 200 || obj(answer.json).idle !== true) {
            idleSince = 0;
            return false;
          }
          if (idleSince === 0) idleSince = Date.now();
          return Date.now() - idleSince >= settleMs;
        },
        { timeoutMs, intervalMs: 75, message: `tenant ${tid} did not become idle` },
      );
    },
    createGroup: async (displayName, extra = {}) => {
      const group = groupSchema.pick({ id: true }).parse(
        await graph.api('/groups').post({
          displayName,
          mailEnabled: false,
          mailNickname: displayName.replace(/[^A-Za-z0-9]/g, '').toLowerCase() || 'group',
          securityEnabled: true,
          ...extra,
        }),
      );
      return group.id;
    },
    createUser: async (extra = {}) => {
      const nick = `u${randomUUID().slice(0, 8)}`;
      const user = userSchema.pick({ id: true }).parse(
        await graph.api('/users').post({
          accountEnabled: true,
          displayName: `User ${nick}`,
          mailNickname: nick,
          passwordProfile: { password: 'xWwvJ]6NMw+bWH-d', forceChangePasswordNextSignIn: false },
          userPrincipalName: `${nick}@contoso.test`,
          usageLocation: 'US',
          ...extra,
        }),
      );
      return user.id;
    },
    licenses: async (userId) =>
      licensedUser.parse(
        await graph
          .api(`/users/${userId}`)
          .select('assignedLicenses,licenseAssignmentStates,assignedPlans,usageLocation')
          .get(),
      ),
    details: async (groupId) =>
      processingDetails.parse(await graph.api(`/groups/${groupId}/licenseProcessingDetails`).get()),
    subscribedSkus: async () =>
      collectionSchema(subscribedSkuSchema).parse(await graph.api('/subscribedSkus').get()).value,
    consumed: async (skuId) => {
      const skus = await self.subscribedSkus();
      const sku = skus.find((s) => s.skuId === skuId);
      if (!sku) throw new Error(`tenant has no subscription of ${skuId}`);
      return sku.consumedUnits;
    },
    allUsers: async (select) => {
      const found: Json[] = [];
      const users = collectionSchema(selectedUserSchema);
      let page = users.parse(await graph.api('/users').select(select).top(999).get());
      for (;;) {
        found.push(...page.value);
        const next = page['@odata.nextLink'];
        if (next === undefined) return found;
        page = users.parse(await graph.api(next).get());
      }
    },
    seatViolations: async () => {
      const violations: string[] = [];
      const users = (await self.allUsers('licenseAssignmentStates,assignedLicenses')).map((u) =>
        userLicenses.parse(u),
      );
      const devicePages = collectionSchema(deviceLicenses);
      const devices: z.infer<typeof deviceLicenses>[] = [];
      let page = devicePages.parse(
        await graph.api('/devices').select('licenseAssignmentStates,assignedLicenses').top(999).get(),
      );
      for (;;) {
        devices.push(...page.value);
        const next = page['@odata.nextLink'];
        if (next === undefined) break;
        page = devicePages.parse(await graph.api(next).get());
      }
      const principals = [...users, ...devices];
      for (const sku of await self.subscribedSkus()) {
        const holders = principals.filter((p) =>
          p.assignedLicenses.some((l) => l.skuId === sku.skuId),
        ).length;
        const waiting = principals.filter((p) =>
          p.licenseAssignmentStates.some((s) => s.skuId === sku.skuId && s.error === 'CountViolation'),
        ).length;
        const total = sku.prepaidUnits.enabled + sku.prepaidUnits.warning;
        if (sku.consumedUnits !== holders)
          violations.push(`${sku.skuPartNumber}: consumedUnits ${sku.consumedUnits} but ${holders} holders`);
        if (total > sku.consumedUnits && waiting > 0)
          violations.push(
            `${sku.skuPartNumber}: ${total - sku.consumedUnits} seats idle while ${waiting} wait`,
          );
      }
      return violations;
    },
    memberIds: async (groupId) => {
      const found: string[] = [];
      const members = collectionSchema(directoryObjectSchema);
      let page = members.parse(await graph.api(`/groups/${groupId}/members`).top(999).get());
      for (;;) {
        found.push(...page.value.map((member) => member.id));
        const next = page['@odata.nextLink'];
        if (next === undefined) break;
        page = members.parse(await graph.api(next).get());
      }
      return found.sort();
    },
  };
  return self;
}

// ---------------------------------------------------------------------------------------------------------
// Errors

export interface GraphErrorExpectation {
  readonly status: number;
  readonly code: string;
  /** Exact message, or a pattern. */
  readonly message?: string | RegExp;
}

/** Checks Graph's envelope in a parsed body: code, message, innerError { date, request-id, client-request-id }. */
export function expectEnvelope(body: unknown, code: string, message?: string | RegExp): Json {
  const { error } = graphErrorSchema.parse(body);
  expect(error.code).toBe(code);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
  // The contract takes a GUID in either case; the service writes lower case.
  expect(error.innerError['request-id']).toMatch(GUID);
  // Never a stack trace or an internal type name.
  expect(String(error.message)).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules|Error:/);
  return error;
}

/** A raw response in Graph's error envelope, with the `request-id` header equal to the body's. */
export function expectRawError(
  result: HttpResult,
  status: number,
  code: string,
  message?: string | RegExp,
): void {
  expect(result.status, result.text).toBe(status);
  expect(result.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const error = expectEnvelope(result.json, code, message);
  const requestId = result.headers.get('request-id');
  expect(requestId).toMatch(GUID);
  expect(obj(error.innerError)['request-id']).toBe(requestId);
}

/** Awaits a Graph client call that must fail, and checks the status, code, message and envelope. */
export async function expectGraphError(
  call: Promise<unknown>,
  status: number,
  code: string,
  message?: string | RegExp,
): Promise<GraphError> {
  let caught: unknown;
  try {
    await call;
  } catch (error: unknown) {
    caught = error;
  }
  if (!(caught instanceof GraphError)) {
    throw new Error(
      `expected a Graph error ${status} ${code}, got ${caught === undefined ? 'success' : String(caught)}`,
    );
  }
  expect({ status: caught.statusCode, code: caught.code, message: caught.message }).toMatchObject({
    status,
    code,
    ...(typeof message === 'string' ? { message } : {}),
  });
  if (message instanceof RegExp) expect(caught.message).toMatch(message);
  // The client keeps the envelope's `error` object as JSON in `body`.
  const error = obj(JSON.parse(String(caught.body)), 'error');
  expectEnvelope({ error }, code);
  expect(caught.requestId).toMatch(GUID);
  expect(caught.headers?.get('request-id')).toBe(caught.requestId);
  return caught;
}

/** Follows `@odata.nextLink` with plain HTTP, resolving it as OData says (against the service root). */
export function resolveNextLink(service: Service, nextLink: string): string {
  const absolute = new URL(nextLink, `${service.graphRoot}/`);
  return absolute.pathname.replace(/^\/api\/v1\.0/, '') + absolute.search;
}
