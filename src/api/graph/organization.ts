import { type AuditCondition, listAudits } from '../../application/queries.js';
import { listSubscriptions } from '../../application/tenants.js';
import { type DirectoryAudit, licenseSummarySchema, waitingPrincipalSchema } from '../../contract/graph.js';
import { notFound, unsupportedQuery } from '../envelope.js';
import { describeClause, parseFilter, parseSelect, project, textCondition } from '../odata.js';
import { type ApiRequest, type GraphContext, type GraphRoute, ok } from '../routing.js';
import { ACCESS } from '../tokens.js';
import { pageOf } from './listing.js';
import { licenseSummaryJson, subscribedSkuJson, waitingPrincipalJson } from './shapes.js';
import { skuOfSubscribedSkuId, waitingRoomPage } from './waiting-room.js';

const WAITING_PRINCIPAL_PROPERTIES = Object.keys(waitingPrincipalSchema.shape);
const LICENSE_SUMMARY_PROPERTIES = Object.keys(licenseSummarySchema.shape);

async function subscribedSkus(_request: ApiRequest, context: GraphContext) {
  const subs = await listSubscriptions(context.app, context.caller.tenantId);
  return ok(
    { value: subs.map((s) => subscribedSkuJson(context.app.catalog, context.caller.tenantId, s)) },
    'subscribedSkus',
    context.serviceRoot,
  );
}

/**
 * Extension: `subscribedSkus/{id}/waitingPrincipals`, the SKU's waiting room first come first served, each waiter
 * named and with its 1-based place in the queue; `@odata.count` (everyone waiting) on every page.
 */
async function waitingPrincipals(request: ApiRequest, context: GraphContext) {
  // No $filter form is understood here: refused rather than ignored.
  parseFilter(request.query, []);
  const selected = parseSelect(request.query, 'waitingPrincipal', WAITING_PRINCIPAL_PROPERTIES);
  const room = await waitingRoomPage(request, context, request.params.id ?? '');
  return ok(
    {
      '@odata.count': room.count,
      ...(room.nextLink ? { '@odata.nextLink': room.nextLink } : {}),
      value: room.waiters.map(({ waiter, principal, position }) =>
        project(
          waitingPrincipalJson(principal, waiter.waitingSince, position),
          selected,
          WAITING_PRINCIPAL_PROPERTIES,
        ),
      ),
    },
    `subscribedSkus('${context.caller.tenantId}_${room.sku.skuId}')/waitingPrincipals`,
    context.serviceRoot,
  );
}

/**
 * Extension: `subscribedSkus/{id}/licenseSummary`, the Licenses page's numbers (Total, Assigned, Available,
 * Expiring soon; rules.md §1) and the subscription's lifecycle, so no client has to redo the arithmetic.
 */
async function licenseSummaryOf(request: ApiRequest, context: GraphContext) {
  const tenantId = context.caller.tenantId;
  const { skuId } = skuOfSubscribedSkuId(request.params.id ?? '', context);
  const sub = (await listSubscriptions(context.app, tenantId)).find((s) => s.skuId === skuId);
  if (!sub) throw notFound(request.params.id ?? '');
  const selected = parseSelect(request.query, 'licenseSummary', LICENSE_SUMMARY_PROPERTIES);
  return ok(
    project(licenseSummaryJson(context.app.catalog, tenantId, sub), selected, LICENSE_SUMMARY_PROPERTIES),
    `subscribedSkus('${tenantId}_${skuId}')/licenseSummary`,
    context.serviceRoot,
  );
}

/** `directoryAudits`, newest first, with `$filter` on `activityDisplayName` and `activityDateTime`. */
async function directoryAudits(request: ApiRequest, context: GraphContext) {
  const tenantId = context.caller.tenantId;
  const conditions = parseFilter(request.query, ['activityDisplayName', 'activityDateTime']).map(
    (clause): AuditCondition => {
      const activity = textCondition(clause, 'activityDisplayName');
      if (activity) return { property: 'activityDisplayName', ...activity };
      if (clause.kind === 'compare' && clause.property === 'activityDateTime') {
        const time = new Date(clause.value);
        if (Number.isNaN(time.getTime())) {
          throw unsupportedQuery(`'${clause.value}' is not a valid DateTimeOffset for activityDateTime.`);
        }
        return { property: 'activityDateTime', op: clause.op, value: time.toISOString() };
      }
      // Anything else would be answered wrongly (an empty page), so it is refused as Graph does.
      throw unsupportedQuery(
        `Unsupported or invalid query filter clause specified for directoryAudits: ${describeClause(clause)}.`,
      );
    },
  );
  const page = await pageOf(request, tenantId, `audits|${JSON.stringify(conditions)}`, (at) =>
    listAudits(context.app, tenantId, conditions, at),
  );
  // The stored audit record is sent as it is: it must be the contract's directoryAudit.
  const value: readonly DirectoryAudit[] = page.items;
  return ok(
    { ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}), value },
    'auditLogs/directoryAudits',
    context.serviceRoot,
  );
}

export const organizationRoutes: readonly GraphRoute[] = [
  {
    name: 'graphSubscribedSkus',
    template: 'subscribedSkus',
    handlers: { GET: { permissions: ACCESS.readOrganization, handle: subscribedSkus } },
  },
  {
    name: 'graphSubscribedSkuWaitingPrincipals',
    template: 'subscribedSkus/{id}/waitingPrincipals',
    handlers: { GET: { permissions: ACCESS.readOrganization, handle: waitingPrincipals } },
  },
  {
    name: 'graphSubscribedSkuLicenseSummary',
    template: 'subscribedSkus/{id}/licenseSummary',
    handlers: { GET: { permissions: ACCESS.readOrganization, handle: licenseSummaryOf } },
  },
  {
    name: 'graphDirectoryAudits',
    template: 'auditLogs/directoryAudits',
    handlers: { GET: { permissions: ACCESS.readDirectory, handle: directoryAudits } },
  },
];
