// A small alert receiver for local runs, the simulator and the tests: answers Graph's validation handshake, checks
// each delivery's HMAC signature against the secret it is given, remembers the notifications (once per delivery id:
// deliveries are at least once), and can be told to fail — the next n deliveries, or all of them.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly signatureValid: boolean;
  /** The X-Alert-Signature header as sent. */
  readonly signature: string;
  readonly body: string;
  readonly notifications: readonly ReceivedNotification[];
}

export interface ReceivedNotification {
  readonly subscriptionId: string;
  readonly clientState: string | null;
  readonly changeType: string;
  readonly resource: string;
  readonly tenantId: string;
  readonly resourceData: Readonly<Record<string, unknown>> & { readonly kind?: string };
}

export interface AlertReceiver {
  /** http://127.0.0.1:port/alerts */
  readonly url: string;
  /** Deliveries accepted (2xx), first attempt that succeeded per delivery id. */
  readonly deliveries: ReceivedDelivery[];
  /** Every POST that carried notifications, failed ones included. */
  readonly attempts: ReceivedDelivery[];
  /** Every handshake token echoed. */
  readonly handshakes: string[];
  /** The notifications accepted, flattened. */
  notifications(): ReceivedNotification[];
  /** The secret deliveries are checked against (from the subscription's create answer). */
  secret: string | undefined;
  /** Fail this many deliveries (503) before accepting again. */
  failNext: number;
  /** Fail every delivery. */
  failAlways: boolean;
  /** Answer the handshake wrongly (the subscription's create must fail). */
  refuseHandshake: boolean;
  close(): Promise<void>;
}

function signatureOk(secret: string | undefined, body: string, header: string | undefined): boolean {
  if (!secret || !header) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`);
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

async function readAll(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startAlertReceiver(): Promise<AlertReceiver> {
  const seen = new Set<string>();
  const receiver: AlertReceiver & { server?: Server } = {
    url: '',
    deliveries: [],
    attempts: [],
    handshakes: [],
    notifications: () => receiver.deliveries.flatMap((d) => d.notifications),
    secret: undefined,
    failNext: 0,
    failAlways: false,
    refuseHandshake: false,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = await readAll(request);
      const token = url.searchParams.get('validationToken');
      if (token !== null) {
        receiver.handshakes.push(token);
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(receiver.refuseHandshake ? 'no' : token);
        return;
      }
      const header = request.headers['x-alert-signature'];
      let notifications: ReceivedNotification[] = [];
      try {
        notifications = (JSON.parse(body) as { value: ReceivedNotification[] }).value;
      } catch {
        response.writeHead(400).end();
        return;
      }
      const delivery: ReceivedDelivery = {
        deliveryId: String(request.headers['x-alert-delivery-id'] ?? ''),
        attempt: Number(request.headers['x-alert-attempt'] ?? 0),
        signatureValid: signatureOk(receiver.secret, body, typeof header === 'string' ? header : undefined),
        signature: typeof header === 'string' ? header : '',
        body,
        notifications,
      };
      receiver.attempts.push(delivery);
      if (receiver.failAlways || receiver.failNext > 0) {
        if (receiver.failNext > 0) receiver.failNext--;
        response.writeHead(503).end();
        return;
      }
      if (!seen.has(delivery.deliveryId)) {
        seen.add(delivery.deliveryId);
        receiver.deliveries.push(delivery);
      }
      response.writeHead(202).end();
    })().catch(() => response.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, { url: `http://127.0.0.1:${port}/alerts` });
}
