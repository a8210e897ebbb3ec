import { createUser, findUser, updateUser } from '../../application/directory.js';
import { userProfileOf } from '../../application/profile.js';
import { countUsers, listUsers, type UserCondition } from '../../application/queries.js';
import { suspendedSkus } from '../../application/tenants.js';
import { assignUserLicenses, reprocessUser, softDeleteUser } from '../../application/user-licensing.js';
import { GUID_PATTERN } from '../../engine/ids.js';
import { notFound, unsupportedQuery } from '../envelope.js';
import {
  describeClause,
  type FilterClause,
  parseFilter,
  parseSelect,
  project,
  textCondition,
  wantsCount,
} from '../odata.js';
import { type ApiRequest, type GraphContext, type GraphRoute, noContent, ok } from '../routing.js';
import { ACCESS } from '../tokens.js';
import { parseAssignLicense, parseBody } from './body.js';
import { pageOf } from './listing.js';
import { licenseDetailsJson, USER_DEFAULTS, USER_PROPERTIES, userJson } from './shapes.js';
import { newUserSchema, userPatchSchema } from './wire.js';

/** Properties users can be filtered on (api.md's forms, plus userPrincipalName eq). */
export const USER_FILTERS = [
  'assignedLicenses',
  'usageLocation',
  'accountEnabled',
  'displayName',
  'userPrincipalName',
];

/** The conditions of a user listing's `$filter` (api.md's forms; anything else is refused, never ignored). */
export function userConditions(clauses: readonly FilterClause[]): UserCondition[] {
  return clauses.map((clause): UserCondition => {
    if (clause.kind === 'anyAssignedLicense') return { property: 'assignedLicenses', skuId: clause.skuId };
    if (clause.kind === 'eq' && clause.property === 'usageLocation' && typeof clause.value === 'string')
      return { property: 'usageLocation', equals: clause.value };
    if (clause.kind === 'eq' && clause.property === 'accountEnabled' && typeof clause.value === 'boolean')
      return { property: 'accountEnabled', equals: clause.value };
    if (clause.kind === 'eq' && clause.property === 'userPrincipalName' && typeof clause.value === 'string')
      return { property: 'userPrincipalName', equals: clause.value };
    const displayName = textCondition(clause, 'displayName');
    if (displayName) return { property: 'displayName', ...displayName };
    throw unsupportedQuery(
      `Unsupported or invalid query filter clause specified for users: ${describeClause(clause)}.`,
    );
  });
}

/** Suspended subscriptions' SKUs, read only when `assignedPlans` is asked for (it is select-only). */
async function suspendedFor(context: GraphContext, selected: ReadonlySet<string> | undefined) {
  return selected?.has('assignedPlans')
    ? suspendedSkus(context.app, context.caller.tenantId)
    : new Set<string>();
}

async function getUsers(request: ApiRequest, context: GraphContext) {
  const tenantId = context.caller.tenantId;
  const selected = parseSelect(request.query, 'user', USER_PROPERTIES);
  const query = { deleted: false, conditions: userConditions(parseFilter(request.query, USER_FILTERS)) };
  const count = wantsCount(request.query, request.headers);
  const suspended = await suspendedFor(context, selected);
  const page = await pageOf(request, tenantId, `users|${JSON.stringify(query)}`, (at) =>
    listUsers(context.app, tenantId, query, at),
  );
  return ok(
    {
      ...(count ? { '@odata.count': await countUsers(context.app, tenantId, query) } : {}),
      ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}),
      value: page.items.map((user) =>
        project(userJson(context.app.catalog, user, suspended), selected, USER_DEFAULTS),
      ),
    },
    'users',
    context.serviceRoot,
  );
}

async function postUser(request: ApiRequest, context: GraphContext) {
  const input = parseBody(newUserSchema, await request.json(), 'User');
  const user = await createUser(context.app, context.caller.tenantId, {
    userPrincipalName: input.userPrincipalName,
    displayName: input.displayName,
    mailNickname: input.mailNickname,
    accountEnabled: input.accountEnabled,
    usageLocation: input.usageLocation ?? null,
    department: input.department ?? null,
    proxyAddresses: input.proxyAddresses ?? [],
    profile: userProfileOf(input),
  });
  return ok(
    project(userJson(context.app.catalog, user), undefined, USER_DEFAULTS),
    'users/$entity',
    context.serviceRoot,
    201,
  );
}

async function getUser(request: ApiRequest, context: GraphContext) {
  const selected = parseSelect(request.query, 'user', USER_PROPERTIES);
  const user = await loadUser(request, context);
  const suspended = await suspendedFor(context, selected);
  return ok(
    project(userJson(context.app.catalog, user, suspended), selected, USER_DEFAULTS),
    'users/$entity',
    context.serviceRoot,
  );
}

async function patchUser(request: ApiRequest, context: GraphContext) {
  const patch = parseBody(userPatchSchema, await request.json(), 'User');
  const user = await loadUser(request, context);
  await updateUser(context.app, context.caller.tenantId, user.id, {
    ...(patch.accountEnabled === undefined ? {} : { accountEnabled: patch.accountEnabled }),
    ...(patch.displayName === undefined ? {} : { displayName: patch.displayName }),
    ...(patch.mailNickname === undefined ? {} : { mailNickname: patch.mailNickname }),
    ...(patch.userPrincipalName === undefined ? {} : { userPrincipalName: patch.userPrincipalName }),
    ...(patch.usageLocation === undefined ? {} : { usageLocation: patch.usageLocation }),
    ...(patch.department === undefined ? {} : { department: patch.department }),
    ...(patch.proxyAddresses === undefined ? {} : { proxyAddresses: patch.proxyAddresses }),
    profile: userProfileOf(patch),
  });
  return noContent;
}

async function deleteUser(request: ApiRequest, context: GraphContext) {
  const user = await loadUser(request, context);
  await softDeleteUser(context.app, context.caller.tenantId, user.id);
  return noContent;
}

const UPN_PATTERN = /^[^@\s/\\#?']+@[^@\s/\\#?']+$/;

/** `/users/{id | userPrincipalName}`: anything that is neither is simply not found (never sent to storage). */
function userKey(request: ApiRequest): string {
  const id = request.params.id ?? '';
  if (!GUID_PATTERN.test(id) && !UPN_PATTERN.test(id)) throw notFound(id);
  return id;
}

export async function loadUser(request: ApiRequest, context: GraphContext) {
  return findUser(context.app, context.caller.tenantId, userKey(request));
}

// The license use cases read the user themselves (by id or user principal name, 404 when there is none), so these
// handlers check only the key's form: reading the row here too cost each request a storage round trip.
async function assignLicense(request: ApiRequest, context: GraphContext) {
  const body = parseAssignLicense(await request.json());
  const updated = await assignUserLicenses(context.app, context.caller.tenantId, userKey(request), body);
  return ok(
    project(userJson(context.app.catalog, updated), undefined, USER_DEFAULTS),
    'users/$entity',
    context.serviceRoot,
  );
}

async function reprocess(request: ApiRequest, context: GraphContext) {
  const updated = await reprocessUser(context.app, context.caller.tenantId, userKey(request));
  return ok(
    project(userJson(context.app.catalog, updated), undefined, USER_DEFAULTS),
    'users/$entity',
    context.serviceRoot,
  );
}

async function licenseDetails(request: ApiRequest, context: GraphContext) {
  const user = await loadUser(request, context);
  return ok(
    { value: licenseDetailsJson(context.app.catalog, user) },
    `users('${user.id}')/licenseDetails`,
    context.serviceRoot,
  );
}

export const userRoutes: readonly GraphRoute[] = [
  {
    name: 'graphUsers',
    template: 'users',
    handlers: {
      GET: { permissions: ACCESS.readUsers, handle: getUsers },
      POST: { permissions: ACCESS.writeUsers, handle: postUser },
    },
  },
  {
    name: 'graphUser',
    template: 'users/{id}',
    handlers: {
      GET: { permissions: ACCESS.readUsers, handle: getUser },
      PATCH: { permissions: ACCESS.writeUsers, handle: patchUser },
      DELETE: { permissions: ACCESS.writeUsers, handle: deleteUser },
    },
  },
  {
    name: 'graphUserAssignLicense',
    template: 'users/{id}/assignLicense',
    handlers: { POST: { permissions: ACCESS.assignUserLicenses, handle: assignLicense } },
  },
  {
    name: 'graphUserReprocess',
    template: 'users/{id}/reprocessLicenseAssignment',
    handlers: { POST: { permissions: ACCESS.assignUserLicenses, handle: reprocess } },
  },
  {
    name: 'graphUserLicenseDetails',
    template: 'users/{id}/licenseDetails',
    handlers: { GET: { permissions: ACCESS.readUsers, handle: licenseDetails } },
  },
];
