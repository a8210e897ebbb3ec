import type { WaitingPrincipal } from '../../application/ports.js';
import { waitersWithPrincipals, waitingRoom } from '../../application/queries.js';
import type { PrincipalRecord } from '../../application/records.js';
import { GUID_TEXT } from '../../engine/ids.js';
import type { Sku } from '../../engine/index.js';
import { notFound } from '../envelope.js';
import type { ApiRequest, GraphContext } from '../routing.js';
import { ACCESS, requireAny } from '../tokens.js';
import { pageOfList } from './listing.js';

// A SKU's waiting room is served in two shapes — the `subscribedSkus/{id}/waitingPrincipals` extension and Graph
// beta's `allotments/{id}/waitingMembers` — from this one reading of it, so both list the same queue in the same
// order and page it alike.

/** A subscribedSku id as `subscribedSkus` writes it (`{tenantId}_{skuId}`), or the bare skuId. */
const SUBSCRIBED_SKU_ID = new RegExp(`^(?:(${GUID_TEXT})_)?(${GUID_TEXT})$`, 'i');

/**
 * The SKU a subscribedSku (or allotment) id names: `{tenantId}_{skuId}` or the bare skuId. Another tenant's id, or
 * a SKU not in the catalog, is not found, as any id of another tenant. Whether the tenant subscribes to it is the
 * caller's to check.
 */
export function skuOfSubscribedSkuId(id: string, context: GraphContext): Sku {
  const match = SUBSCRIBED_SKU_ID.exec(id);
  if (!match?.[2] || (match[1] !== undefined && match[1].toLowerCase() !== context.caller.tenantId)) {
    throw notFound(id);
  }
  const sku = context.app.catalog.sku(match[2].toLowerCase());
  if (!sku) throw notFound(id);
  return sku;
}

export interface WaitingRoomPage {
  readonly sku: Sku;
  /** Everyone waiting, on every page. */
  readonly count: number;
  readonly nextLink?: string;
  /** This page's waiters, each with the principal it is and its 1-based place in the queue. */
  readonly waiters: readonly {
    readonly waiter: WaitingPrincipal;
    readonly principal: PrincipalRecord;
    readonly position: number;
  }[];
}

/**
 * One page (`$top`, `$skiptoken`) of the SKU's waiting room, first come first served: exactly the order automatic
 * healing gives seats in (`LicensingQueries.waiters`, read by application/healing.ts). 404 when the tenant has no
 * subscription of the SKU. The answer names users (or devices), so the caller must also be allowed to read those.
 */
export async function waitingRoomPage(
  request: ApiRequest,
  context: GraphContext,
  id: string,
): Promise<WaitingRoomPage> {
  const tenantId = context.caller.tenantId;
  const sku = skuOfSubscribedSkuId(id, context);
  requireAny(context.caller, sku.assignableTo === 'device' ? ACCESS.readDevices : ACCESS.readUsers);
  const queue = await waitingRoom(context.app, tenantId, sku.skuId);
  if (!queue) throw notFound(id);
  const numbered = queue.map((waiter, i) => ({ waiter, position: i + 1 }));
  const page = pageOfList(request, tenantId, numbered, `waiting|${sku.skuId}`);
  const found = await waitersWithPrincipals(
    context.app,
    tenantId,
    page.items.map(({ waiter, position }) => ({ ...waiter, position })),
  );
  return {
    sku,
    count: queue.length,
    ...(page.nextLink ? { nextLink: page.nextLink } : {}),
    waiters: found.map(({ waiter, principal }) => ({ waiter, principal, position: waiter.position })),
  };
}
