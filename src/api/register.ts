import { app, type HttpMethod } from '@azure/functions';
import { graphFunction } from './http-adapter.js';
import type { GraphRoute } from './routing.js';

/**
 * Registers Graph routes as HTTP-triggered functions under `/api/v1.0`. They are anonymous to the Functions host:
 * callers authenticate with a bearer token, checked by the handler (the same locally and in Azure).
 */
export function registerGraphRoutes(routes: readonly GraphRoute[]): void {
  for (const route of routes) {
    app.http(route.name, {
      route: `v1.0/${route.template}`,
      methods: Object.keys(route.handlers) as HttpMethod[],
      authLevel: 'anonymous',
      handler: graphFunction(route),
    });
  }
}
