// GET /api/health: does table storage answer, does queue storage answer? 200 when both do, else 503.
import { app, type HttpResponseInit } from '@azure/functions';
import { probeStorage } from '../src/application/health.js';

app.http('health', {
  methods: ['GET'],
  authLevel: 'anonymous',
  route: 'health',
  handler: async (): Promise<HttpResponseInit> => {
    const { healthy, table, queue } = await probeStorage();
    return {
      status: healthy ? 200 : 503,
      jsonBody: { status: healthy ? 'healthy' : 'unhealthy', table, queue },
      headers: { 'cache-control': 'no-store' },
    };
  },
});
