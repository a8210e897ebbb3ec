// The console's only way in: the Graph-compatible API (/api/v1.0, a bearer token) and the operator API
// (/api/manage, the operator key). Whatever the console shows, a client of those APIs sees too.
import type {
  DirectoryAudit,
  Group,
  LicenseAssignmentPreview,
  LicenseProcessingDetails,
  SubscribedSku,
  User,
} from '../contract/graph.js';

export type {
  DirectoryAudit,
  Group,
  LicenseAssignmentPreview,
  LicenseProcessingDetails,
  SubscribedSku,
  User,
};

/** The API root, next to the console: …/api/console/ → …/api. */
const API_ROOT = new URL('..', window.location.href).pathname.replace(/\/$/, '');

/** A refusal from either API, with Graph's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Tenant {
  readonly id: string;
  readonly displayName: string;
  readonly countryLetterCode: string;
  readonly licenseErrorHealing: 'automatic' | 'manual';
}

export interface CatalogSku {
  readonly skuId: string;
  readonly skuPartNumber: string;
  readonly displayName: string;
  readonly assignableTo: 'user' | 'device';
  readonly servicePlans: readonly { readonly servicePlanId: string; readonly servicePlanName: string }[];
}

export interface Page<T> {
  readonly value: readonly T[];
  readonly '@odata.nextLink'?: string;
  readonly '@odata.count'?: number;
}

export interface Waiter {
  readonly id: string;
  readonly principalType: 'user' | 'device';
  readonly displayName: string;
  readonly userPrincipalName?: string;
  readonly waitingSince: string;
  readonly position: number;
}

/** A user or device as the console reads it: the license properties are always selected. */
export type Principal = Pick<User, 'id' | 'displayName'> &
  Partial<Pick<User, 'userPrincipalName' | 'usageLocation' | 'accountEnabled'>> & {
    readonly '@odata.type'?: string;
    readonly assignedLicenses?: User['assignedLicenses'];
    readonly licenseAssignmentStates?: User['licenseAssignmentStates'];
  };

async function send<T>(url: string, init: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const body: unknown = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP ${response.status}`,
      error?.message ?? response.statusText,
    );
  }
  return body as T;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The operator API, signed with the operator key (held in this browser tab's session storage only). */
export class OperatorApi {
  constructor(private readonly key: string) {}

  private call<T>(path: string, init: RequestInit = {}): Promise<T> {
    return send<T>(`${API_ROOT}/manage/${path}`, {
      ...init,
      headers: { ...JSON_HEADERS, 'x-functions-key': this.key, ...init.headers },
    });
  }

  tenants(): Promise<Page<Tenant>> {
    return this.call('tenants');
  }
  createTenant(displayName: string, countryLetterCode: string): Promise<Tenant> {
    return this.call('tenants', { method: 'POST', body: JSON.stringify({ displayName, countryLetterCode }) });
  }
  catalog(): Promise<Page<CatalogSku>> {
    return this.call('catalog');
  }
  setUnits(tenantId: string, skuId: string, prepaidUnits: SubscribedSku['prepaidUnits']): Promise<unknown> {
    return this.call(`tenants/${tenantId}/subscriptions/${skuId}`, {
      method: 'PUT',
      body: JSON.stringify({ prepaidUnits }),
    });
  }
  importDirectory(tenantId: string, ndjson: string): Promise<ImportResult> {
    return this.call(`tenants/${tenantId}/import`, {
      method: 'POST',
      body: ndjson,
      headers: { 'content-type': 'application/x-ndjson' },
    });
  }
  alerts(tenantId: string): Promise<Page<Alert>> {
    return this.call(`tenants/${tenantId}/alerts`);
  }
  createAlert(
    tenantId: string,
    alert: { kinds: readonly AlertKind[]; notificationUrl: string; seatUsagePercent: number },
  ): Promise<Alert> {
    return this.call(`tenants/${tenantId}/alerts`, { method: 'POST', body: JSON.stringify(alert) });
  }
  deleteAlert(tenantId: string, alertId: string): Promise<void> {
    return this.call(`tenants/${tenantId}/alerts/${alertId}`, { method: 'DELETE' });
  }
  deliveries(tenantId: string, alertId: string): Promise<Page<AlertDelivery>> {
    return this.call(`tenants/${tenantId}/alerts/${alertId}/deliveries`);
  }
  async token(tenantId: string): Promise<{ token: string; expiresAt: number }> {
    const minted = await this.call<{ access_token: string; expires_in: number }>(
      `tenants/${tenantId}/tokens`,
      {
        method: 'POST',
        body: '{}',
      },
    );
    return { token: minted.access_token, expiresAt: Date.now() + minted.expires_in * 1000 };
  }
}

export const ALERT_KINDS = [
  'licenseErrors',
  'seatUsage',
  'waitingPrincipals',
  'subscriptionState',
  'groupProcessing',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** An alert subscription of the operator API (docs/api.md, "Alerts"). */
export interface Alert {
  readonly id: string;
  readonly kinds: readonly AlertKind[];
  readonly notificationUrl: string;
  readonly clientState: string | null;
  readonly seatUsagePercent: number;
  readonly createdDateTime: string;
  /** Shown once, when the subscription is created. */
  readonly secret?: string;
}

export interface AlertDelivery {
  readonly id: string;
  readonly status: 'pending' | 'delivered' | 'parked' | 'cancelled';
  readonly attempts: number;
  readonly createdDateTime: string;
  readonly lastAttemptDateTime: string | null;
  readonly nextAttemptDateTime: string | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly value: readonly {
    readonly resource: string;
    readonly resourceData: { readonly kind: string } & Record<string, unknown>;
  }[];
}

export interface ImportResult {
  readonly users?: number;
  readonly groups?: number;
  readonly devices?: number;
  readonly members?: number;
  readonly errors?: readonly { readonly line: number; readonly message: string }[];
}

/** The Graph-compatible API of one tenant, with a token the operator API mints (and mints again before expiry). */
export class GraphApi {
  private minted: Promise<{ token: string; expiresAt: number }> | undefined;

  constructor(
    private readonly operator: OperatorApi,
    readonly tenantId: string,
  ) {}

  private async bearer(): Promise<string> {
    const current = await this.minted;
    if (!current || current.expiresAt - Date.now() < 60_000) {
      this.minted = this.operator.token(this.tenantId);
      this.minted.catch(() => {
        this.minted = undefined;
      });
    }
    const { token } = await (this.minted as Promise<{ token: string }>);
    return token;
  }

  async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const url = path.startsWith('http') ? path : `${API_ROOT}/v1.0/${path}`;
    return send<T>(url, {
      ...init,
      headers: {
        ...JSON_HEADERS,
        authorization: `Bearer ${await this.bearer()}`,
        ...init.headers,
      },
    });
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>(path);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>(path, { method: 'POST', body: JSON.stringify(body) });
  }

  /** Follows `@odata.nextLink` (absolute over https, relative to the service root over http: docs/api.md). */
  next<T>(nextLink: string): Promise<Page<T>> {
    return this.call<Page<T>>(nextLink);
  }
}

/** Quotes a value for an OData string literal. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
