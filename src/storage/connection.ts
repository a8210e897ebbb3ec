import { TableClient } from '@azure/data-tables';
import { type QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { countingPolicy, storageStatsEnabled } from './stats.js';

const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The well-known Azurite connection string on its default ports. */
export const DEVELOPMENT_STORAGE =
  `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
  `BlobEndpoint=http://127.0.0.1:10000/${DEV_ACCOUNT};QueueEndpoint=http://127.0.0.1:10001/${DEV_ACCOUNT};` +
  `TableEndpoint=http://127.0.0.1:10002/${DEV_ACCOUNT};`;

/** Expands `UseDevelopmentStorage=true` the way the Functions host does; other strings pass through. */
export function resolveConnectionString(connectionString: string): string {
  return /^\s*UseDevelopmentStorage\s*=\s*true\s*;?\s*$/i.test(connectionString)
    ? DEVELOPMENT_STORAGE
    : connectionString;
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
  connectionString: string,
  table: string,
  options: StorageClientOptions = {},
): TableClient {
  const resolved = resolveConnectionString(connectionString);
  return TableClient.fromConnectionString(resolved, table, {
    allowInsecureConnection: isPlainHttp(resolved),
    retryOptions: { maxRetries: options.maxRetries ?? 3 },
    ...(storageStatsEnabled()
      ? { additionalPolicies: [{ policy: countingPolicy(), position: 'perCall' as const }] }
      : {}),
  });
}

export function queueServiceClient(
  connectionString: string,
  options: StorageClientOptions = {},
): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(resolveConnectionString(connectionString), {
    retryOptions: { maxTries: (options.maxRetries ?? 3) + 1 },
  });
}

export function queueClient(
  connectionString: string,
  queue: string,
  options: StorageClientOptions = {},
): QueueClient {
  return queueServiceClient(connectionString, options).getQueueClient(queue);
}
