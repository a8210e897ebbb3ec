import { getPrincipal } from '../../application/directory.js';
import { listUsers } from '../../application/queries.js';
import { hardDeleteUser, restoreUser } from '../../application/user-licensing.js';
import { GUID_PATTERN } from '../../engine/ids.js';
import { notFound } from '../envelope.js';
import { parseFilter, parseSelect, project } from '../odata.js';
import { type ApiRequest, type GraphContext, type GraphRoute, noContent, ok } from '../routing.js';
import { ACCESS } from '../tokens.js';
import { pageOf } from './listing.js';
import { USER_DEFAULTS, USER_PROPERTIES, userJson } from './shapes.js';
import { USER_FILTERS, userConditions } from './users.js';

const DELETED_DEFAULTS = [...USER_DEFAULTS, 'deletedDateTime'];

async function loadDeleted(request: ApiRequest, context: GraphContext) {
  const id = request.params.id ?? '';
  if (!GUID_PATTERN.test(id)) throw notFound(id);
  const user = await getPrincipal(context.app, context.caller.tenantId, id.toLowerCase(), 'user', {
    includeDeleted: true,
  });
  if (user.deletedDateTime === null) throw notFound(id);
  return user;
}

async function listDeletedUsers(request: ApiRequest, context: GraphContext) {
  const tenantId = context.caller.tenantId;
  const selected = parseSelect(request.query, 'user', USER_PROPERTIES);
  const query = { deleted: true, conditions: userConditions(parseFilter(request.query, USER_FILTERS)) };
  const page = await pageOf(request, tenantId, `deletedUsers|${JSON.stringify(query)}`, (at) =>
    listUsers(context.app, tenantId, query, at),
  );
  return ok(
    {
      ...(page.nextLink ? { '@odata.nextLink': page.nextLink } : {}),
      value: page.items.map((user) =>
        project(userJson(context.app.catalog, user), selected, DELETED_DEFAULTS),
      ),
    },
    'directoryObjects',
    context.serviceRoot,
  );
}

async function getDeleted(request: ApiRequest, context: GraphContext) {
  const selected = parseSelect(request.query, 'user', USER_PROPERTIES);
  const user = await loadDeleted(request, context);
  return ok(
    {
      '@odata.type': '#microsoft.graph.user',
      ...project(userJson(context.app.catalog, user), selected, DELETED_DEFAULTS),
    },
    'directoryObjects/$entity',
    context.serviceRoot,
  );
}

async function hardDelete(request: ApiRequest, context: GraphContext) {
  const user = await loadDeleted(request, context);
  await hardDeleteUser(context.app, context.caller.tenantId, user.id);
  return noContent;
}

async function restore(request: ApiRequest, context: GraphContext) {
  const user = await loadDeleted(request, context);
  const restored = await restoreUser(context.app, context.caller.tenantId, user.id);
  return ok(
    {
      '@odata.type': '#microsoft.graph.user',
      ...project(userJson(context.app.catalog, restored), undefined, USER_DEFAULTS),
    },
    'directoryObjects/$entity',
    context.serviceRoot,
  );
}

export const directoryRoutes: readonly GraphRoute[] = [
  {
    name: 'graphDeletedUsers',
    template: 'directory/deletedItems/microsoft.graph.user',
    handlers: { GET: { permissions: ACCESS.readUsers, handle: listDeletedUsers } },
  },
  {
    name: 'graphDeletedItem',
    template: 'directory/deletedItems/{id}',
    handlers: {
      GET: { permissions: ACCESS.readUsers, handle: getDeleted },
      DELETE: { permissions: ACCESS.writeUsers, handle: hardDelete },
    },
  },
  {
    name: 'graphDeletedItemRestore',
    template: 'directory/deletedItems/{id}/restore',
    handlers: { POST: { permissions: ACCESS.writeUsers, handle: restore } },
  },
];
