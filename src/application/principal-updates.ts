import { randomUUID } from 'node:crypto';
import {
  deriveSources,
  type EvaluationContext,
  evaluatePrincipal,
  type GroupLicensing,
  isSubscriptionUsable,
  type ProxyAddressView,
  type SeatBudget,
  suspendEntries,
  totalUnits,
  waitingFor,
} from '../engine/index.js';
import { backoff } from '../storage/optimistic.js';
import { encodePrincipal, factsOf } from '../storage/principal-records.js';
import { type AppContext, faultPoint } from './context.js';
import { StorageContentionError } from './errors.js';
import { GroupCache } from './group-cache.js';
import { type ChangesMessage, healRequest } from './messages.js';
import {
  addCounts,
  type ClaimTicket,
  type Counts,
  type MailboxCheck,
  type PrincipalRecord,
  type PrincipalWrite,
  RESERVATION_LEASE_MS,
  type SubscriptionRecord,
  settingsOf,
  type TenantPartition,
} from './records.js';

export class TenantNotFoundError extends Error {
  constructor(readonly tenantId: string) {
    super(`Tenant ${tenantId} does not exist.`);
    this.name = 'TenantNotFoundError';
  }
}

export interface UpdateOptions {
  /** Stable across retries of the same work (a queue message id), random for a one-off request. */
  readonly reservationId: string;
  /**
   * A directory change applied to the freshly read row before it is evaluated (it runs again on every retry,
   * so it must be idempotent). Returning `null` hard-deletes the principal.
   */
  readonly mutate?: (record: PrincipalRecord, now: string) => PrincipalRecord | null;
  /** Rows the caller already read in bulk; refreshed from storage if a write conflicts. */
  readonly preloaded?: ReadonlyMap<string, PrincipalRecord>;
  /**
   * The tenant partition the caller has just read (to validate a request): the first attempt uses it instead of
   * reading it again. Stale counters fail the seat claim's ETags like any concurrent change, and every retry reads
   * the partition afresh.
   */
  readonly partition?: TenantPartition;
  /** Reservation markers seen in the partitions (by a range read); closed ones are deleted with the writes. */
  readonly markers?: ReadonlyMap<string, readonly string[]>;
  readonly maxAttempts?: number;
  /** Resume a reservation another run holds only once its lease has expired (the sweeper). Default: take over. */
  readonly onlyIfAbandoned?: boolean;
}

export interface UpdateResult {
  /** The principals as written (or as found, when nothing changed), by id. */
  readonly records: ReadonlyMap<string, PrincipalRecord>;
  /** Seats given back, per SKU: healing may promote waiters. */
  readonly released: Counts;
  /** Principals whose row changed. */
  readonly changed: number;
}

/**
 * The one way principals change: read them, apply the directory change, evaluate their licenses with the engine
 * (in the order given — the contested-seat order), and write them through the seat ledger. Conflicts (another
 * worker changed a principal or a counter) are retried with fresh reads; a crash part-way is finished by
 * whoever runs the same `reservationId` again. Mailbox claims on shared addresses taken along the way are
 * settled once the run is over (`MailboxWork`), whatever became of the writes they were taken for.
 */
export async function updatePrincipals(
  ctx: AppContext,
  tenantId: string,
  orderedIds: readonly string[],
  options: UpdateOptions,
): Promise<UpdateResult> {
  // Runs of one reservation in this process (a redelivery after a lapsed lease, a retried request) share an owner,
  // so they take turns: two at once would each count the other's chunks as their own. The sweeper does not wait
  // for a run that is alive here: nothing is abandoned.
  const run = () => updateAsOneRun(ctx, tenantId, orderedIds, options);
  if (options.onlyIfAbandoned === true) {
    const result = await ctx.ledger.ifIdle(tenantId, options.reservationId, run);
    return result ?? { records: new Map(), released: {}, changed: 0 };
  }
  return ctx.ledger.inTurn(tenantId, options.reservationId, run);
}

/**
 * A run that finds nothing left to change may still be the redelivery of one that wrote and died before closing its
 * seat reservation: that reservation is resumed and closed now (its landed chunks kept, the rest given back), not
 * left open until its lease runs out and the sweep settles it. Returns the seats given back.
 */
export async function settleLeftoverRun(
  ctx: AppContext,
  tenantId: string,
  reservationId: string,
): Promise<Counts> {
  const partition = await ctx.tenants.partition(tenantId);
  if (!partition?.reservations.has(reservationId)) return {};
  return (await updatePrincipals(ctx, tenantId, [], { reservationId })).released;
}

async function updateAsOneRun(
  ctx: AppContext,
  tenantId: string,
  orderedIds: readonly string[],
  options: UpdateOptions,
): Promise<UpdateResult> {
  const mailboxes = new MailboxWork(ctx, tenantId);
  try {
    return await attemptUpdates(ctx, tenantId, orderedIds, options, mailboxes);
  } catch (error: unknown) {
    // Contention: every write of this run has answered, so its claims in flight can end now rather than hold their
    // addresses until their lease runs out (a retry is a new run). After any other failure a write may still be
    // on its way: the claims stay until their lease runs out, and the sweep lets go what they held for nothing.
    if (error instanceof StorageContentionError && !mailboxes.finished) {
      await mailboxes
        .finish()
        .then((sharers) => wakeAfterWrites(ctx, tenantId, new Set(), sharers))
        // Ending them early is a courtesy: if it fails, their lease still ends them, and the contention is what
        // the caller must hear about, not this.
        .catch(() => undefined);
    }
    throw error;
  }
}

async function attemptUpdates(
  ctx: AppContext,
  tenantId: string,
  orderedIds: readonly string[],
  options: UpdateOptions,
  mailboxes: MailboxWork,
): Promise<UpdateResult> {
  const owner = `${ctx.instanceId}/${options.reservationId}`;
  // Chunk keys name this run: a marker left by an earlier run of the same reservation (markers are removed lazily)
  // must never be taken for proof that one of this run's chunks landed.
  const runKey = randomUUID().slice(0, 8);
  const results = new Map<string, PrincipalRecord>();
  const released: Counts = {};
  /** SKUs whose waiting room may need waking afterwards: waiters written, seats given back by a claim. */
  const waitingSkus = new Set<string>();
  const chunkFates = new Map<string, boolean>();
  let changed = 0;
  let remaining = [...new Set(orderedIds)];
  let records: Map<string, PrincipalRecord> = new Map(options.preloaded ?? []);
  let needsRead = remaining.filter((id) => !records.has(id));
  const maxAttempts = options.maxAttempts ?? 25;

  for (let attempt = 0; ; attempt++) {
    if (attempt >= maxAttempts) {
      // Every write of the earlier attempts has answered, so nothing is in flight: settle the reservation now
      // (its markers tell which chunks landed) instead of holding its seats until the sweep, 12 minutes on.
      if (orderedIds.length > 0) {
        await updateAsOneRun(ctx, tenantId, [], {
          reservationId: options.reservationId,
          maxAttempts: 5,
        }).catch(
          () => undefined, // the sweep settles it later
        );
      }
      throw new StorageContentionError(
        `Updating ${remaining.length} principals of tenant ${tenantId}`,
        attempt,
      );
    }
    const partition =
      attempt === 0 && options.partition ? options.partition : await ctx.tenants.partition(tenantId);
    if (!partition) throw new TenantNotFoundError(tenantId);
    const open = await ctx.ledger.open(partition, options.reservationId, owner, ctx.now(), {
      takeOver: options.onlyIfAbandoned !== true,
      known: chunkFates,
    });
    if (attempt === 0) addCounts(released, open.settledLoses);
    if (needsRead.length > 0) {
      const fresh = await ctx.directory.principals(tenantId, needsRead);
      for (const id of needsRead) {
        const record = fresh.get(id);
        if (record) records.set(id, record);
        else records.delete(id);
      }
      needsRead = [];
    }

    let writes: PrincipalWrite[];
    try {
      writes = await planWrites(
        ctx,
        tenantId,
        partition,
        remaining,
        records,
        open.unusedGains,
        options,
        mailboxes,
      );
    } catch (error: unknown) {
      if (!(error instanceof MailboxClaimLostError)) throw error;
      needsRead = remaining;
      await backoff(attempt);
      continue;
    }
    const chunks = ctx.writer.plan(tenantId, writes, `${options.reservationId}.${runKey}-${attempt}`);
    const claim = await ctx.ledger.claim(
      tenantId,
      partition.subscriptions,
      open,
      chunks.map((c) => c.plan),
      ctx.now(),
    );
    if (claim.outcome === 'conflict') {
      await backoff(attempt);
      continue;
    }
    // Seats reserved by an earlier attempt that this plan no longer needs went back to the counters: waiters
    // refused while they were reserved are woken like those of any other release.
    for (const [skuId, n] of Object.entries(claim.returned)) if (n > 0) waitingSkus.add(skuId);
    const withMarkers = claim.outcome === 'claimed';
    if (withMarkers) faultPoint(ctx, 'seats:claimed');
    // Markers of reservations no longer open can go, on the first attempt only (a concurrent cleaner may have
    // removed some since, which would fail the transaction).
    const cleanup =
      attempt === 0 && options.markers
        ? { markers: options.markers, openReservations: new Set(partition.reservations.keys()) }
        : undefined;
    const outcomes = await ctx.writer.write(chunks, withMarkers, cleanup);

    const failedIds: string[] = [];
    const landedPlans = [];
    for (const outcome of outcomes) {
      chunkFates.set(outcome.chunk.plan.key, outcome.landed);
      if (outcome.landed) {
        landedPlans.push(outcome.chunk.plan);
        for (const write of outcome.chunk.writes) {
          if (write.after.deletedDateTime === null) {
            for (const waiter of waitingFor(write.after.id, write.after.entries))
              waitingSkus.add(waiter.skuId);
          }
        }
        addCounts(released, outcome.chunk.plan.loses);
        mailboxes.landed(outcome.chunk.writes);
        for (const write of outcome.chunk.writes) {
          const { after } = write;
          const id = after.id;
          if (outcome.unpurged.has(id)) {
            // Changed by someone else between the chunk and the delete: read it and delete it again.
            failedIds.push(id);
            continue;
          }
          if (write.purge) results.delete(id);
          else results.set(id, { ...after, etag: outcome.etags.get(id) ?? after.etag });
          changed++;
        }
      } else {
        for (const write of outcome.chunk.writes) failedIds.push(write.after.id);
      }
    }
    const written = new Set(writes.map((w) => w.after.id));
    for (const id of remaining) {
      const record = records.get(id);
      if (!written.has(id) && record) results.set(id, record);
    }

    if (failedIds.length > 0) {
      const failed = new Set(failedIds);
      remaining = remaining.filter((id) => failed.has(id));
      needsRead = remaining;
      records = new Map([...records].filter(([id]) => !failed.has(id)));
      await backoff(attempt);
      continue;
    }
    if (withMarkers || open.existing) {
      faultPoint(ctx, 'seats:written');
      await ctx.ledger.close(tenantId, open, landedPlans, async () => {
        const fresh = await ctx.tenants.partition(tenantId);
        return fresh?.subscriptions ?? new Map<string, SubscriptionRecord>();
      });
    }
    await wakeAfterWrites(ctx, tenantId, waitingSkus, await mailboxes.finish());
    return { records: results, released, changed };
  }
}

/** The ports the address checks need (a unit test hands them in-memory doubles). */
export type MailboxPorts = Pick<AppContext, 'proxies' | 'directory' | 'tenants' | 'queues' | 'now'>;

/**
 * The sweep's safety net for addresses: users refused a mailbox whose addresses are held by nobody else (once a
 * holder left by work that died is let go) are evaluated again. Returns how many were.
 */
export async function recheckMailboxRefusals(
  ctx: MailboxPorts,
  tenantId: string,
  refused: ReadonlyMap<string, readonly string[]>,
): Promise<number> {
  const mailboxes = new MailboxWork(ctx, tenantId);
  for (const [userId, addresses] of refused) mailboxes.refusedBy(userId, addresses);
  const wake = await mailboxes.finish();
  await wakeAfterWrites(ctx, tenantId, new Set(), wake);
  return wake.size;
}

/**
 * Who holds a shared address against a user, for a request checked before anything is evaluated (direct
 * assignLicense): a holder held for nothing — left by work that died — is let go first, like an evaluation does.
 */
export async function mailboxHolder(
  ctx: MailboxPorts,
  tenantId: string,
  address: string,
): Promise<string | null> {
  const mailboxes = new MailboxWork(ctx, tenantId);
  const holder = await mailboxes.check(address.toLowerCase());
  await wakeAfterWrites(ctx, tenantId, new Set(), await mailboxes.finish());
  return holder;
}

/**
 * Automatic healing after writes. Seats: a principal evaluated while seats were short may be written just after
 * another worker freed a seat and looked for waiters, so whoever writes a waiter checks for free seats afterwards
 * and wakes the waiting room itself; so does a run whose claim gave back seats an earlier attempt reserved. Addresses: a mailbox given up (or a claim that came to nothing) frees its
 * shared proxy addresses, so the other users listing them — refused for UniquenessViolation while it was held —
 * are evaluated again; so is a user written as refused whose addresses turned out free (`MailboxWork.finish`).
 */
async function wakeAfterWrites(
  ctx: Pick<AppContext, 'tenants' | 'queues' | 'now'>,
  tenantId: string,
  skuIds: ReadonlySet<string>,
  addressSharers: ReadonlySet<string>,
): Promise<void> {
  if (skuIds.size === 0 && addressSharers.size === 0) return;
  const partition = await ctx.tenants.partition(tenantId);
  if (partition?.tenant.licenseErrorHealing !== 'automatic') return;
  const sharers = [...addressSharers];
  for (let i = 0; i < sharers.length; i += 500) {
    const message: ChangesMessage = {
      kind: 'changes',
      tenantId,
      origin: 'system',
      changes: [{ type: 'evaluate', principalIds: sharers.slice(i, i + 500) }],
    };
    await ctx.queues.send('changes', message);
  }
  for (const skuId of skuIds) {
    const sub = partition.subscriptions.get(skuId);
    if (sub && totalUnits(sub.prepaidUnits) - sub.consumedUnits > 0) {
      await ctx.queues.send('heal', healRequest(tenantId, skuId, ctx.now()));
    }
  }
}

/** Applies the directory change and evaluates each principal; returns the writes that change something. */
async function planWrites(
  ctx: AppContext,
  tenantId: string,
  partition: TenantPartition,
  orderedIds: readonly string[],
  records: ReadonlyMap<string, PrincipalRecord>,
  unusedGains: Counts,
  options: UpdateOptions,
  mailboxes: MailboxWork,
): Promise<PrincipalWrite[]> {
  const now = ctx.now().toISOString();
  const groups = new GroupCache(ctx.directory, tenantId);
  const drafts = new Map<string, PrincipalRecord | null>();
  const deviceGroups = new Set<string>();
  for (const id of orderedIds) {
    const before = records.get(id);
    if (!before) continue;
    const draft = options.mutate ? options.mutate(before, now) : before;
    drafts.set(id, draft);
    if (draft && draft.kind === 'device') for (const m of draft.memberOf) deviceGroups.add(m.groupId);
  }
  if (deviceGroups.size > 0) await groups.loadWithAncestors(deviceGroups);
  const lookupGroup = groupLookup(partition, groups);

  const budget = new ClaimBudget(partition.subscriptions, unusedGains);
  const proxyView = await mailboxes.view([...drafts.values()]);
  const evaluation = evaluationContext(ctx, partition, budget, proxyView, now);

  const writes: PrincipalWrite[] = [];
  for (const id of orderedIds) {
    const before = records.get(id);
    if (!before || !drafts.has(id)) continue;
    const draft = drafts.get(id) ?? null;
    if (draft === null) {
      // A hard delete: the principal is written as deleted and holding no seat, then removed (PrincipalWrite.purge).
      if (before.deletedDateTime === null) {
        const suspension = suspendEntries(before.entries, now);
        const after = { ...before, deletedDateTime: now, entries: suspension.entries, mailboxActive: false };
        writes.push({ before, after, gains: [], loses: suspension.seatsReleased, purge: true });
      } else {
        writes.push({ before, after: before, gains: [], loses: [], purge: true });
      }
      continue;
    }
    let after: PrincipalRecord;
    let gains: readonly string[] = [];
    let loses: readonly string[] = [];
    if (draft.deletedDateTime !== null) {
      if (before.deletedDateTime === null) {
        const suspension = suspendEntries(before.entries, now);
        after = { ...draft, entries: suspension.entries, mailboxActive: false };
        loses = suspension.seatsReleased;
      } else {
        after = draft;
      }
    } else {
      const sources = deriveSources(
        ctx.catalog,
        draft.kind,
        draft.directLicenses,
        draft.memberOf,
        lookupGroup,
      );
      const result = evaluatePrincipal(evaluation, factsOf(draft), sources, draft.entries);
      after = { ...draft, entries: result.entries, mailboxActive: result.mailboxActive };
      gains = result.seatsTaken;
      loses = result.seatsReleased;
    }
    if (gains.length > 0 || loses.length > 0) {
      writes.push({ before, after, gains, loses });
      continue;
    }
    // Unchanged unless its row would differ; the writer reuses these encodings rather than make them again.
    const rows = { before: encodePrincipal(ctx.catalog, before), after: encodePrincipal(ctx.catalog, after) };
    if (JSON.stringify(rows.before) === JSON.stringify(rows.after)) continue;
    writes.push({ before, after, gains, loses, rows });
  }
  await mailboxes.claim(writes);
  return writes;
}

/** What the engine evaluates a principal of this tenant with: its settings, its subscriptions, seats and addresses. */
export function evaluationContext(
  ctx: Pick<AppContext, 'catalog'>,
  partition: TenantPartition,
  seats: SeatBudget,
  proxyAddresses: ProxyAddressView,
  now: string,
): EvaluationContext {
  return {
    catalog: ctx.catalog,
    tenant: settingsOf(partition.tenant),
    isSubscribed: (skuId) => isSubscriptionUsable(partition.subscriptions.get(skuId)),
    seats,
    proxyAddresses,
    now,
  };
}

/** A group's licenses (from the tenant partition) and nesting (from `groups`, loaded beforehand), for the engine. */
export function groupLookup(
  partition: TenantPartition,
  groups: GroupCache,
): (groupId: string) => GroupLicensing {
  return (groupId) => {
    const licensing = partition.groupLicenses.get(groupId);
    return {
      id: groupId,
      licenses: licensing?.licenses ?? [],
      licensedSince: licensing?.licensedSince ?? null,
      memberOf: groups.known(groupId)?.memberOf ?? [],
    };
  };
}

/**
 * New seats come only from what the counters say is free (plus seats this work already reserved). Seats released
 * by a principal of the same batch are not offered to the next one: they are given back only once the releasing
 * principal is written, so no moment exists in which two rows hold one seat. Healing hands them on afterwards.
 */
class ClaimBudget implements SeatBudget {
  private readonly free = new Map<string, number>();

  constructor(subscriptions: ReadonlyMap<string, SubscriptionRecord>, unusedGains: Counts) {
    for (const [skuId, sub] of subscriptions) {
      this.free.set(skuId, totalUnits(sub.prepaidUnits) - sub.consumedUnits + (unusedGains[skuId] ?? 0));
    }
  }

  tryTake(skuIds: readonly string[]): boolean {
    if (skuIds.some((s) => (this.free.get(s) ?? 0) < 1)) return false;
    for (const s of skuIds) this.free.set(s, (this.free.get(s) ?? 0) - 1);
    return true;
  }

  release(): void {}
}

/**
 * The mailbox side of one `updatePrincipals` run (rules.md §3.3; src/storage/README.md, "Addresses"). Users that share
 * an address claim it, with this run's ticket, before a row giving them a mailbox is written; once the run is over
 * (written or not, on success or failure) `finish` settles every address it touched: its claims end, and an address
 * whose holder's row has no mailbox on it — a claim that came to nothing, a mailbox given up — is let go. The other
 * users listing a freed address are returned to be evaluated again, and so is a user this run wrote as refused a
 * mailbox whose addresses turn out free: the release it was refused for may have come just after its evaluation
 * read the holders (whoever writes a refusal checks afterwards, as whoever writes a seat waiter does).
 */
class MailboxWork {
  /** One ticket per run: a duplicate delivery of the same message is another run with its own claims. */
  private readonly ticket: ClaimTicket;
  /** Lowercased address → whether this run put its ticket on it. */
  private readonly touched = new Map<string, boolean>();
  /** Users written as refused a mailbox, with their addresses. */
  private readonly refused = new Map<string, readonly string[]>();
  private readonly sharers = new Set<string>();
  finished = false;

  constructor(
    private readonly ctx: Pick<AppContext, 'proxies' | 'directory' | 'now'>,
    private readonly tenantId: string,
  ) {
    this.ticket = {
      id: randomUUID(),
      until: new Date(ctx.now().getTime() + RESERVATION_LEASE_MS).toISOString(),
    };
  }

  /** Whether a user's row, read now, has a working mailbox on the address. */
  private readonly holdsMailbox: MailboxCheck = async (userId, address) => {
    const record = await this.ctx.directory.principal(this.tenantId, userId);
    return (
      record !== undefined &&
      record.deletedDateTime === null &&
      record.mailboxActive &&
      record.proxyAddresses.some((a) => a.toLowerCase() === address)
    );
  };

  /**
   * Who holds the shared addresses of the principals about to be evaluated. A holder another of them is refused
   * for is checked first: a holder left by work that died (its claim's lease ran out) is let go, not obeyed.
   */
  async view(drafts: readonly (PrincipalRecord | null)[]): Promise<ProxyAddressView> {
    const listers = new Map<string, Set<string>>();
    for (const draft of drafts) {
      if (!draft?.sharedProxy) continue;
      for (const a of draft.proxyAddresses) {
        const address = a.toLowerCase();
        const set = listers.get(address) ?? new Set<string>();
        set.add(draft.id);
        listers.set(address, set);
      }
    }
    const holders = new Map<string, string | null>();
    await Promise.all(
      [...listers].map(async ([address, ids]) => {
        let { holder } = await this.ctx.proxies.read(this.tenantId, address);
        if (holder !== null && [...ids].some((id) => id !== holder)) holder = await this.check(address);
        holders.set(address, holder);
      }),
    );
    return {
      isHeldByAnother: (address, principalId) => {
        const holder = holders.get(address);
        return holder !== undefined && holder !== null && holder !== principalId;
      },
    };
  }

  /**
   * Users that share an address claim it before their mailbox is written; a claim lost to another user means this
   * user's evaluation was made on stale facts, so the write is dropped and the conflict surfaces on retry.
   */
  async claim(writes: readonly PrincipalWrite[]): Promise<void> {
    for (let i = writes.length - 1; i >= 0; i--) {
      const write = writes[i];
      const after = write?.after;
      if (!write || !after?.sharedProxy || !after.mailboxActive || write.before?.mailboxActive) continue;
      for (const a of after.proxyAddresses) {
        const address = a.toLowerCase();
        this.touched.set(address, true);
        if (!(await this.ctx.proxies.claim(this.tenantId, address, after.id, this.ticket, this.ctx.now()))) {
          throw new MailboxClaimLostError(after.id, address);
        }
      }
    }
  }

  /** A chunk landed: notes the shared addresses whose mailbox went, and the users written as refused one. */
  landed(writes: readonly PrincipalWrite[]): void {
    for (const { before, after } of writes) {
      const present = after.deletedDateTime === null;
      if (before?.sharedProxy && before.mailboxActive) {
        const kept = new Set(
          present && after.mailboxActive ? after.proxyAddresses.map((a) => a.toLowerCase()) : [],
        );
        for (const a of before.proxyAddresses) {
          const address = a.toLowerCase();
          if (!kept.has(address) && !this.touched.has(address)) this.touched.set(address, false);
        }
      }
      if (present && after.sharedProxy && after.entries.some((e) => e.error === 'UniquenessViolation')) {
        this.refusedBy(after.id, after.proxyAddresses);
      } else {
        this.refused.delete(after.id);
      }
    }
  }

  /** A user refused a mailbox, to check in `finish`. */
  refusedBy(userId: string, addresses: readonly string[]): void {
    this.refused.set(userId, addresses);
  }

  /**
   * Settles every address this run touched and checks the refusals it wrote. Returns the users to evaluate again.
   */
  async finish(): Promise<ReadonlySet<string>> {
    this.finished = true;
    await Promise.all(
      [...this.touched].map(async ([address, ticketed]) => {
        const { released } = await this.ctx.proxies.settle(
          this.tenantId,
          address,
          ticketed ? this.ticket.id : null,
          this.ctx.now(),
          this.holdsMailbox,
        );
        for (const id of released) this.sharers.add(id);
      }),
    );
    for (const [userId, addresses] of this.refused) {
      const holders = await Promise.all(addresses.map((a) => this.check(a.toLowerCase())));
      if (holders.every((holder) => holder === null || holder === userId)) this.sharers.add(userId);
    }
    return this.sharers;
  }

  /** The holder of an address once one held for nothing is let go (its other users are then evaluated again). */
  async check(address: string): Promise<string | null> {
    const { holder, released } = await this.ctx.proxies.settle(
      this.tenantId,
      address,
      null,
      this.ctx.now(),
      this.holdsMailbox,
    );
    for (const id of released) this.sharers.add(id);
    return holder;
  }
}

export class MailboxClaimLostError extends Error {
  constructor(userId: string, address: string) {
    super(`Proxy address ${address} was claimed by another mailbox while ${userId} was evaluated; retry.`);
    this.name = 'MailboxClaimLostError';
  }
}
