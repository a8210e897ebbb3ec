// The operator API at /api/manage (x-functions-key: ADMIN_API_KEY): tenants, subscriptions, tokens, the catalog,
// bulk import. Not /api/admin: the Functions runtime reserves routes beginning with "admin" (docs/host.md).
import { app } from '@azure/functions';
import {
  manageActivity,
  manageCatalog,
  manageFunction,
  manageImport,
  manageSubscription,
  manageSubscriptions,
  manageTenant,
  manageTenants,
  manageTokens,
} from '../src/api/manage.js';

const routes = [
  { name: 'manageTenants', route: 'manage/tenants', handlers: manageTenants },
  { name: 'manageTenant', route: 'manage/tenants/{tid}', handlers: manageTenant },
  { name: 'manageSubscriptions', route: 'manage/tenants/{tid}/subscriptions', handlers: manageSubscriptions },
  {
    name: 'manageSubscription',
    route: 'manage/tenants/{tid}/subscriptions/{sku}',
    handlers: manageSubscription,
  },
  { name: 'manageTokens', route: 'manage/tenants/{tid}/tokens', handlers: manageTokens },
  { name: 'manageImport', route: 'manage/tenants/{tid}/import', handlers: manageImport },
  { name: 'manageActivity', route: 'manage/tenants/{tid}/activity', handlers: manageActivity },
  { name: 'manageCatalog', route: 'manage/catalog', handlers: manageCatalog },
];

for (const { name, route, handlers } of routes) {
  app.http(name, {
    route,
    methods: Object.keys(handlers) as ('GET' | 'POST' | 'PUT' | 'PATCH')[],
    authLevel: 'anonymous',
    handler: manageFunction(handlers),
  });
}
