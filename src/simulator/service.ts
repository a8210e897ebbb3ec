import {
  Client,
  type Context,
  HTTPMessageHandler,
  type Middleware,
  RetryHandler,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import { startAzurite } from '../host/azurite.js';
import { startHost } from '../host/host.js';
import { appRoot } from './app-root.js';

/** A running service the simulator talks to: over HTTP only, like any client. */
export interface ServiceEndpoint {
  /** e.g. http://127.0.0.1:7071 */
  readonly baseUrl: string;
  readonly adminKey: string;
  stop(): Promise<void>;
}

/** Where the service runs and the operator key it takes. */
export type ServiceAddress = Pick<ServiceEndpoint, 'baseUrl' | 'adminKey'>;

export const DEFAULT_ADMIN_KEY = 'dev-admin-key-change-me';

/** Starts Azurite (in memory) and the product's functions in this process, on free ports. */
export async function startEmbeddedService(
  options: { quiet?: boolean; env?: Readonly<Record<string, string>> } = {},
): Promise<ServiceEndpoint> {
  const azurite = await startAzurite({ inMemory: true });
  const adminKey = 'simulator-admin-key';
  try {
    const host = await startHost({
      appDir: appRoot(),
      port: 0,
      createQueues: true,
      logInvocations: false,
      ...(options.quiet === false ? {} : { logSink: () => {} }),
      env: {
        AzureWebJobsStorage: azurite.connectionString,
        ADMIN_API_KEY: adminKey,
        GRAPH_TOKEN_SIGNING_KEY: 'simulator-signing-key-0123456789abcdef0123',
        FUNCTIONS_LOG_INVOCATIONS: 'false',
        STORAGE_PREFIX: 'sim',
        ...options.env,
      },
    });
    return {
      baseUrl: host.url,
      adminKey,
      stop: async () => {
        await host.stop();
        await azurite.stop();
      },
    };
  } catch (error: unknown) {
    await azurite.stop();
    throw error;
  }
}

export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} failed with ${status}: ${body.slice(0, 500)}`);
    this.name = 'ServiceError';
  }
}

export interface TenantInfo {
  readonly id: string;
  readonly displayName: string;
  readonly countryLetterCode: string;
  readonly licenseErrorHealing: 'automatic' | 'manual';
  readonly webhook: { readonly notificationUrl: string; readonly clientState: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`the service returned no ${what}`);
  return value;
}

/** The operator API and the webhook, as plain fetch calls. */
export class OperatorClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  private async call(
    method: string,
    route: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}/api/manage${route}`, {
      method,
      headers: {
        'x-functions-key': this.key,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new ServiceError(response.status, text, `${method} /api/manage${route}`);
    return text === '' ? undefined : JSON.parse(text);
  }

  async createTenant(
    displayName: string,
    countryLetterCode: string,
    healing: 'automatic' | 'manual' = 'automatic',
  ): Promise<TenantInfo> {
    const body = await this.call('POST', '/tenants', {
      displayName,
      countryLetterCode,
      licenseErrorHealing: healing,
    });
    if (!isRecord(body) || !isRecord(body.webhook)) throw new Error('unexpected tenant response');
    const mode = body.licenseErrorHealing === 'manual' ? 'manual' : 'automatic';
    return {
      id: str(body.id, 'tenant id'),
      displayName: str(body.displayName, 'displayName'),
      countryLetterCode: str(body.countryLetterCode, 'countryLetterCode'),
      licenseErrorHealing: mode,
      webhook: {
        notificationUrl: str(body.webhook.notificationUrl, 'notificationUrl'),
        clientState: str(body.webhook.clientState, 'clientState'),
      },
    };
  }

  /** Subscribes a receiver to the tenant's alerts; returns the subscription's id and signing secret. */
  async createAlert(
    tenantId: string,
    kinds: readonly string[],
    notificationUrl: string,
  ): Promise<{ id: string; secret: string }> {
    const body = await this.call('POST', `/tenants/${tenantId}/alerts`, { kinds, notificationUrl });
    if (!isRecord(body)) throw new Error('unexpected alert response');
    return { id: str(body.id, 'alert id'), secret: str(body.secret, 'alert secret') };
  }

  async deleteAlert(tenantId: string, alertId: string): Promise<void> {
    await this.call('DELETE', `/tenants/${tenantId}/alerts/${alertId}`);
  }

  /** The subscription's deliveries of one status (`GET …/alerts/{id}/deliveries?status=`). */
  async alertDeliveries(tenantId: string, alertId: string, status: string): Promise<unknown[]> {
    const body = await this.call('GET', `/tenants/${tenantId}/alerts/${alertId}/deliveries?status=${status}`);
    return isRecord(body) && Array.isArray(body.value) ? body.value : [];
  }

  async setHealing(tenantId: string, healing: 'automatic' | 'manual'): Promise<void> {
    await this.call('PATCH', `/tenants/${tenantId}`, { licenseErrorHealing: healing });
  }

  async setUnits(tenantId: string, sku: string, enabled: number, warning = 0): Promise<void> {
    await this.call('PUT', `/tenants/${tenantId}/subscriptions/${sku}`, {
      prepaidUnits: { enabled, warning },
    });
  }

  async token(tenantId: string, roles?: readonly string[]): Promise<string> {
    const body = await this.call('POST', `/tenants/${tenantId}/tokens`, roles ? { roles } : {});
    if (!isRecord(body)) throw new Error('unexpected token response');
    return str(body.access_token, 'access token');
  }

  /** Streams NDJSON lines to the import; returns the service's counts and line errors. */
  async import(
    tenantId: string,
    lines: Iterable<unknown>,
  ): Promise<{ users: number; groups: number; devices: number; members: number; errors: unknown[] }> {
    let text = '';
    for (const line of lines) text += `${JSON.stringify(line)}\n`;
    const body = await this.call('POST', `/tenants/${tenantId}/import`, text, 'application/x-ndjson');
    if (!isRecord(body)) throw new Error('unexpected import response');
    return {
      users: Number(body.users),
      groups: Number(body.groups),
      devices: Number(body.devices),
      members: Number(body.members),
      errors: Array.isArray(body.errors) ? body.errors : [],
    };
  }

  /** What the service still has to do for the tenant (`GET /tenants/{tid}/activity`). */
  async activity(tenantId: string): Promise<Record<string, unknown>> {
    const body = await this.call('GET', `/tenants/${tenantId}/activity`);
    return isRecord(body) ? body : {};
  }

  async isIdle(tenantId: string): Promise<boolean> {
    return (await this.activity(tenantId)).idle === true;
  }

  /** Waits until the tenant's work is done (twice in a row, a moment apart), or fails after `timeoutMs`. */
  async waitIdle(tenantId: string, timeoutMs = 300_000, onWait?: (elapsedMs: number) => void): Promise<void> {
    const started = Date.now();
    let idleSince = 0;
    for (;;) {
      const activity = await this.activity(tenantId);
      if (activity.idle === true) {
        if (idleSince === 0) idleSince = Date.now();
        if (Date.now() - idleSince >= 500) return;
      } else {
        idleSince = 0;
      }
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `the service was still busy for tenant ${tenantId} after ${Math.round(timeoutMs / 1000)} s: ` +
            `${JSON.stringify(activity)} (queues: messages waiting; openReservations: seats in flight, or left by a ` +
            'request that failed part-way until the sweep settles them; groupsProcessing: group jobs not complete; ' +
            'pendingOutbox: work owed by committed changes, left by a request that died until the sweep relays it)',
        );
      }
      onWait?.(Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  /** Posts a change-notification collection to the webhook; returns the HTTP status. */
  async notify(notifications: readonly unknown[]): Promise<number> {
    const response = await fetch(`${this.baseUrl}/api/webhooks/graph`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: notifications }),
    });
    await response.text();
    return response.status;
  }

  async validationHandshake(token: string): Promise<{ status: number; contentType: string; body: string }> {
    const response = await fetch(
      `${this.baseUrl}/api/webhooks/graph?validationToken=${encodeURIComponent(token)}`,
      {
        method: 'POST',
      },
    );
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: await response.text(),
    };
  }
}

/**
 * The official Microsoft Graph client pointed at the service. Its own authentication handler only signs https
 * URLs, so a small middleware sets the bearer token ahead of the SDK's retry handler (which honours the
 * service's 503 + Retry-After, as against Graph) and its HTTP handler (api.md).
 */
export function graphClient(baseUrl: string, token: string): Client {
  const retry = new RetryHandler(new RetryHandlerOptions(1, 5));
  retry.setNext(new HTTPMessageHandler());
  const auth: Middleware = {
    execute: async (context: Context) => {
      context.options = {
        ...context.options,
        headers: { ...context.options?.headers, Authorization: `Bearer ${token}` },
      };
      await retry.execute(context);
    },
    setNext: () => {},
  };
  return Client.initWithMiddleware({ baseUrl: `${baseUrl}/api`, defaultVersion: 'v1.0', middleware: auth });
}
