// Is storage reachable? What GET /api/health answers: a table and a queue probe, each with its time.
import type { TableServiceClient } from '@azure/data-tables';
import type { QueueServiceClient } from '@azure/storage-queue';
import { storageSettingsKey } from '../config/tuning.js';
import { queueServiceClient, storageAccountFrom, tableServiceClient } from '../storage/connection.js';

export interface Probe {
  ok: boolean;
  ms: number;
  error?: string;
}

// Built once per storage setting so keep-alive connections (and an identity's cached token) are reused; read from
// the environment at each probe rather than from the cached app settings, so a changed setting is what is probed.
let clients: { key: string; tables: TableServiceClient; queues: QueueServiceClient } | undefined;
function getClients(): { tables: TableServiceClient; queues: QueueServiceClient } {
  const key = storageSettingsKey();
  if (clients?.key !== key) {
    const account = storageAccountFrom('AzureWebJobsStorage');
    if (!account) throw new Error('AzureWebJobsStorage is not set.');
    clients = {
      key,
      tables: tableServiceClient(account, { maxRetries: 0 }),
      queues: queueServiceClient(account, { maxRetries: 0 }),
    };
  }
  return clients;
}

async function probe(check: () => Promise<unknown>): Promise<Probe> {
  const started = performance.now();
  try {
    await check();
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, ms: Math.round(performance.now() - started), error: message };
  }
}

export interface StorageHealth {
  readonly healthy: boolean;
  readonly table: Probe;
  readonly queue: Probe;
}

/** Lists one table and one queue (the cheapest calls that need a working connection and credentials). */
export async function probeStorage(): Promise<StorageHealth> {
  let table: Probe;
  let queue: Probe;
  try {
    const { tables, queues } = getClients();
    [table, queue] = await Promise.all([
      probe(() => tables.listTables().byPage({ maxPageSize: 1 }).next()),
      probe(() => queues.listQueues().byPage({ maxPageSize: 1 }).next()),
    ]);
  } catch (error) {
    const failed: Probe = { ok: false, ms: 0, error: error instanceof Error ? error.message : String(error) };
    table = failed;
    queue = failed;
  }
  return { healthy: table.ok && queue.ok, table, queue };
}
