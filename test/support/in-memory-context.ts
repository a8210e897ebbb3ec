// A whole AppContext of in-memory doubles, for unit tests of the use cases that write principals (group pages,
// member changes, the import, healing): every double reads and writes the same rows, as the adapters share the
// tables. `work()` then does what the queue triggers would with the messages the use cases sent.

import { randomUUID } from 'node:crypto';
import { applyChanges } from '../../src/application/changes.js';
import type { AppContext } from '../../src/application/context.js';
import { processRulePage } from '../../src/application/dynamic-groups.js';
import {
  assignGroupLicenses,
  planGroupJob,
  processGroupPage,
} from '../../src/application/group-licensing.js';
import { heal } from '../../src/application/healing.js';
import { changesMessage, groupJobMessage, healMessage, pageMessage } from '../../src/application/messages.js';
import { setSubscription } from '../../src/application/tenants.js';
import { WorkBudget } from '../../src/application/work-budget.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { QueueNames } from '../../src/config/queues.js';
import { pagePrincipalsInFlight } from '../../src/config/tuning.js';
import type { Catalog, LicenseErrorHealing } from '../../src/engine/index.js';
import { bucketOf } from '../../src/storage/members.js';
import { InMemoryAlertStore, RecordingAlertQueue, ScriptedReceivers } from './in-memory-alerts.js';
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
import { groupRecord, principalRecord, tenantRecord } from './records.js';

export interface InMemoryContext extends AppContext {
  readonly rows: DirectoryRows;
  readonly tenants: InMemoryTenantStore;
  readonly directory: InMemoryDirectoryStore;
  readonly queries: InMemoryDirectoryQueries;
  readonly queues: RecordingQueues;
  readonly alerts: InMemoryAlertStore;
  readonly alertQueue: RecordingAlertQueue;
  readonly receivers: ScriptedReceivers;
  /**
   * Runs the messages sent so far, and those they send, through the use cases their queue triggers call, in the
   * order sent; each gets a message id of its own. Returns how many ran. Messages of `holdBack` queues are left
   * waiting, to run first at the next call without it (a test can look at the state between two kinds of work).
   */
  work(options?: { readonly holdBack?: readonly (keyof QueueNames)[] }): Promise<number>;
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
  /** Messages held back by an earlier `work`, by their place in `queues.sent`. */
  const held: number[] = [];
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
    writer: new InMemoryPrincipalWrites(rows, catalog),
    members: new InMemoryMemberLists(),
    proxies: new InMemoryProxyAddresses(),
    audit: new InMemoryAuditTrail(queries),
    jobs: new InMemoryGroupJobs(),
    outbox: new InMemoryOutbox(tenants),
    identity: new InMemoryIdentityStore(),
    licensing: new InMemoryLicensingQueries(queries),
    queries,
    alerts: new InMemoryAlertStore(),
    alertQueue: new RecordingAlertQueue(),
    receivers: new ScriptedReceivers(),
    pageBudget: new WorkBudget(pagePrincipalsInFlight()),
    now,
    instanceId: 'memory-host',
    ready: Promise.resolve(),
    work: async (options = {}) => {
      const holdBack = new Set(options.holdBack ?? []);
      let ran = 0;
      const run = async (at: number): Promise<void> => {
        if (ran++ >= 10_000) throw new Error('the queues never drained');
        const sent = queues.sent[at];
        if (!sent) return;
        const messageId = `message-${at}`;
        if (sent.queue === 'jobs')
          await queues.sendAll('pages', await planGroupJob(ctx, groupJobMessage.parse(sent.message)));
        else if (sent.queue === 'pages') {
          const page = pageMessage.parse(sent.message);
          if (page.kind === 'rule-page') await processRulePage(ctx, page, messageId);
          else await processGroupPage(ctx, page, messageId);
        } else if (sent.queue === 'changes')
          await applyChanges(ctx, changesMessage.parse(sent.message), messageId);
        else await heal(ctx, healMessage.parse(sent.message), messageId);
      };
      for (const at of held.filter((i) => !holdBack.has(queues.sent[i]?.queue ?? 'jobs'))) {
        held.splice(held.indexOf(at), 1);
        await run(at);
      }
      for (; worked < queues.sent.length; worked++) {
        if (holdBack.has(queues.sent[worked]?.queue ?? 'jobs')) held.push(worked);
        else await run(worked);
      }
      return ran;
    },
  };
  return ctx;
}

/**
 * A tenant of an in-memory context owning `seats` of Office 365 E3, a security group, and users made members of it
 * the way the member's row and the group's list record a membership (no license evaluated yet).
 */
export async function licensingTenant(
  ctx: InMemoryContext,
  options: { readonly seats: number; readonly healing?: LicenseErrorHealing },
) {
  const tenantId = randomUUID();
  await ctx.tenants.create(tenantRecord(tenantId, { licenseErrorHealing: options.healing ?? 'automatic' }));
  const e3 = await setSubscription(ctx, tenantId, 'ENTERPRISEPACK', units(options.seats));
  const group = await ctx.directory.createGroup(groupRecord(tenantId, 'Sales'));
  let joined = Date.parse('2026-03-01T09:00:00.000Z');
  /** A user licensable in the US, a member of the group (joined after the previous one) unless `member` is false. */
  const user = async (displayName: string, member = true): Promise<string> => {
    const id = randomUUID();
    const joinedAt = new Date(joined++).toISOString();
    await ctx.directory.createPrincipal(
      principalRecord(tenantId, {
        id,
        displayName,
        usageLocation: 'US',
        memberOf: member ? [{ groupId: group.id, joinedAt, bucket: bucketOf(id) }] : [],
      }),
    );
    if (member) await ctx.members.apply(tenantId, group.id, [{ id, kind: 'user', joinedAt }], []);
    return id;
  };
  /** The group's license assignment of E3, and the job it starts run to its end. */
  const license = async () => {
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3.skuId, disabledPlans: [] }],
      removeLicenses: [],
    });
    await ctx.work();
  };
  /** Each principal's E3 state as `[id, state, error]`. */
  const states = async (ids: readonly string[]) => {
    const rows = await ctx.directory.principals(tenantId, ids);
    return ids.map((id) => {
      const entry = rows.get(id)?.entries.find((e) => e.skuId === e3.skuId);
      return [id, entry?.state ?? 'none', entry?.error ?? 'None'];
    });
  };
  const consumed = async () =>
    (await ctx.tenants.partition(tenantId))?.subscriptions.get(e3.skuId)?.consumedUnits ?? -1;
  const buy = (seats: number) => setSubscription(ctx, tenantId, e3.skuId, units(seats));
  return { tenantId, skuId: e3.skuId, group, user, license, states, consumed, buy };
}

function units(enabled: number) {
  return { enabled, warning: 0, suspended: 0, lockedOut: 0 };
}
