// GET /api/health: does table storage answer, does queue storage answer? 200 when both do, else 503.
import { TableServiceClient } from '@azure/data-tables';
import { app, type HttpResponseInit } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';

interface Probe {
  ok: boolean;
  ms: number;
  error?: string;
}

const devConnection =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
  'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;' +
  'TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

function connectionString(): string {
  const value = process.env.AzureWebJobsStorage ?? '';
  // Not every SDK accepts the emulator shorthand.
  return /^\s*UseDevelopmentStorage=true/i.test(value) ? devConnection : value;
}

// Built once per connection string so keep-alive connections are reused across probes.
let clients: { key: string; tables: TableServiceClient; queues: QueueServiceClient } | undefined;
function getClients(): { tables: TableServiceClient; queues: QueueServiceClient } {
  const key = connectionString();
  if (clients?.key !== key) {
    const retryOptions = { maxRetries: 0 };
    clients = {
      key,
      tables: TableServiceClient.fromConnectionString(key, { allowInsecureConnection: true, retryOptions }),
      queues: QueueServiceClient.fromConnectionString(key, { retryOptions: { maxTries: 1 } }),
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

app.http('health', {
  methods: ['GET'],
  authLevel: 'anonymous',
  route: 'health',
  handler: async (): Promise<HttpResponseInit> => {
    let table: Probe;
    let queue: Probe;
    try {
      const { tables, queues } = getClients();
      [table, queue] = await Promise.all([
        probe(() => tables.listTables().byPage({ maxPageSize: 1 }).next()),
        probe(() => queues.listQueues().byPage({ maxPageSize: 1 }).next()),
      ]);
    } catch (error) {
      const failed: Probe = {
        ok: false,
        ms: 0,
        error: error instanceof Error ? error.message : String(error),
      };
      table = failed;
      queue = failed;
    }
    const healthy = table.ok && queue.ok;
    return {
      status: healthy ? 200 : 503,
      jsonBody: { status: healthy ? 'healthy' : 'unhealthy', table, queue },
      headers: { 'cache-control': 'no-store' },
    };
  },
});
