// GET /api/console/: the Licenses console, a page that works only through the Graph-compatible and operator APIs.
import { app } from '@azure/functions';
import { serveConsole } from '../src/api/console-assets.js';

app.http('console', {
  route: 'console/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: serveConsole,
});
