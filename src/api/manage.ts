import { timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { requestAlertEvaluation } from '../application/alerts.js';
import { type AppContext, appContext } from '../application/context.js';
import { importDirectory, importLine } from '../application/import.js';
import type { SubscriptionRecord, TenantRecord } from '../application/records.js';
import { putSubscription } from '../application/subscription-lifecycle.js';
import { tenantActivity } from '../application/tenant-snapshot.js';
import {
  createTenant,
  getTenant,
  listSubscriptions,
  listTenants,
  updateTenant,
} from '../application/tenants.js';
import { settings } from '../config/settings.js';
import { isGuid } from '../engine/ids.js';
import { type Catalog, SUBSCRIPTION_STATES } from '../engine/index.js';
import {
  type ApiResponse,
  badRequest,
  errorBody,
  GraphError,
  type RequestIds,
  requestIds,
  toErrorResponse,
} from './envelope.js';
import { parseBody } from './graph/body.js';
import { subscribedSkuJson } from './graph/shapes.js';
import { asMethod, parseJsonBody, readBody, toHttpResponse } from './http-adapter.js';
import { publicUrl } from './odata.js';
import { DEFAULT_ROLES, mintToken, PERMISSIONS } from './tokens.js';
import { importLineErrorText } from './wording.js';

export const ADMIN_BODY_LIMIT = 1024 * 1024;
/** The NDJSON import may be large: 100,000 users are ~20 MB. */
const IMPORT_BODY_LIMIT = 200 * 1024 * 1024;

const newTenantSchema = z
  .object({
    displayName: z.string().min(1).max(256),
    countryLetterCode: z.string().regex(/^[A-Za-z]{2}$/, 'expected a two-letter country code'),
    licenseErrorHealing: z.enum(['automatic', 'manual']).optional(),
  })
  .strict();
const tenantPatchSchema = z
  .object({
    displayName: z.string().min(1).max(256).optional(),
    countryLetterCode: z
      .string()
      .regex(/^[A-Za-z]{2}$/)
      .optional(),
    licenseErrorHealing: z.enum(['automatic', 'manual']).optional(),
  })
  .strict();
const units = z.number().int().min(0).max(10_000_000);
const lifecycleDate = z.iso.datetime({ offset: true });
const subscriptionSchema = z
  .object({
    prepaidUnits: z
      .object({
        enabled: units,
        warning: units.optional(),
        suspended: units.optional(),
        lockedOut: units.optional(),
      })
      .strict()
      .optional(),
    // The lifecycle (engine subscriptions.ts): a new nextLifecycleDate without a state renews (Active).
    state: z.enum(SUBSCRIPTION_STATES).optional(),
    startDate: lifecycleDate.optional(),
    nextLifecycleDate: lifecycleDate.nullable().optional(),
  })
  .strict()
  .refine(
    (body) =>
      body.prepaidUnits !== undefined ||
      body.state !== undefined ||
      body.startDate !== undefined ||
      body.nextLifecycleDate !== undefined,
    { message: 'expected prepaidUnits, state, startDate or nextLifecycleDate' },
  );
const tokenSchema = z
  .object({
    roles: z.array(z.enum(PERMISSIONS)).max(20).optional(),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .optional(),
  })
  .strict();

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The operator key from `x-functions-key` (or `?code=`), compared in constant time with ADMIN_API_KEY. */
function requireOperatorKey(request: HttpRequest): void {
  const key = request.headers.get('x-functions-key') ?? new URL(request.url).searchParams.get('code') ?? '';
  if (!sameSecret(key, settings().adminApiKey)) {
    throw new GraphError(
      401,
      'InvalidAuthenticationToken',
      'The operator API needs the x-functions-key header set to ADMIN_API_KEY.',
    );
  }
}

export async function readJson(request: HttpRequest): Promise<unknown> {
  return parseJsonBody(await readBody(request, ADMIN_BODY_LIMIT), request.headers.get('content-type'));
}

function tenantJson(tenant: TenantRecord, baseUrl: string) {
  return {
    id: tenant.id,
    displayName: tenant.displayName,
    countryLetterCode: tenant.countryLetterCode,
    licenseErrorHealing: tenant.licenseErrorHealing,
    createdDateTime: tenant.createdDateTime,
    webhook: { notificationUrl: `${baseUrl}/api/webhooks/graph`, clientState: tenant.clientState },
  };
}

export function tenantIdOf(request: HttpRequest): string {
  const id = request.params.tid ?? '';
  if (!isGuid(id)) throw new GraphError(404, 'Request_ResourceNotFound', `Tenant '${id}' does not exist.`);
  return id.toLowerCase();
}

export type ManageHandler = (
  request: HttpRequest,
  ctx: AppContext,
  baseUrl: string,
  ids: RequestIds,
) => Promise<ApiResponse>;

/** Wraps an operator handler: key check, Graph-style errors, request ids. */
export function manageFunction(handlers: Partial<Record<string, ManageHandler>>) {
  return async (request: HttpRequest, invocation: InvocationContext): Promise<HttpResponseInit> => {
    const ids = requestIds(request.headers.get('client-request-id'));
    try {
      requireOperatorKey(request);
      const handler = handlers[asMethod(request.method)];
      if (!handler) throw new GraphError(405, 'MethodNotAllowed', `${request.method} is not supported here.`);
      const origin = publicUrl(request.url, request.headers).origin;
      return toHttpResponse(await handler(request, await appContext(), origin, ids), ids);
    } catch (error: unknown) {
      return toHttpResponse(
        toErrorResponse(error, ids, (m) => invocation.error(m)),
        ids,
      );
    }
  };
}

export const manageTenants: Partial<Record<string, ManageHandler>> = {
  // By displayName, at most the first 1,000 tenants read (`truncated: true` says more exist): for the console's
  // picker, not for enumerating a large estate.
  GET: async (_request, ctx, baseUrl) => {
    const { tenants, truncated } = await listTenants(ctx);
    return {
      status: 200,
      body: { value: tenants.map((t) => tenantJson(t, baseUrl)), ...(truncated ? { truncated: true } : {}) },
    };
  },
  POST: async (request, ctx, baseUrl) => {
    const input = parseBody(newTenantSchema, await readJson(request), 'tenant');
    const tenant = await createTenant(ctx, {
      displayName: input.displayName,
      countryLetterCode: input.countryLetterCode,
      ...(input.licenseErrorHealing ? { licenseErrorHealing: input.licenseErrorHealing } : {}),
    });
    return { status: 201, body: tenantJson(tenant, baseUrl) };
  },
};

export const manageTenant: Partial<Record<string, ManageHandler>> = {
  GET: async (request, ctx, baseUrl) => ({
    status: 200,
    body: tenantJson(await getTenant(ctx, tenantIdOf(request)), baseUrl),
  }),
  PATCH: async (request, ctx, baseUrl) => {
    const patch = parseBody(tenantPatchSchema, await readJson(request), 'tenant');
    const tenant = await updateTenant(ctx, tenantIdOf(request), {
      ...(patch.displayName === undefined ? {} : { displayName: patch.displayName }),
      ...(patch.countryLetterCode === undefined ? {} : { countryLetterCode: patch.countryLetterCode }),
      ...(patch.licenseErrorHealing === undefined ? {} : { licenseErrorHealing: patch.licenseErrorHealing }),
    });
    return { status: 200, body: tenantJson(tenant, baseUrl) };
  },
};

/** A subscribedSku as Graph shows it, plus its lifecycle (`null` for units set by hand) for the operator. */
function operatorSubscriptionJson(catalog: Catalog, tenantId: string, sub: SubscriptionRecord) {
  return { ...subscribedSkuJson(catalog, tenantId, sub), lifecycle: sub.lifecycle ?? null };
}

export const manageSubscription: Partial<Record<string, ManageHandler>> = {
  PUT: async (request, ctx) => {
    const tenantId = tenantIdOf(request);
    const input = parseBody(subscriptionSchema, await readJson(request), 'subscription');
    const sub = await putSubscription(ctx, tenantId, request.params.sku ?? '', {
      ...(input.prepaidUnits
        ? {
            prepaidUnits: {
              enabled: input.prepaidUnits.enabled,
              warning: input.prepaidUnits.warning ?? 0,
              suspended: input.prepaidUnits.suspended ?? 0,
              lockedOut: input.prepaidUnits.lockedOut ?? 0,
            },
          }
        : {}),
      ...(input.state === undefined ? {} : { state: input.state }),
      ...(input.startDate === undefined ? {} : { startDate: new Date(input.startDate).toISOString() }),
      ...(input.nextLifecycleDate === undefined
        ? {}
        : {
            nextLifecycleDate:
              input.nextLifecycleDate === null ? null : new Date(input.nextLifecycleDate).toISOString(),
          }),
    });
    // Seats and stages changed: an alert pass after the debounce.
    await requestAlertEvaluation(ctx, tenantId);
    return { status: 200, body: operatorSubscriptionJson(ctx.catalog, tenantId, sub) };
  },
};

export const manageSubscriptions: Partial<Record<string, ManageHandler>> = {
  GET: async (request, ctx) => {
    const tenantId = tenantIdOf(request);
    const subs = await listSubscriptions(ctx, tenantId);
    return {
      status: 200,
      body: { value: subs.map((s) => operatorSubscriptionJson(ctx.catalog, tenantId, s)) },
    };
  },
};

export const manageTokens: Partial<Record<string, ManageHandler>> = {
  POST: async (request, ctx) => {
    const tenantId = tenantIdOf(request);
    const text = await readBody(request, ADMIN_BODY_LIMIT);
    const input = parseBody(
      tokenSchema,
      text.length === 0 ? {} : parseJsonBody(text, request.headers.get('content-type')),
      'token request',
    );
    await getTenant(ctx, tenantId);
    const expiresIn = input.expiresInSeconds ?? 3600;
    const token = await mintToken(
      settings().tokenSigningKey,
      tenantId,
      input.roles ?? DEFAULT_ROLES,
      expiresIn,
      ctx.now,
    );
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: expiresIn } };
  },
};

/** Whether the tenant's work is done: queues drained, no group processing, no seats in flight (for the simulator). */
export const manageActivity: Partial<Record<string, ManageHandler>> = {
  GET: async (request, ctx) => {
    const tenantId = tenantIdOf(request);
    await getTenant(ctx, tenantId);
    return { status: 200, body: await tenantActivity(ctx, tenantId) };
  },
};

export const manageCatalog: Partial<Record<string, ManageHandler>> = {
  GET: async (_request, ctx) => ({
    status: 200,
    body: {
      value: ctx.catalog.skus.map((sku) => ({
        skuId: sku.skuId,
        skuPartNumber: sku.skuPartNumber,
        displayName: sku.displayName,
        assignableTo: sku.assignableTo,
        servicePlans: sku.planIds.map((id) => ({
          servicePlanId: id,
          servicePlanName: sku.planNames.get(id) ?? '',
        })),
      })),
      rules: ctx.catalog.rules,
    },
  }),
};

/** Splits NDJSON text into parsed lines without building an array of all lines. */
function* ndjsonLines(
  text: string,
): Generator<{ line: number; value: unknown } | { line: number; error: string }> {
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === '') continue;
    try {
      yield { line, value: JSON.parse(raw) };
    } catch {
      yield { line, error: 'not valid JSON' };
    }
  }
}

/**
 * `POST /api/manage/tenants/{tid}/import`: NDJSON, one object a line, written in transactions as it is read. Bad
 * lines are reported by line number and skipped — or, with `?atomic=true`, any bad line refuses the whole import
 * before anything is written.
 */
export const manageImport: Partial<Record<string, ManageHandler>> = {
  POST: async (request, ctx, _baseUrl, ids) => {
    const tenantId = tenantIdOf(request);
    await getTenant(ctx, tenantId);
    const type = request.headers.get('content-type') ?? '';
    if (
      !/^(application\/(x-)?ndjson|application\/jsonl|application\/x-jsonlines|text\/plain)\b/i.test(type)
    ) {
      throw new GraphError(
        415,
        'UnsupportedMediaType',
        'Send the import as application/x-ndjson: one JSON object per line.',
      );
    }
    const text = (
      await readBody(
        request,
        IMPORT_BODY_LIMIT,
        () => new GraphError(413, 'RequestEntityTooLarge', 'The import is larger than 200 MB; split it.'),
      )
    ).toString('utf8');
    if (text.trim().length === 0) throw badRequest('The import is empty: send one JSON object per line.');
    const atomic = new URL(request.url).searchParams.get('atomic') === 'true';
    const lineErrors: { line: number; message: string }[] = [];
    if (atomic) {
      for (const item of ndjsonLines(text)) {
        if ('error' in item) lineErrors.push({ line: item.line, message: item.error });
        else {
          const parsed = importLine.safeParse(item.value);
          if (!parsed.success)
            lineErrors.push({ line: item.line, message: parsed.error.issues[0]?.message ?? 'invalid' });
        }
        if (lineErrors.length >= 100) break;
      }
      if (lineErrors.length > 0) {
        // Graph's envelope, with the bad lines beside it.
        const message = 'The import was refused: some lines are not valid; nothing was written.';
        return {
          status: 400,
          body: { ...errorBody('Request_BadRequest', message, ids), errors: lineErrors },
        };
      }
    }
    const started = Date.now();
    const result = await importDirectory(
      ctx,
      tenantId,
      (async function* () {
        for (const item of ndjsonLines(text)) {
          if ('error' in item) lineErrors.push({ line: item.line, message: item.error });
          else yield item;
        }
      })(),
    );
    return {
      status: 200,
      body: {
        users: result.users,
        groups: result.groups,
        devices: result.devices,
        members: result.members,
        errors: [
          ...lineErrors,
          ...result.errors.map((error) => ({ line: error.line, message: importLineErrorText(error) })),
        ].sort((a, b) => a.line - b.line),
        seconds: (Date.now() - started) / 1000,
      },
    };
  },
};
