import type { Catalog } from './catalog.js';
import { holdsSeat } from './effective.js';
import { type EvaluationContext, evaluatePrincipal, type PrincipalEvaluation } from './evaluate.js';
import { fail, failures, ok, type Result } from './failures.js';
import { compareWaiters, type Waiter, waitingFor } from './healing.js';
import { suspendEntries } from './lifecycle.js';
import type {
  GroupFacts,
  GroupLicenseAssignment,
  Guid,
  IsoTime,
  LicenseEntry,
  LicenseSource,
  MemberKind,
  PrepaidUnits,
  PrincipalFacts,
  PrincipalKind,
  TenantSettings,
} from './model.js';
import type { SeatBudget } from './seats.js';
import { totalUnits } from './seats.js';
import { type DirectLicense, deriveSources, type GroupLicensing, type MembershipEdge } from './sources.js';
import type { PrincipalSnapshot, TenantSnapshot } from './tenant.js';
import {
  type AssignLicenseRequest,
  validateDirectLicenseChange,
  validateGroupLicenseChange,
} from './validation.js';

interface PrincipalRecord {
  facts: PrincipalFacts;
  deleted: boolean;
  deletedAt: IsoTime | null;
  directLicenses: DirectLicense[];
  memberOf: MembershipEdge[];
  entries: LicenseEntry[];
  mailboxActive: boolean;
  /** The (lowercased) addresses whose mailbox this principal holds. */
  claimedAddresses: string[];
}

interface GroupRecord {
  facts: GroupFacts;
  licenses: GroupLicenseAssignment[];
  licensedSince: IsoTime | null;
  memberOf: MembershipEdge[];
  members: Map<Guid, { kind: PrincipalKind | 'group'; joinedAt: IsoTime }>;
}

/**
 * The reference implementation of incremental processing: one worker, the whole tenant in memory, every change
 * applied at once. It defines what each change re-evaluates and how healing proceeds (rules.md §4–§6); the storage
 * pipeline must reach the same states, and property tests check that this model always equals the from-scratch
 * evaluation. The clock is injected so runs are reproducible.
 */
export class ReferenceTenant {
  private readonly subscriptions = new Map<Guid, PrepaidUnits>();
  private readonly consumed = new Map<Guid, number>();
  private readonly principals = new Map<Guid, PrincipalRecord>();
  private readonly groups = new Map<Guid, GroupRecord>();
  private readonly mailboxes = new Map<string, Guid>();

  constructor(
    private readonly catalog: Catalog,
    private settings: TenantSettings,
    private readonly clock: () => IsoTime,
  ) {}

  // ----- reads -------------------------------------------------------------------------------------------------

  entriesOf(principalId: Guid): readonly LicenseEntry[] {
    return this.principals.get(principalId)?.entries ?? [];
  }

  consumedUnits(skuId: Guid): number {
    return this.consumed.get(skuId) ?? 0;
  }

  available(skuId: Guid): number {
    const units = this.subscriptions.get(skuId);
    return units ? Math.max(0, totalUnits(units) - this.consumedUnits(skuId)) : 0;
  }

  allEntries(): Map<Guid, readonly LicenseEntry[]> {
    return new Map([...this.principals].map(([id, p]) => [id, p.entries] as const));
  }

  allConsumed(): Map<Guid, number> {
    return new Map([...this.subscriptions.keys()].map((sku) => [sku, this.consumedUnits(sku)] as const));
  }

  groupLicenses(groupId: Guid): readonly GroupLicenseAssignment[] {
    return this.groups.get(groupId)?.licenses ?? [];
  }

  /** The tenant as plain data, for the from-scratch oracle. */
  snapshot(): TenantSnapshot {
    const principals: PrincipalSnapshot[] = [...this.principals.values()].map((p) => ({
      facts: p.facts,
      deleted: p.deleted,
      directLicenses: p.directLicenses,
      memberOf: p.memberOf,
    }));
    const groups: GroupLicensing[] = [...this.groups.values()].map((g) => this.licensingOf(g));
    return {
      settings: this.settings,
      subscriptions: [...this.subscriptions].map(([skuId, prepaidUnits]) => ({ skuId, prepaidUnits })),
      principals,
      groups,
    };
  }

  // ----- tenant and directory ----------------------------------------------------------------------------------

  setHealing(mode: TenantSettings['licenseErrorHealing']): void {
    this.settings = { ...this.settings, licenseErrorHealing: mode };
    this.heal();
  }

  setUnits(skuId: Guid, units: PrepaidUnits): void {
    this.subscriptions.set(skuId, units);
    this.heal();
  }

  addPrincipal(facts: PrincipalFacts): void {
    if (this.principals.has(facts.id)) throw new Error(`principal ${facts.id} exists`);
    this.principals.set(facts.id, {
      facts,
      deleted: false,
      deletedAt: null,
      directLicenses: [],
      memberOf: [],
      entries: [],
      mailboxActive: false,
      claimedAddresses: [],
    });
  }

  addGroup(facts: GroupFacts): void {
    if (this.groups.has(facts.id)) throw new Error(`group ${facts.id} exists`);
    this.groups.set(facts.id, { facts, licenses: [], licensedSince: null, memberOf: [], members: new Map() });
  }

  /** A change to the user itself re-evaluates it, whatever the healing mode (rules.md §6). */
  updateUser(
    userId: Guid,
    patch: { usageLocation?: string | null; proxyAddresses?: readonly string[] },
  ): void {
    const record = this.requirePrincipal(userId);
    record.facts = { ...record.facts, ...patch };
    if (!record.deleted) this.evaluate([userId]);
    this.heal();
  }

  addMember(groupId: Guid, memberId: Guid, kind: MemberKind): boolean {
    const group = this.requireGroup(groupId);
    if (group.members.has(memberId)) return false;
    const joinedAt = this.clock();
    group.members.set(memberId, { kind, joinedAt });
    if (kind === 'group') {
      this.requireGroup(memberId).memberOf.push({ groupId, joinedAt });
      this.evaluate(this.inArrivalOrder(this.devicesUnder(memberId), groupId));
    } else {
      const member = this.requirePrincipal(memberId);
      member.memberOf.push({ groupId, joinedAt });
      if (!member.deleted) this.evaluate([memberId]);
    }
    this.heal();
    return true;
  }

  removeMember(groupId: Guid, memberId: Guid): boolean {
    const group = this.requireGroup(groupId);
    const membership = group.members.get(memberId);
    if (!membership) return false;
    if (membership.kind === 'group') {
      const affected = this.devicesUnder(memberId);
      group.members.delete(memberId);
      const nested = this.requireGroup(memberId);
      nested.memberOf = nested.memberOf.filter((e) => e.groupId !== groupId);
      this.evaluate(affected);
    } else {
      group.members.delete(memberId);
      const member = this.requirePrincipal(memberId);
      member.memberOf = member.memberOf.filter((e) => e.groupId !== groupId);
      if (!member.deleted) this.evaluate([memberId]);
    }
    this.heal();
    return true;
  }

  // ----- licensing ---------------------------------------------------------------------------------------------

  /** Group assignLicense: validated, recorded, then every affected member evaluated in the order sources reached them. */
  assignGroupLicenses(
    groupId: Guid,
    request: AssignLicenseRequest,
  ): Result<readonly GroupLicenseAssignment[]> {
    const group = this.requireGroup(groupId);
    const change = validateGroupLicenseChange(
      {
        catalog: this.catalog,
        subscribedSkuIds: new Set(this.subscriptions.keys()),
        group: group.facts,
        current: group.licenses,
        deviceSkuOwners: this.deviceSkuOwners(),
      },
      request,
    );
    if (!change.ok) return change;
    const affectsDevices = [...group.licenses, ...change.value.licenses].some(
      (l) => this.catalog.sku(l.skuId)?.assignableTo === 'device',
    );
    group.licenses = change.value.licenses;
    if (group.licenses.length === 0) group.licensedSince = null;
    else group.licensedSince ??= this.clock();
    const affected = this.directPrincipalMembers(group, 'user');
    if (affectsDevices) affected.push(...this.devicesUnder(groupId));
    this.evaluate(this.inArrivalOrder(affected, groupId));
    this.heal();
    return ok(group.licenses);
  }

  /** Moves a device SKU from one group to another (the device-license "assign to a different group"). */
  moveDeviceLicense(fromGroupId: Guid, skuId: Guid, toGroupId: Guid): Result<void> {
    const from = this.requireGroup(fromGroupId);
    const license = from.licenses.find((l) => l.skuId === skuId);
    if (!license) return fail(failures.notADeviceLicenseOfGroup(skuId, fromGroupId));
    const removal = this.assignGroupLicenses(fromGroupId, { addLicenses: [], removeLicenses: [skuId] });
    if (!removal.ok) return removal;
    const addition = this.assignGroupLicenses(toGroupId, {
      addLicenses: [{ skuId, disabledPlans: license.disabledPlans }],
      removeLicenses: [],
    });
    if (!addition.ok) {
      this.assignGroupLicenses(fromGroupId, { addLicenses: [license], removeLicenses: [] });
      return addition;
    }
    return ok(undefined);
  }

  /** Direct assignLicense: validated against the user's current state, then applied at once. */
  assignUserLicenses(userId: Guid, request: AssignLicenseRequest): Result<readonly LicenseEntry[]> {
    const record = this.requirePrincipal(userId);
    const change = validateDirectLicenseChange(
      {
        catalog: this.catalog,
        subscriptions: new Map(
          [...this.subscriptions].map(([skuId, prepaidUnits]) => [
            skuId,
            { skuId, prepaidUnits, consumedUnits: this.consumedUnits(skuId) },
          ]),
        ),
        user: record.facts,
        entries: record.entries,
        proxyAddresses: this.proxyView(),
      },
      request,
    );
    if (!change.ok) return change;
    const now = this.clock();
    const sinceBySku = new Map(record.directLicenses.map((d) => [d.skuId, d.since] as const));
    record.directLicenses = change.value.licenses.map((l) => ({
      ...l,
      since: sinceBySku.get(l.skuId) ?? now,
    }));
    this.evaluate([userId]);
    this.heal();
    return ok(record.entries);
  }

  reprocessUser(userId: Guid): void {
    this.evaluate([userId]);
    this.heal();
  }

  reprocessGroup(groupId: Guid): void {
    const group = this.requireGroup(groupId);
    this.evaluate(
      this.inArrivalOrder(
        [...this.directPrincipalMembers(group, 'user'), ...this.devicesUnder(groupId)],
        groupId,
      ),
    );
    this.heal();
  }

  // ----- lifecycle ---------------------------------------------------------------------------------------------

  softDelete(userId: Guid): void {
    const record = this.requirePrincipal(userId);
    if (record.deleted) return;
    const suspension = suspendEntries(record.entries, this.clock());
    record.entries = suspension.entries;
    record.deleted = true;
    record.deletedAt = this.clock();
    for (const skuId of suspension.seatsReleased) this.consumed.set(skuId, this.consumedUnits(skuId) - 1);
    this.releaseMailbox(record);
    record.mailboxActive = false;
    this.heal();
  }

  restore(userId: Guid): void {
    const record = this.requirePrincipal(userId);
    if (!record.deleted) return;
    record.deleted = false;
    record.deletedAt = null;
    this.evaluate([userId]);
    this.heal();
  }

  hardDelete(principalId: Guid): void {
    const record = this.principals.get(principalId);
    if (!record) return;
    for (const skuId of new Set(record.entries.filter(holdsSeat).map((e) => e.skuId))) {
      this.consumed.set(skuId, this.consumedUnits(skuId) - 1);
    }
    this.releaseMailbox(record);
    for (const edge of record.memberOf) this.groups.get(edge.groupId)?.members.delete(principalId);
    this.principals.delete(principalId);
    this.heal();
  }

  // ----- machinery ---------------------------------------------------------------------------------------------

  private evaluate(principalIds: readonly Guid[]): void {
    for (const id of principalIds) {
      const record = this.principals.get(id);
      if (!record || record.deleted) continue;
      const result = evaluatePrincipal(this.context(), record.facts, this.sourcesOf(id), record.entries);
      this.apply(record, result);
    }
  }

  private sourcesOf(principalId: Guid): LicenseSource[] {
    const record = this.principals.get(principalId);
    if (!record) return [];
    return deriveSources(this.catalog, record.facts.kind, record.directLicenses, record.memberOf, (g) => {
      const group = this.groups.get(g);
      return group ? this.licensingOf(group) : undefined;
    });
  }

  private apply(record: PrincipalRecord, result: PrincipalEvaluation): void {
    record.entries = result.entries;
    for (const skuId of result.seatsTaken) this.consumed.set(skuId, this.consumedUnits(skuId) + 1);
    for (const skuId of result.seatsReleased) this.consumed.set(skuId, this.consumedUnits(skuId) - 1);
    // Claims are re-taken on every evaluation, not only when the mailbox starts or stops working: a holder whose
    // proxy addresses changed gives up the old ones and takes the new ones (rules.md §3.3 compares current addresses).
    if (result.mailboxActive || record.mailboxActive) this.releaseMailbox(record);
    if (result.mailboxActive) {
      for (const address of record.facts.proxyAddresses) {
        const key = address.toLowerCase();
        if (this.mailboxes.has(key)) continue;
        this.mailboxes.set(key, record.facts.id);
        record.claimedAddresses.push(key);
      }
    }
    record.mailboxActive = result.mailboxActive;
  }

  /**
   * Automatic healing (rules.md §6): while a SKU has free seats and principals wait for it, re-evaluate the earliest
   * waiter. Repeats until nothing moves, because a promotion can free seats of another SKU.
   *
   * A proxy address works the same way (our choice; §6 names only seats): when the mailbox holding an address goes
   * (the holder lost its mailbox plan, changed its addresses, was deleted), the user waiting longest in
   * `UniquenessViolation` whose addresses are now all free is re-evaluated. Without this, the from-scratch
   * evaluation (§7.3) would grant that user what the incremental model keeps refusing.
   */
  private heal(): void {
    if (this.settings.licenseErrorHealing !== 'automatic') return;
    let progressed = true;
    const tried = new Set<string>();
    while (progressed) {
      progressed = false;
      const waiters: Waiter[] = [];
      const addressWaiters: Waiter[] = [];
      for (const [id, record] of this.principals) {
        if (record.deleted) continue;
        waiters.push(...waitingFor(id, record.entries));
        const refused = record.entries.filter((e) => e.error === 'UniquenessViolation');
        if (refused.length > 0 && this.addressesFree(record)) {
          const since = refused.map((e) => e.lastUpdatedDateTime).sort()[0] ?? '';
          addressWaiters.push({ principalId: id, skuId: '', waitingSince: since });
        }
      }
      waiters.sort(compareWaiters);
      for (const waiter of waiters) {
        const attempt = `${waiter.principalId}|${waiter.skuId}|${this.consumedUnits(waiter.skuId)}`;
        if (this.available(waiter.skuId) <= 0 || tried.has(attempt)) continue;
        tried.add(attempt);
        this.evaluate([waiter.principalId]);
        progressed = true;
        break;
      }
      if (progressed) continue;
      const next = addressWaiters.sort(compareWaiters).find((w) => !tried.has(`${w.principalId}|address`));
      if (next) {
        tried.add(`${next.principalId}|address`);
        this.evaluate([next.principalId]);
        progressed = true;
      }
    }
  }

  /** Whether no other principal's working mailbox holds any of this principal's proxy addresses. */
  private addressesFree(record: PrincipalRecord): boolean {
    return record.facts.proxyAddresses.every((address) => {
      const holder = this.mailboxes.get(address.toLowerCase());
      return holder === undefined || holder === record.facts.id;
    });
  }

  private context(): EvaluationContext {
    const budget: SeatBudget = {
      tryTake: (skuIds) => skuIds.every((s) => this.available(s) > 0),
      release: () => {},
    };
    return {
      catalog: this.catalog,
      tenant: this.settings,
      isSubscribed: (skuId) => this.subscriptions.has(skuId),
      seats: budget,
      proxyAddresses: this.proxyView(),
      now: this.clock(),
    };
  }

  private proxyView() {
    return {
      isHeldByAnother: (address: string, principalId: Guid) => {
        const holder = this.mailboxes.get(address);
        return holder !== undefined && holder !== principalId;
      },
    };
  }

  private releaseMailbox(record: PrincipalRecord): void {
    for (const address of record.claimedAddresses) {
      if (this.mailboxes.get(address) === record.facts.id) this.mailboxes.delete(address);
    }
    record.claimedAddresses = [];
  }

  private licensingOf(group: GroupRecord): GroupLicensing {
    return {
      id: group.facts.id,
      licenses: group.licenses,
      licensedSince: group.licensedSince,
      memberOf: group.memberOf,
    };
  }

  private deviceSkuOwners(): Map<Guid, Guid> {
    const owners = new Map<Guid, Guid>();
    for (const group of this.groups.values()) {
      for (const license of group.licenses) {
        if (this.catalog.sku(license.skuId)?.assignableTo === 'device')
          owners.set(license.skuId, group.facts.id);
      }
    }
    return owners;
  }

  private directPrincipalMembers(group: GroupRecord, kind: PrincipalKind): Guid[] {
    return [...group.members].filter(([, m]) => m.kind === kind).map(([id]) => id);
  }

  /** Every device in the group or in groups nested in it, transitively (cycle-safe). */
  private devicesUnder(groupId: Guid): Guid[] {
    const seen = new Set<Guid>([groupId]);
    const pending = [groupId];
    const devices = new Set<Guid>();
    while (pending.length > 0) {
      const id = pending.pop();
      const group = id === undefined ? undefined : this.groups.get(id);
      if (!group) continue;
      for (const [memberId, member] of group.members) {
        if (member.kind === 'device') devices.add(memberId);
        if (member.kind === 'group' && !seen.has(memberId)) {
          seen.add(memberId);
          pending.push(memberId);
        }
      }
    }
    return [...devices];
  }

  /**
   * Principals in the order the group's source reached them, then by id: the contested-seat order of rules.md §3.
   * A source reaches a member at the group's assignment time or the member's join time if later (for devices, the
   * time it came under the group through nesting), so members who joined before the assignment all tie and go by
   * id, exactly as in the from-scratch evaluation; their raw join times would put them in another order.
   */
  private inArrivalOrder(principalIds: readonly Guid[], groupId: Guid): Guid[] {
    const reachedAt = new Map<Guid, IsoTime>();
    for (const id of new Set(principalIds)) {
      const source = this.sourcesOf(id).find((s) => s.groupId === groupId);
      reachedAt.set(id, source?.since ?? '');
    }
    return [...reachedAt.keys()].sort((a, b) => {
      const ra = reachedAt.get(a) ?? '';
      const rb = reachedAt.get(b) ?? '';
      if (ra !== rb) return ra < rb ? -1 : 1;
      return a < b ? -1 : a > b ? 1 : 0;
    });
  }

  private requirePrincipal(id: Guid): PrincipalRecord {
    const record = this.principals.get(id);
    if (!record) throw new Error(`no principal ${id}`);
    return record;
  }

  private requireGroup(id: Guid): GroupRecord {
    const group = this.groups.get(id);
    if (!group) throw new Error(`no group ${id}`);
    return group;
  }
}
