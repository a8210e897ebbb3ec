// The membership webhook: Graph change notifications (validation handshake, clientState, 202 and queue).
import { app } from '@azure/functions';
import { receiveNotifications } from '../src/api/webhook.js';

app.http('graphWebhook', {
  route: 'webhooks/graph',
  methods: ['POST', 'GET'],
  authLevel: 'anonymous',
  handler: receiveNotifications,
});
