import { listSubscriptions } from '../../application/tenants.js';
import { waitingMemberSchema } from '../../contract/graph.js';
import { notFound } from '../envelope.js';
import { parseFilter, parseSelect, project } from '../odata.js';
import { type ApiRequest, type GraphContext, type GraphRoute, ok } from '../routing.js';
import { ACCESS } from '../tokens.js';
import { allotmentJson, assignmentErrorsJson, usageRightsJson, waitingMemberJson } from './shapes.js';
import { loadUser } from './users.js';
import { skuOfSubscribedSkuId, waitingRoomPage } from './waiting-room.js';

// Graph beta's cloudLicensing views (microsoft.graph.cloudLicensing), read-only, over this service's own state and
// served on v1.0 as extensions (api.md "cloudLicensing (beta shape)"). `v1.0/admin/...` is a route the Functions
// runtime accepts: it reserves routes *beginning* with `admin`, and these begin with `v1.0`.

const WAITING_MEMBER_PROPERTIES = Object.keys(waitingMemberSchema.shape);

/** `admin/cloudLicensing/allotments`: one allotment per subscribed SKU, in skuId order. */
async function allotments(request: ApiRequest, context: GraphContext) {
  // No $filter form is understood here: refused rather than ignored.
  parseFilter(request.query, []);
  const tenantId = context.caller.tenantId;
  const subs = await listSubscriptions(context.app, tenantId);
  return ok(
    { value: subs.map((sub) => allotmentJson(context.app.catalog, tenantId, sub)) },
    'admin/cloudLicensing/allotments',
    context.serviceRoot,
  );
}

/** `admin/cloudLicensing/allotments/{id}`: `{id}` is the subscribedSku's id (`{tenantId}_{skuId}`) or the skuId. */
async function allotment(request: ApiRequest, context: GraphContext) {
  const id = request.params.id ?? '';
  const tenantId = context.caller.tenantId;
  const sku = skuOfSubscribedSkuId(id, context);
  const sub = (await listSubscriptions(context.app, tenantId)).find((s) => s.skuId === sku.skuId);
  if (!sub) throw notFound(id);
  return ok(
    allotmentJson(context.app.catalog, tenantId, sub),
    'admin/cloudLicensing/allotments/$entity',
    context.serviceRoot,
  );
}

/**
 * `admin/cloudLicensing/allotments/{id}/waitingMembers`: the SKU's waiting room in the order healing grants seats,
 * read and paged by the same code as the `waitingPrincipals` extension.
 */
async function waitingMembers(request: ApiRequest, context: GraphContext) {
  parseFilter(request.query, []);
  const selected = parseSelect(request.query, 'waitingMember', WAITING_MEMBER_PROPERTIES);
  const room = await waitingRoomPage(request, context, request.params.id ?? '');
  return ok(
    {
      '@odata.count': room.count,
      ...(room.nextLink ? { '@odata.nextLink': room.nextLink } : {}),
      value: room.waiters.map(({ waiter, principal }) =>
        project(waitingMemberJson(principal, waiter.waitingSince), selected, WAITING_MEMBER_PROPERTIES),
      ),
    },
    `admin/cloudLicensing/allotments('${context.caller.tenantId}_${room.sku.skuId}')/waitingMembers`,
    context.serviceRoot,
  );
}

/** `users/{id}/cloudLicensing/usageRights`: per effective SKU, the plans the user may use. */
async function usageRights(request: ApiRequest, context: GraphContext) {
  const user = await loadUser(request, context);
  return ok(
    { value: usageRightsJson(context.app.catalog, user) },
    `users('${user.id}')/cloudLicensing/usageRights`,
    context.serviceRoot,
  );
}

/** `users/{id}/cloudLicensing/assignmentErrors`: the user's license sources in error, as Graph beta codes them. */
async function assignmentErrors(request: ApiRequest, context: GraphContext) {
  const user = await loadUser(request, context);
  return ok(
    { value: assignmentErrorsJson(context.app.catalog, user) },
    `users('${user.id}')/cloudLicensing/assignmentErrors`,
    context.serviceRoot,
  );
}

export const cloudLicensingRoutes: readonly GraphRoute[] = [
  {
    name: 'graphCloudLicensingAllotments',
    template: 'admin/cloudLicensing/allotments',
    handlers: { GET: { permissions: ACCESS.readOrganization, handle: allotments } },
  },
  {
    name: 'graphCloudLicensingAllotment',
    template: 'admin/cloudLicensing/allotments/{id}',
    handlers: { GET: { permissions: ACCESS.readOrganization, handle: allotment } },
  },
  {
    name: 'graphCloudLicensingWaitingMembers',
    template: 'admin/cloudLicensing/allotments/{id}/waitingMembers',
    handlers: { GET: { permissions: ACCESS.readOrganization, handle: waitingMembers } },
  },
  {
    name: 'graphUserUsageRights',
    template: 'users/{id}/cloudLicensing/usageRights',
    handlers: { GET: { permissions: ACCESS.readUsers, handle: usageRights } },
  },
  {
    name: 'graphUserAssignmentErrors',
    template: 'users/{id}/cloudLicensing/assignmentErrors',
    handlers: { GET: { permissions: ACCESS.readUsers, handle: assignmentErrors } },
  },
];
