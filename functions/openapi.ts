// GET /api/openapi.json: the OpenAPI 3 document of the whole HTTP surface.
import { app, type HttpRequest } from '@azure/functions';
import { graphRoutes } from '../src/api/graph-routes.js';
import { openApiDocument } from '../src/api/openapi.js';

export async function serveOpenApi(request: HttpRequest) {
  const url = new URL(request.url);
  const apiRoot = url.pathname.replace(/\/openapi\.json$/i, '');
  return { status: 200, jsonBody: openApiDocument(graphRoutes, `${url.origin}${apiRoot}`) };
}

app.http('openApi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: serveOpenApi,
});
