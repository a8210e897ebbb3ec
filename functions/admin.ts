// The admin API (x-functions-key: ADMIN_API_KEY): tenants, subscriptions, tokens, the catalog, bulk import.
import { app } from '@azure/functions';
import {
  adminActivity,
  adminCatalog,
  adminFunction,
  adminImport,
  adminSubscription,
  adminSubscriptions,
  adminTenant,
  adminTenants,
  adminTokens,
} from '../src/api/admin.js';

const routes = [
  { name: 'adminTenants', route: 'admin/tenants', handlers: adminTenants },
  { name: 'adminTenant', route: 'admin/tenants/{tid}', handlers: adminTenant },
  { name: 'adminSubscriptions', route: 'admin/tenants/{tid}/subscriptions', handlers: adminSubscriptions },
  {
    name: 'adminSubscription',
    route: 'admin/tenants/{tid}/subscriptions/{sku}',
    handlers: adminSubscription,
  },
  { name: 'adminTokens', route: 'admin/tenants/{tid}/tokens', handlers: adminTokens },
  { name: 'adminImport', route: 'admin/tenants/{tid}/import', handlers: adminImport },
  { name: 'adminActivity', route: 'admin/tenants/{tid}/activity', handlers: adminActivity },
  { name: 'adminCatalog', route: 'admin/catalog', handlers: adminCatalog },
];

for (const { name, route, handlers } of routes) {
  app.http(name, {
    route,
    methods: Object.keys(handlers) as ('GET' | 'POST' | 'PUT' | 'PATCH')[],
    authLevel: 'anonymous',
    handler: adminFunction(handlers),
  });
}
