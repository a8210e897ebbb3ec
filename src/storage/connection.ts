// Which storage account to use and how to sign in to it, read from app settings the way the Functions runtime reads
// a storage connection: a connection string (`AzureWebJobsStorage`), or — as Azure now recommends — an identity-based
// connection named by settings under the same prefix (`AzureWebJobsStorage__accountName`, or
// `__tableServiceUri` + `__queueServiceUri`, with `__credential` / `__clientId` / `__tenantId` / `__clientSecret`).
// Learn: "Connecting to host storage with an identity" and "Common properties for identity-based connections"
// (azure-functions/functions-reference). src/storage/README.md, "Connecting".
import { TableClient, TableServiceClient } from '@azure/data-tables';
import {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { type QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { countingPolicy, storageStatsEnabled } from './stats.js';

/** Azurite's development account (a well-known key, not a secret). */
export const DEVELOPMENT_ACCOUNT = 'devstoreaccount1';
const DEVELOPMENT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface StoragePorts {
  blob: number;
  queue: number;
  table: number;
}

export const defaultAzuritePorts: StoragePorts = { blob: 10000, queue: 10001, table: 10002 };

/** The full connection string of Azurite's development account (what `UseDevelopmentStorage=true` stands for). */
export function devConnectionString(
  ports: StoragePorts = defaultAzuritePorts,
  host = '127.0.0.1',
  protocol: 'http' | 'https' = 'http',
): string {
  const endpoint = (port: number) => `${protocol}://${host}:${port}/${DEVELOPMENT_ACCOUNT}`;
  return (
    `DefaultEndpointsProtocol=${protocol};AccountName=${DEVELOPMENT_ACCOUNT};AccountKey=${DEVELOPMENT_KEY};` +
    `BlobEndpoint=${endpoint(ports.blob)};QueueEndpoint=${endpoint(ports.queue)};` +
    `TableEndpoint=${endpoint(ports.table)};`
  );
}

/** Whether a connection string is `UseDevelopmentStorage=true` (Azurite's development account). */
export function isDevelopmentStorage(connectionString: string): boolean {
  return /^\s*UseDevelopmentStorage\s*=\s*true\s*;?\s*$/i.test(connectionString);
}

/** Expands `UseDevelopmentStorage=true` (which not every SDK accepts) the way the Functions host does. */
export function resolveConnectionString(connectionString: string): string {
  return isDevelopmentStorage(connectionString) ? devConnectionString() : connectionString.trim();
}

/** A storage account the app can reach: by connection string, or by service URIs and an Entra credential. */
export type StorageAccount =
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | {
      readonly kind: 'identity';
      readonly tableServiceUri: string;
      readonly queueServiceUri: string;
      readonly credential: TokenCredential;
      /** How the credential was chosen, for messages (`managed identity (client id …)`, …). */
      readonly credentialKind: string;
    };

/** A stable key for an account (connection string, or the two service URIs), for caches. */
export function accountKey(account: StorageAccount): string {
  return account.kind === 'connectionString'
    ? account.connectionString
    : `${account.tableServiceUri}\n${account.queueServiceUri}`;
}

/** A short description without secrets, for start-up lines and errors. */
export function describeAccount(account: StorageAccount): string {
  if (account.kind === 'identity') {
    return `${account.tableServiceUri} and ${account.queueServiceUri} with ${account.credentialKind}`;
  }
  const name = /AccountName=([^;]+)/i.exec(account.connectionString)?.[1];
  return `the connection string of account ${name ?? '(unnamed)'}`;
}

type Env = Readonly<Record<string, string | undefined>>;

function setting(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Whether settings name an identity-based connection under this prefix (`<prefix>__…`). */
export function hasIdentitySettings(prefix: string, env: Env = process.env): boolean {
  const start = `${prefix}__`.toLowerCase();
  return Object.keys(env).some(
    (key) => key.toLowerCase().startsWith(start) && setting(env, key) !== undefined,
  );
}

/**
 * The account a connection setting names. A non-empty `<prefix>` value is a connection string (it wins, as in the
 * runtime); otherwise `<prefix>__tableServiceUri` / `__queueServiceUri` (explicit URIs win over `__accountName`,
 * which means `https://<name>.table|queue.core.windows.net`), and the credential from `__credential`,
 * `__clientId`, `__tenantId`, `__clientSecret`. Undefined when nothing is set.
 */
export function storageAccountFrom(prefix: string, env: Env = process.env): StorageAccount | undefined {
  const connectionString = setting(env, prefix);
  if (connectionString !== undefined) {
    return { kind: 'connectionString', connectionString: resolveConnectionString(connectionString) };
  }
  if (!hasIdentitySettings(prefix, env)) return undefined;
  const get = (name: string) => setting(env, `${prefix}__${name}`);
  const accountName = get('accountName');
  const serviceUri = (service: 'table' | 'queue') =>
    get(`${service}ServiceUri`) ??
    (service === 'queue' ? get('serviceUri') : undefined) ??
    (accountName ? `https://${accountName}.${service}.core.windows.net` : undefined);
  const tableServiceUri = serviceUri('table');
  const queueServiceUri = serviceUri('queue');
  if (!tableServiceUri || !queueServiceUri) {
    const missing = [tableServiceUri ? '' : 'tableServiceUri', queueServiceUri ? '' : 'queueServiceUri']
      .filter((name) => name !== '')
      .map((name) => `${prefix}__${name}`);
    throw new Error(
      `The identity-based storage connection "${prefix}" needs ${missing.join(' and ')} ` +
        `(or ${prefix}__accountName for an account in Azure's public cloud).`,
    );
  }
  for (const uri of [tableServiceUri, queueServiceUri]) {
    if (!/^https:\/\//i.test(uri)) {
      throw new Error(`"${uri}" must be an https:// URI: storage refuses bearer tokens over plain http.`);
    }
  }
  const { credential, credentialKind } = credentialFrom(prefix, get);
  return {
    kind: 'identity',
    tableServiceUri: tableServiceUri.replace(/\/+$/, ''),
    queueServiceUri: queueServiceUri.replace(/\/+$/, ''),
    credential,
    credentialKind,
  };
}

/**
 * The credential the runtime would use for these settings: `credential=managedidentity` → the app's managed
 * identity (user-assigned with `clientId`, or `managedIdentityResourceId`); `tenantId` + `clientId` +
 * `clientSecret` → that service principal; otherwise DefaultAzureCredential (environment, workload or managed
 * identity, then the developer's Azure CLI / azd / PowerShell sign-in), with `clientId` as its managed identity.
 */
function credentialFrom(
  prefix: string,
  get: (name: string) => string | undefined,
): { credential: TokenCredential; credentialKind: string } {
  const clientId = get('clientId');
  const resourceId = get('managedIdentityResourceId');
  const kind = get('credential')?.toLowerCase();
  if (kind !== undefined && kind !== 'managedidentity') {
    throw new Error(`${prefix}__credential must be "managedidentity" (or left unset), not "${kind}".`);
  }
  if (kind === 'managedidentity') {
    if (clientId) {
      return {
        credential: new ManagedIdentityCredential({ clientId }),
        credentialKind: `the managed identity with client id ${clientId}`,
      };
    }
    if (resourceId) {
      return {
        credential: new ManagedIdentityCredential({ resourceId }),
        credentialKind: `the managed identity ${resourceId}`,
      };
    }
    return { credential: new ManagedIdentityCredential(), credentialKind: "the app's managed identity" };
  }
  const tenantId = get('tenantId');
  const clientSecret = get('clientSecret');
  if (tenantId && clientId && clientSecret) {
    return {
      credential: new ClientSecretCredential(tenantId, clientId, clientSecret),
      credentialKind: `the service principal ${clientId}`,
    };
  }
  return {
    credential: new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}),
    credentialKind: 'DefaultAzureCredential',
  };
}

/** A connection string or an account, as every client factory below accepts. */
export type StorageTarget = StorageAccount | string;

function accountOf(target: StorageTarget): StorageAccount {
  return typeof target === 'string'
    ? { kind: 'connectionString', connectionString: resolveConnectionString(target) }
    : target;
}

function isPlainHttp(connectionString: string): boolean {
  return (
    /DefaultEndpointsProtocol=http;/i.test(connectionString) || /Endpoint=http:\/\//i.test(connectionString)
  );
}

export interface StorageClientOptions {
  /** Retries on transient failures (the SDK default is 3); tests turn them off so failures are fast. */
  readonly maxRetries?: number;
}

export function tableClient(
  target: StorageTarget,
  table: string,
  options: StorageClientOptions = {},
): TableClient {
  const account = accountOf(target);
  const clientOptions = {
    retryOptions: { maxRetries: options.maxRetries ?? 3 },
    ...(storageStatsEnabled()
      ? { additionalPolicies: [{ policy: countingPolicy(), position: 'perCall' as const }] }
      : {}),
  };
  if (account.kind === 'identity') {
    return new TableClient(account.tableServiceUri, table, account.credential, clientOptions);
  }
  return TableClient.fromConnectionString(account.connectionString, table, {
    ...clientOptions,
    allowInsecureConnection: isPlainHttp(account.connectionString),
  });
}

export function tableServiceClient(
  target: StorageTarget,
  options: StorageClientOptions = {},
): TableServiceClient {
  const account = accountOf(target);
  const retryOptions = { maxRetries: options.maxRetries ?? 3 };
  if (account.kind === 'identity') {
    return new TableServiceClient(account.tableServiceUri, account.credential, { retryOptions });
  }
  return TableServiceClient.fromConnectionString(account.connectionString, {
    retryOptions,
    allowInsecureConnection: isPlainHttp(account.connectionString),
  });
}

export function queueServiceClient(
  target: StorageTarget,
  options: StorageClientOptions = {},
): QueueServiceClient {
  const account = accountOf(target);
  const clientOptions = { retryOptions: { maxTries: (options.maxRetries ?? 3) + 1 } };
  if (account.kind === 'identity') {
    return new QueueServiceClient(account.queueServiceUri, account.credential, clientOptions);
  }
  return QueueServiceClient.fromConnectionString(account.connectionString, clientOptions);
}

export function queueClient(
  target: StorageTarget,
  queue: string,
  options: StorageClientOptions = {},
): QueueClient {
  return queueServiceClient(target, options).getQueueClient(queue);
}
