// A whole AppContext of in-memory doubles, for unit tests of the use cases that write principals (group pages,
// member changes, the import, healing): every double reads and writes the same rows, as the adapters share the
// tables. `work()` then does what the queue triggers would with the messages the use cases sent.

import { applyChanges } from '../../src/application/changes.js';
import type { AppContext } from '../../src/application/context.js';
import { planGroupJob, processGroupPage } from '../../src/application/group-licensing.js';
import { heal } from '../../src/application/healing.js';
import {
  changesMessage,
  groupJobMessage,
  groupPageMessage,
  healMessage,
} from '../../src/application/messages.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { Catalog } from '../../src/engine/index.js';
import {
  InMemoryAuditTrail,
  InMemoryDirectoryQueries,
  InMemoryLicensingQueries,
} from './in-memory-queries.js';
import { DirectoryRows } from './in-memory-rows.js';
import { InMemoryPrincipalWrites, InMemorySeatReservations } from './in-memory-seats.js';
import {
  InMemoryDirectoryStore,
  InMemoryGroupJobs,
  InMemoryIdentityStore,
  InMemoryMemberLists,
  InMemoryNameRegistry,
  InMemoryOutbox,
  InMemoryProxyAddresses,
  InMemoryTenantStore,
  RecordingQueues,
} from './in-memory-stores.js';

export interface InMemoryContext extends AppContext {
  readonly rows: DirectoryRows;
  readonly tenants: InMemoryTenantStore;
  readonly directory: InMemoryDirectoryStore;
  readonly queries: InMemoryDirectoryQueries;
  readonly queues: RecordingQueues;
  /**
   * Runs the messages sent so far, and those they send, through the use cases their queue triggers call, in the
   * order sent; each gets a message id of its own. Returns how many ran.
   */
  work(): Promise<number>;
}

export function inMemoryContext(
  options: { readonly now?: () => Date; readonly catalog?: Catalog } = {},
): InMemoryContext {
  const catalog = options.catalog ?? loadCatalog();
  const now = options.now ?? (() => new Date());
  const rows = new DirectoryRows();
  const tenants = new InMemoryTenantStore();
  const queries = new InMemoryDirectoryQueries(catalog, rows);
  const queues = new RecordingQueues();
  let worked = 0;
  const ctx: InMemoryContext = {
    // Never connected to: every port below is a double.
    settings: { storage: 'UseDevelopmentStorage=true', storagePrefix: 'memory' },
    queues,
    catalog,
    rows,
    directory: new InMemoryDirectoryStore(rows),
    names: new InMemoryNameRegistry(now),
    tenants,
    ledger: new InMemorySeatReservations(tenants, rows),
    writer: new InMemoryPrincipalWrites(rows),
    members: new InMemoryMemberLists(),
    proxies: new InMemoryProxyAddresses(),
    audit: new InMemoryAuditTrail(queries),
    jobs: new InMemoryGroupJobs(),
    outbox: new InMemoryOutbox(tenants),
    identity: new InMemoryIdentityStore(),
    licensing: new InMemoryLicensingQueries(queries),
    queries,
    now,
    instanceId: 'memory-host',
    ready: Promise.resolve(),
    work: async () => {
      let ran = 0;
      for (; worked < queues.sent.length; worked++, ran++) {
        if (ran >= 10_000) throw new Error('the queues never drained');
        const sent = queues.sent[worked];
        if (!sent) break;
        const messageId = `message-${worked}`;
        if (sent.queue === 'jobs')
          await queues.sendAll('pages', await planGroupJob(ctx, groupJobMessage.parse(sent.message)));
        else if (sent.queue === 'pages')
          await processGroupPage(ctx, groupPageMessage.parse(sent.message), messageId);
        else if (sent.queue === 'changes')
          await applyChanges(ctx, changesMessage.parse(sent.message), messageId);
        else await heal(ctx, healMessage.parse(sent.message), messageId);
      }
      return ran;
    },
  };
  return ctx;
}
