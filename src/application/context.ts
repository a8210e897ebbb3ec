import { randomUUID } from 'node:crypto';
import { loadCatalog } from '../catalog/load.js';
import { type Settings, settings } from '../config/settings.js';
import { pagePrincipalsInFlight } from '../config/tuning.js';
import type { Catalog } from '../engine/index.js';
import { AlertQueues } from '../storage/alert-queues.js';
import { TableAlertStore } from '../storage/alerts.js';
import { AuditLog } from '../storage/audit.js';
import { TableLicensingQueries } from '../storage/bookkeeping.js';
import type { StorageClientOptions, StorageTarget } from '../storage/connection.js';
import { TableDirectoryQueries } from '../storage/directory-queries.js';
import { TableDirectoryStore } from '../storage/directory-store.js';
import { TableIdentityStore } from '../storage/identity.js';
import { JobStore } from '../storage/jobs.js';
import { MemberLists } from '../storage/members.js';
import { TableNameRegistry } from '../storage/names.js';
import { Outbox } from '../storage/outbox.js';
import { PrincipalWriter } from '../storage/principal-writer.js';
import { ProxyRegistry } from '../storage/proxies.js';
import { WorkQueues } from '../storage/queues.js';
import { SeatLedger } from '../storage/seat-ledger.js';
import { StorageTables } from '../storage/tables.js';
import { TableTenantStore } from '../storage/tenant-records.js';
import type {
  AlertQueue,
  AlertReceivers,
  AlertStore,
  AuditTrail,
  DirectoryQueries,
  DirectoryStore,
  GroupJobs,
  IdentityStore,
  LicensingQueries,
  MemberListStore,
  NameRegistry,
  OutboxStore,
  PrincipalWrites,
  ProxyAddressStore,
  SeatReservations,
  TenantStore,
  WorkSender,
} from './ports.js';
import { FetchReceivers } from './receivers.js';
import { WorkBudget } from './work-budget.js';

/** Everything the use cases need, built once per process from the settings: the ports, never the tables. */
export interface AppContext {
  readonly settings: StorageSettings;
  readonly queues: WorkSender;
  readonly catalog: Catalog;
  /** Users, devices and groups, one at a time. */
  readonly directory: DirectoryStore;
  /** User principal names, unique per tenant. */
  readonly names: NameRegistry;
  /** Tenants, their subscriptions and control rows. */
  readonly tenants: TenantStore;
  readonly ledger: SeatReservations;
  readonly writer: PrincipalWrites;
  readonly members: MemberListStore;
  readonly proxies: ProxyAddressStore;
  readonly audit: AuditTrail;
  readonly jobs: GroupJobs;
  /** Work owed by committed changes (src/storage/README.md, "Outbox"). */
  readonly outbox: OutboxStore;
  /** App registrations and the sign-in authority's signing key. */
  readonly identity: IdentityStore;
  /** Group outcomes and waiting rooms, as the principals' license states add up. */
  readonly licensing: LicensingQueries;
  /** The directory's listings (users, devices, groups, audits). */
  readonly queries: DirectoryQueries;
  /** Alert subscriptions and their deliveries (docs/api.md, "Alerts"). */
  readonly alerts: AlertStore;
  /** The alert queues: evaluations requested, deliveries to attempt. */
  readonly alertQueue: AlertQueue;
  /** Where alert deliveries are POSTed. */
  readonly receivers: AlertReceivers;
  /** Principals the group pages of this context may hold at once (LICENSE_PAGE_PRINCIPALS_IN_FLIGHT). */
  readonly pageBudget: WorkBudget;
  readonly now: () => Date;
  /** Distinguishes this process when it holds a lease. */
  readonly instanceId: string;
  /** Resolves once tables and queues exist. */
  readonly ready: Promise<void>;
  /**
   * Fault injection for crash tests: called at each named point of a write path, it may throw to make the work
   * stop there as if its process had died. Never set in production.
   */
  readonly faults?: (point: FaultPoint) => void;
}

/**
 * The points of the write paths where a crash leaves work half done (src/storage/README.md, "Outbox"):
 * - `outbox:committed`: a change and its outbox row are committed, nothing relayed yet;
 * - `outbox:audited`: the relay wrote the row's audit records, its messages are not sent;
 * - `outbox:sent`: the messages are sent, the row is not deleted;
 * - `changes:lists-joined`: a directory change added members to the group-side lists, the members' rows are not
 *   written;
 * - `changes:principals-written`: the members' rows are written, removals from the lists are not;
 * - `changes:lists-left`: the lists are updated, the audit records and wake-ups are not written or sent;
 * - `import:memberships-written`: an import wrote every membership, the licensed groups are not reprocessed;
 * - `seats:claimed`: principal work claimed its seats and recorded its chunks, none is written yet;
 * - `seats:written`: its chunks landed, its seat reservation is not closed.
 */
export type FaultPoint =
  | 'outbox:committed'
  | 'outbox:audited'
  | 'outbox:sent'
  | 'changes:lists-joined'
  | 'changes:principals-written'
  | 'changes:lists-left'
  | 'import:memberships-written'
  | 'seats:claimed'
  | 'seats:written';

/** Gives fault injection its chance to stop the work at `point`. */
export function faultPoint(ctx: Pick<AppContext, 'faults'>, point: FaultPoint): void {
  ctx.faults?.(point);
}

/** Where the app's tables and queues live: an account (or a connection string) and the names' prefix. */
export interface StorageSettings {
  readonly storage: StorageTarget;
  readonly storagePrefix: Settings['storagePrefix'];
}

export interface ContextOptions extends StorageClientOptions {
  readonly catalog?: Catalog;
  readonly now?: () => Date;
  readonly faults?: (point: FaultPoint) => void;
}

/**
 * The context as wired on the tables, which it also exposes for what sits beside the use cases: tests that look at
 * the rows themselves, and tools that set storage up.
 */
export interface StorageContext extends AppContext {
  readonly tables: StorageTables;
}

export function createContext(storage: StorageSettings, options: ContextOptions = {}): StorageContext {
  const tables = new StorageTables(storage.storage, storage.storagePrefix, options);
  const queues = new WorkQueues(storage.storage, storage.storagePrefix, options);
  const alertQueue = new AlertQueues(storage.storage, storage.storagePrefix, options);
  const catalog = options.catalog ?? loadCatalog();
  const ready = Promise.all([tables.ensure(), queues.ensure(), alertQueue.ensure()]).then(() => undefined);
  // A failed start-up is reported by whoever awaits `ready`; do not crash the process here.
  ready.catch(() => undefined);
  return {
    settings: storage,
    tables,
    queues,
    catalog,
    directory: new TableDirectoryStore(tables, catalog),
    names: new TableNameRegistry(tables),
    tenants: new TableTenantStore(tables),
    ledger: new SeatLedger(tables),
    writer: new PrincipalWriter(tables, catalog),
    members: new MemberLists(tables),
    proxies: new ProxyRegistry(tables),
    audit: new AuditLog(tables),
    jobs: new JobStore(tables),
    outbox: new Outbox(tables),
    identity: new TableIdentityStore(tables.identity),
    queries: new TableDirectoryQueries(tables),
    licensing: new TableLicensingQueries(tables),
    alerts: new TableAlertStore(tables),
    alertQueue,
    receivers: new FetchReceivers(),
    pageBudget: new WorkBudget(pagePrincipalsInFlight()),
    now: options.now ?? (() => new Date()),
    instanceId: randomUUID(),
    ready,
    ...(options.faults ? { faults: options.faults } : {}),
  };
}

let shared: AppContext | undefined;

/** The process-wide context used by the function handlers. */
export async function appContext(): Promise<AppContext> {
  shared ??= createContext(settings());
  await shared.ready;
  return shared;
}
