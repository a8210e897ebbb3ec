// The operator API at /api/manage (x-functions-key: ADMIN_API_KEY): tenants, subscriptions, tokens, app
// registrations, alerts, the catalog, bulk import. Not /api/admin: the Functions runtime reserves routes beginning with "admin" (docs/host.md).
import { app, type HttpMethod } from '@azure/functions';
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
import { manageAlert, manageAlertDeliveries, manageAlerts } from '../src/api/manage-alerts.js';
import {
  manageApplication,
  manageApplicationAddPassword,
  manageApplicationRemovePassword,
  manageApplications,
} from '../src/api/manage-applications.js';

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
  { name: 'manageApplications', route: 'manage/tenants/{tid}/applications', handlers: manageApplications },
  {
    name: 'manageApplication',
    route: 'manage/tenants/{tid}/applications/{appId}',
    handlers: manageApplication,
  },
  {
    name: 'manageApplicationAddPassword',
    route: 'manage/tenants/{tid}/applications/{appId}/addPassword',
    handlers: manageApplicationAddPassword,
  },
  {
    name: 'manageApplicationRemovePassword',
    route: 'manage/tenants/{tid}/applications/{appId}/removePassword',
    handlers: manageApplicationRemovePassword,
  },
  { name: 'manageAlerts', route: 'manage/tenants/{tid}/alerts', handlers: manageAlerts },
  { name: 'manageAlert', route: 'manage/tenants/{tid}/alerts/{alertId}', handlers: manageAlert },
  {
    name: 'manageAlertDeliveries',
    route: 'manage/tenants/{tid}/alerts/{alertId}/deliveries',
    handlers: manageAlertDeliveries,
  },
  { name: 'manageImport', route: 'manage/tenants/{tid}/import', handlers: manageImport },
  { name: 'manageActivity', route: 'manage/tenants/{tid}/activity', handlers: manageActivity },
  { name: 'manageCatalog', route: 'manage/catalog', handlers: manageCatalog },
];

for (const { name, route, handlers } of routes) {
  app.http(name, {
    route,
    methods: Object.keys(handlers) as HttpMethod[],
    authLevel: 'anonymous',
    handler: manageFunction(handlers),
  });
}
