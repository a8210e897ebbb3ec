// The what-if of a group license change (`POST /groups/{id}/previewLicenseAssignment`): the group's members are
// evaluated with the engine as if the change were made, against the seats free now, and nothing is written. It
// walks the members as a group job does — a range of member shards at a time — so memory stays bounded.
import {
  type AssignLicenseRequest,
  deriveSources,
  evaluatePrincipal,
  type GroupLicensing,
  type LicenseEntry,
  type ProxyAddressView,
  type SeatBudget,
  totalUnits,
} from '../engine/index.js';
import { SHARD_COUNT, shardOf } from '../storage/keys.js';
import type { MemberRef } from '../storage/members.js';
import { factsOf } from '../storage/principal-records.js';
import type { AppContext } from './context.js';
import { getGroup } from './directory.js';
import { NotFoundError } from './errors.js';
import { GroupCache } from './group-cache.js';
import { groupsUnder, jobPageShards, proposedLicenses, readsDensely } from './group-licensing.js';
import { evaluationContext, groupLookup } from './principal-updates.js';
import type { PrincipalRecord, SubscriptionRecord } from './records.js';

/** Member shards read at once: a sixteenth of the group per step (or a job page, when a page is wider). */
const SHARDS_PER_STEP = 16;
/** Ids named per outcome, as a sample. */
const SAMPLE = 5;

export interface SkuPreview {
  readonly skuId: string;
  readonly skuPartNumber: string;
  /** Seats the change would take (members newly holding the SKU) and give back. */
  readonly seatsNeeded: number;
  readonly seatsReleased: number;
  /** Free now (Total − consumed), and how many of the needed seats that leaves missing. */
  readonly seatsAvailable: number;
  readonly seatsShort: number;
}

export interface OutcomePreview {
  readonly count: number;
  /** A few of the members concerned. */
  readonly sample: readonly string[];
}

export interface LicenseAssignmentPreview {
  readonly membersEvaluated: number;
  readonly skus: readonly SkuPreview[];
  /** Members whose entries from this group would be in error, by error type. */
  readonly errors: Readonly<Record<string, OutcomePreview>>;
  /** Members whose licenses from other sources would change (conflicts, dependency holds). */
  readonly otherLicensesChanged: OutcomePreview;
}

/**
 * Evaluates the group's members (users, and devices for device SKUs, through nested groups too) as if `request`
 * were applied, refusing the request exactly as `assignLicense` would. Members are evaluated page by page as the
 * group's job would reach them (`jobPageShards`), each page in the order its members joined, against the seats free
 * now — so who gets a contested seat is who the job would give it to.
 */
export async function previewGroupLicenses(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
  request: AssignLicenseRequest,
): Promise<LicenseAssignmentPreview> {
  const group = await getGroup(ctx, tenantId, groupId);
  const partition = await ctx.tenants.partition(tenantId);
  if (!partition) throw new NotFoundError(tenantId);
  const licenses = proposedLicenses(ctx, partition, group, request);
  const current = partition.groupLicenses.get(group.id);
  const now = ctx.now().toISOString();
  const groups = new GroupCache(ctx.directory, tenantId);
  const asTheyAre = groupLookup(partition, groups);
  // The group as the change would leave it; every other group as it is.
  const lookupGroup = (id: string): GroupLicensing =>
    id === group.id
      ? {
          id,
          licenses,
          licensedSince: licenses.length === 0 ? null : (current?.licensedSince ?? now),
          memberOf: group.memberOf,
        }
      : asTheyAre(id);
  const budget = new PagedSeatBudget(partition.subscriptions.values());
  const held = new HeldAddresses(ctx, tenantId);
  const evaluation = evaluationContext(ctx, partition, budget, held, now);

  const needed = new Map<string, number>();
  const waiting = new Map<string, number>();
  const released = new Map<string, number>();
  const errors = new Map<string, { count: number; sample: string[] }>();
  const others = { count: 0, sample: [] as string[] };
  let evaluated = 0;
  const evaluate = (record: PrincipalRecord) => {
    if (record.deletedDateTime !== null) return;
    evaluated++;
    const sources = deriveSources(
      ctx.catalog,
      record.kind,
      record.directLicenses,
      record.memberOf,
      lookupGroup,
    );
    const result = evaluatePrincipal(evaluation, factsOf(record), sources, record.entries);
    for (const skuId of result.seatsTaken) needed.set(skuId, (needed.get(skuId) ?? 0) + 1);
    for (const skuId of result.seatsReleased) released.set(skuId, (released.get(skuId) ?? 0) + 1);
    // A member counts once per error type, however many of the group's SKUs share it (a source fails whole).
    const failed = new Set<string>();
    for (const entry of result.entries) {
      if (entry.assignedByGroup !== group.id || entry.error === 'None') continue;
      if (entry.error === 'CountViolation') waiting.set(entry.skuId, (waiting.get(entry.skuId) ?? 0) + 1);
      failed.add(entry.error);
    }
    for (const error of failed) {
      const tally = errors.get(error) ?? { count: 0, sample: [] };
      tally.count++;
      if (tally.sample.length < SAMPLE) tally.sample.push(record.id);
      errors.set(error, tally);
    }
    if (!sameEntries(otherSources(record.entries, group.id), otherSources(result.entries, group.id))) {
      others.count++;
      if (others.sample.length < SAMPLE) others.sample.push(record.id);
    }
  };

  // The group's own members, as the job's pages reach them: a step of shards at a time (a sixteenth of the group, or
  // one page of about a thousand members when pages are wider), each page in the order its members joined. Then
  // devices of nested groups (device SKUs reach them), a page per nested group, each device once.
  const seen = new Set<string>();
  const memberCount = await ctx.members.count(tenantId, group.id);
  const pageShards = jobPageShards(memberCount);
  const step = Math.max(SHARDS_PER_STEP, pageShards);
  // A group that is a good part of the tenant is read as its job reads it: a range read per step, not a point read
  // per member (B8 in docs/performance.md).
  const dense = await readsDensely(ctx, tenantId, memberCount);
  for (let from = 0; from < SHARD_COUNT; from += step) {
    const to = Math.min(SHARD_COUNT, from + step);
    const refs = (await ctx.members.listRange(tenantId, group.id, from, to)).filter(
      (m) => m.kind !== 'group',
    );
    const ids = refs.map((m) => m.id);
    const records = dense
      ? await ctx.directory.principalShards(tenantId, from, to, new Set(ids))
      : await ctx.directory.principals(tenantId, ids);
    await groups.loadWithAncestors(deviceGroupsOf(records.values()));
    await held.load(records.values());
    const pages = new Map<number, MemberRef[]>();
    for (const ref of refs) {
      const page = Math.floor(shardOf(ref.id) / pageShards);
      const list = pages.get(page);
      if (list) list.push(ref);
      else pages.set(page, [ref]);
    }
    for (const page of [...pages.keys()].sort((a, b) => a - b)) {
      for (const ref of arrivalOrder(pages.get(page) ?? [])) {
        const record = records.get(ref.id);
        if (!record) continue;
        seen.add(ref.id);
        evaluate(record);
      }
      budget.endPage();
    }
  }
  for (const nested of (await groupsUnder(ctx, tenantId, group.id)).filter((id) => id !== group.id)) {
    const devices = arrivalOrder(
      (await ctx.members.listRange(tenantId, nested)).filter((m) => m.kind === 'device' && !seen.has(m.id)),
    ).map((m) => m.id);
    const records = await ctx.directory.principals(tenantId, devices);
    await groups.loadWithAncestors(deviceGroupsOf(records.values()));
    for (const id of devices) {
      const record = records.get(id);
      if (!record || seen.has(id)) continue;
      seen.add(id);
      evaluate(record);
    }
    budget.endPage();
  }

  const skuIds = new Set([...needed.keys(), ...released.keys(), ...licenses.map((l) => l.skuId)]);
  const skus = [...skuIds].sort().map((skuId): SkuPreview => {
    const sub = partition.subscriptions.get(skuId);
    const total = sub ? sub.prepaidUnits.enabled + sub.prepaidUnits.warning : 0;
    const short = waiting.get(skuId) ?? 0;
    return {
      skuId,
      skuPartNumber: ctx.catalog.sku(skuId)?.skuPartNumber ?? skuId,
      // Those who would take a seat, and those who would wait for one in CountViolation.
      seatsNeeded: (needed.get(skuId) ?? 0) + short,
      seatsReleased: released.get(skuId) ?? 0,
      seatsAvailable: sub ? Math.max(0, total - sub.consumedUnits) : 0,
      seatsShort: short,
    };
  });
  return {
    membersEvaluated: evaluated,
    skus,
    errors: Object.fromEntries([...errors].sort(([a], [b]) => a.localeCompare(b))),
    otherLicensesChanged: others,
  };
}

function otherSources(entries: readonly LicenseEntry[], groupId: string): string[] {
  return entries
    .filter((e) => e.assignedByGroup !== groupId)
    .map(
      (e) => `${e.assignedByGroup ?? 'direct'}|${e.skuId}|${e.state}|${e.error}|${e.disabledPlans.join(',')}`,
    )
    .sort();
}

function sameEntries(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Members in the order they joined, ties by id: the order a job page evaluates them in (contested seats). */
function arrivalOrder(refs: readonly MemberRef[]): MemberRef[] {
  return [...refs].sort((a, b) =>
    a.joinedAt !== b.joinedAt ? (a.joinedAt < b.joinedAt ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
}

/**
 * The seats free now, taken as the job's pages would take them: a seat given back during a page is free again only
 * to the pages after it, because a page claims its seats against the counters it read and its releases land when it
 * closes (the seat ledger). Freed seats that waiters outside the group would heal into are not foreseen.
 */
class PagedSeatBudget implements SeatBudget {
  private readonly free = new Map<string, number>();
  private readonly returned = new Map<string, number>();

  constructor(subscriptions: Iterable<SubscriptionRecord>) {
    for (const sub of subscriptions)
      this.free.set(sub.skuId, totalUnits(sub.prepaidUnits) - sub.consumedUnits);
  }

  tryTake(skuIds: readonly string[]): boolean {
    if (skuIds.some((s) => (this.free.get(s) ?? 0) < 1)) return false;
    for (const s of skuIds) this.free.set(s, (this.free.get(s) ?? 0) - 1);
    return true;
  }

  release(skuId: string): void {
    this.returned.set(skuId, (this.returned.get(skuId) ?? 0) + 1);
  }

  /** A page closed: what it gave back is free for the next. */
  endPage(): void {
    for (const [skuId, n] of this.returned) this.free.set(skuId, (this.free.get(skuId) ?? 0) + n);
    this.returned.clear();
  }
}

function deviceGroupsOf(records: Iterable<PrincipalRecord>): string[] {
  const ids: string[] = [];
  for (const record of records)
    if (record.kind === 'device') for (const m of record.memberOf) ids.push(m.groupId);
  return ids;
}

/**
 * The mailbox holders of the addresses that members share with someone (few: `sharedProxy`), read as members are
 * reached, so a second mailbox on a held address is refused as the service would refuse it.
 */
class HeldAddresses implements ProxyAddressView {
  private readonly holders = new Map<string, string | null>();

  constructor(
    private readonly ctx: Pick<AppContext, 'proxies'>,
    private readonly tenantId: string,
  ) {}

  async load(records: Iterable<PrincipalRecord>): Promise<void> {
    for (const record of records) {
      if (!record.sharedProxy) continue;
      for (const address of record.proxyAddresses) {
        const key = address.toLowerCase();
        if (!this.holders.has(key))
          this.holders.set(key, (await this.ctx.proxies.read(this.tenantId, key)).holder);
      }
    }
  }

  isHeldByAnother(address: string, principalId: string): boolean {
    const holder = this.holders.get(address.toLowerCase());
    return holder !== undefined && holder !== null && holder !== principalId;
  }
}
