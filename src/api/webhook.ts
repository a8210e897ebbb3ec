import { timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { appContext } from '../application/context.js';
import type { Change, ChangesMessage } from '../application/messages.js';
import { findTenant } from '../application/tenants.js';
import { GUID_PATTERN, isGuid } from '../engine/ids.js';
import { badRequest, GraphError, requestIds, toErrorResponse } from './envelope.js';
import { changeNotificationCollectionSchema, type changeNotificationSchema } from './graph/wire.js';
import { parseJsonBody, readBody, toHttpResponse } from './http-adapter.js';

const WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024;
/** Changes per queue message (well under the 64 KiB message limit). */
const CHANGES_PER_MESSAGE = 300;

const removed = z.union([z.string(), z.object({ reason: z.string() }).passthrough()]);
const memberDelta = z
  .object({ id: z.string().regex(GUID_PATTERN), '@removed': removed.optional() })
  .passthrough();
type Notification = z.infer<typeof changeNotificationSchema>;

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Reads the `@removed` marker in both forms Graph uses: `"deleted"` (notifications) or `{ reason }` (delta). */
function removalReason(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'reason' in value && typeof value.reason === 'string') {
    return value.reason;
  }
  return undefined;
}

/** The directory changes one notification describes (rules: api.md "Membership webhook"). */
export function changesOf(item: Notification): Change[] {
  const resource = item.resource ?? '';
  const data = item.resourceData ?? {};
  const sequence = typeof data.sequenceNumber === 'number' ? data.sequenceNumber : undefined;
  const eventTime = typeof data.eventTime === 'string' ? data.eventTime : undefined;
  const order = {
    ...(sequence === undefined ? {} : { sequence }),
    ...(eventTime === undefined ? {} : { eventTime }),
  };
  const group = /^\/?groups\/([0-9a-fA-F-]{36})$/i.exec(resource);
  if (group?.[1] && isGuid(group[1])) {
    const deltas = z
      .array(memberDelta)
      .max(5000)
      .safeParse(data['members@delta'] ?? []);
    if (!deltas.success)
      throw badRequest(`members@delta of ${resource} is not a list of { id, @removed? } objects.`);
    return deltas.data.map((delta) => ({
      type: 'member' as const,
      op: delta['@removed'] === undefined ? ('add' as const) : ('remove' as const),
      groupId: (group[1] ?? '').toLowerCase(),
      memberId: delta.id.toLowerCase(),
      ...order,
    }));
  }
  const user = /^\/?users\/([0-9a-fA-F-]{36})$/i.exec(resource);
  if (user?.[1] && isGuid(user[1])) {
    const userId = user[1].toLowerCase();
    if (item.changeType === 'deleted') {
      const reason = removalReason(data['@removed']) ?? 'deleted';
      return [{ type: 'user', op: reason === 'changed' ? 'softDelete' : 'hardDelete', userId, ...order }];
    }
    // An update for a soft-deleted user is its restore; for anyone else it changes nothing we mirror.
    if (item.changeType === 'updated') return [{ type: 'user', op: 'restore', userId, ...order }];
  }
  return [];
}

/**
 * `POST /api/webhooks/graph`: the validation handshake, then change notification batches. Every notification's
 * `clientState` must be its tenant's; if any is not, the whole request gets 403 and nothing is queued. Accepted
 * batches are persisted to the changes queue and answered 202 at once; all work happens on the queue.
 */
export async function receiveNotifications(
  request: HttpRequest,
  invocation: InvocationContext,
): Promise<HttpResponseInit> {
  const ids = requestIds(request.headers.get('client-request-id'));
  try {
    const token = new URL(request.url).searchParams.get('validationToken');
    if (token !== null)
      return { status: 200, body: token, headers: { 'content-type': 'text/plain; charset=utf-8' } };

    const body = await readBody(
      request,
      WEBHOOK_BODY_LIMIT,
      () => new GraphError(413, 'RequestEntityTooLarge', 'The change notification batch is too large.'),
    );
    const parsed = changeNotificationCollectionSchema.safeParse(
      parseJsonBody(body, request.headers.get('content-type')),
    );
    if (!parsed.success)
      throw badRequest('The body is not a change notification collection ({ "value": [ ... ] }).');

    const ctx = await appContext();
    const secrets = new Map<string, string | undefined>();
    for (const item of parsed.data.value) {
      const tenantId = item.tenantId.toLowerCase();
      if (!secrets.has(tenantId)) secrets.set(tenantId, (await findTenant(ctx, tenantId))?.clientState);
      const expected = secrets.get(tenantId);
      if (
        expected === undefined ||
        typeof item.clientState !== 'string' ||
        !sameSecret(item.clientState, expected)
      ) {
        throw new GraphError(
          403,
          'Authorization_RequestDenied',
          'A change notification carries a clientState that does not match its tenant.',
        );
      }
    }

    const byTenant = new Map<string, Change[]>();
    for (const item of parsed.data.value) {
      if (item.lifecycleEvent !== undefined) {
        invocation.log(
          `Lifecycle notification '${item.lifecycleEvent}' for subscription ${item.subscriptionId ?? '?'} acknowledged`,
        );
        continue;
      }
      const tenantId = item.tenantId.toLowerCase();
      byTenant.set(tenantId, [...(byTenant.get(tenantId) ?? []), ...changesOf(item)]);
    }
    for (const [tenantId, changes] of byTenant) {
      for (let i = 0; i < changes.length; i += CHANGES_PER_MESSAGE) {
        const message: ChangesMessage = {
          kind: 'changes',
          tenantId,
          origin: 'webhook',
          changes: changes.slice(i, i + CHANGES_PER_MESSAGE),
        };
        await ctx.queues.send('changes', message);
      }
    }
    return { status: 202, headers: { 'request-id': ids.requestId } };
  } catch (error: unknown) {
    return toHttpResponse(
      toErrorResponse(error, ids, (m) => invocation.error(m)),
      ids,
    );
  }
}
