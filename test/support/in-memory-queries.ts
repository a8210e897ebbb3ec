// An in-memory DirectoryQueries for use-case unit tests: the same answers as the Table adapter (the contract test in
// test/storage/directory-queries.test.ts runs one suite against both), from plain arrays.
import { randomUUID } from 'node:crypto';
import type {
  AuditCondition,
  AuditTrail,
  DeletedUser,
  DeviceCondition,
  DirectoryQueries,
  GroupCondition,
  GroupCounts,
  LicensingQueries,
  Page,
  PageRequest,
  TextCondition,
  UserCondition,
  UserQuery,
  WaitingPrincipal,
} from '../../src/application/ports.js';
import type {
  AuditInput,
  DirectoryAudit,
  GroupRecord,
  PrincipalRecord,
} from '../../src/application/records.js';
import { type Catalog, effectiveLicenses, waitingFor } from '../../src/engine/index.js';
import { DirectoryRows } from './in-memory-rows.js';

export class InMemoryDirectoryQueries implements DirectoryQueries {
  readonly auditRecords: (DirectoryAudit & { readonly tenantId: string })[] = [];

  /** `rows`: the directory's rows, shared with the directory store and principal writes doubles. */
  constructor(
    private readonly catalog: Catalog,
    readonly rows = new DirectoryRows(),
  ) {}

  private get principals(): PrincipalRecord[] {
    return [...this.rows.principals.values()];
  }

  private get groupRecords(): GroupRecord[] {
    return [...this.rows.groups.values()];
  }

  async users(tenantId: string, query: UserQuery, page: PageRequest) {
    return pageOf(this.matchingUsers(tenantId, query), page);
  }

  async countUsers(tenantId: string, query: UserQuery) {
    return this.matchingUsers(tenantId, query).length;
  }

  async devices(tenantId: string, conditions: readonly DeviceCondition[], page: PageRequest) {
    return pageOf(this.matchingDevices(tenantId, conditions), page);
  }

  async countDevices(tenantId: string, conditions: readonly DeviceCondition[]) {
    return this.matchingDevices(tenantId, conditions).length;
  }

  async groups(tenantId: string, conditions: readonly GroupCondition[], page: PageRequest) {
    return pageOf(this.matchingGroups(tenantId, conditions), page);
  }

  async countGroups(tenantId: string, conditions: readonly GroupCondition[]) {
    return this.matchingGroups(tenantId, conditions).length;
  }

  async *deletedBefore(tenantId: string, cutoff: string): AsyncIterable<DeletedUser> {
    for (const p of this.principals) {
      if (
        p.tenantId === tenantId &&
        p.kind === 'user' &&
        p.deletedDateTime !== null &&
        p.deletedDateTime < cutoff
      )
        yield { id: p.id, deletedDateTime: p.deletedDateTime };
    }
  }

  async *refusedMailboxes(tenantId: string): AsyncIterable<PrincipalRecord> {
    for (const p of this.principals) {
      if (
        p.tenantId === tenantId &&
        p.deletedDateTime === null &&
        p.entries.some((e) => e.error === 'UniquenessViolation')
      )
        yield p;
    }
  }

  async audits(tenantId: string, conditions: readonly AuditCondition[], page: PageRequest) {
    const found = this.auditRecords
      .filter((a) => a.tenantId === tenantId && conditions.every((c) => auditMatches(a, c)))
      .sort((a, b) => b.activityDateTime.localeCompare(a.activityDateTime))
      .map(({ tenantId: _, ...audit }) => audit);
    return pageOf(found, page);
  }

  async *allPrincipals(tenantId: string): AsyncIterable<PrincipalRecord> {
    yield* this.principals.filter((p) => p.tenantId === tenantId);
  }

  async *allGroups(tenantId: string): AsyncIterable<GroupRecord> {
    yield* this.groupRecords.filter((g) => g.tenantId === tenantId);
  }

  private matchingUsers(tenantId: string, query: UserQuery): PrincipalRecord[] {
    return this.principals
      .filter(
        (p) =>
          p.tenantId === tenantId &&
          p.kind === 'user' &&
          (p.deletedDateTime !== null) === query.deleted &&
          query.conditions.every((c) => this.userMatches(p, c)),
      )
      .sort(byId);
  }

  private userMatches(user: PrincipalRecord, condition: UserCondition): boolean {
    switch (condition.property) {
      case 'assignedLicenses':
        return effectiveLicenses(this.catalog, user.entries).assignedLicenses.some(
          (l) => l.skuId === condition.skuId,
        );
      case 'usageLocation':
        return user.usageLocation === condition.equals.toUpperCase();
      case 'accountEnabled':
        return user.accountEnabled === condition.equals;
      case 'userPrincipalName':
        return user.userPrincipalName === condition.equals;
      case 'displayName':
        return textMatches(user.displayName, condition);
    }
  }

  private matchingDevices(tenantId: string, conditions: readonly DeviceCondition[]): PrincipalRecord[] {
    return this.principals
      .filter(
        (p) =>
          p.tenantId === tenantId &&
          p.kind === 'device' &&
          conditions.every((c) =>
            c.property === 'accountEnabled' ? p.accountEnabled === c.equals : textMatches(p.displayName, c),
          ),
      )
      .sort(byId);
  }

  private matchingGroups(tenantId: string, conditions: readonly GroupCondition[]): GroupRecord[] {
    return this.groupRecords
      .filter(
        (g) =>
          g.tenantId === tenantId &&
          conditions.every((c) =>
            c.property === 'securityEnabled'
              ? g.securityEnabled === c.equals
              : c.property === 'mailEnabled'
                ? g.mailEnabled === c.equals
                : textMatches(g.displayName, c),
          ),
      )
      .sort(byId);
  }
}

/**
 * An audit trail that appends to the in-memory listings' records. A record with an idempotency key keeps one id
 * for that key, so appending it again replaces it, as the table adapter's derived row does.
 */
export class InMemoryAuditTrail implements AuditTrail {
  private readonly idsByKey = new Map<string, string>();

  constructor(private readonly directory: InMemoryDirectoryQueries) {}

  async append(
    tenantId: string,
    inputs: readonly (AuditInput & { idempotencyKey?: string })[],
  ): Promise<void> {
    for (const { idempotencyKey, ...input } of inputs) {
      const key = idempotencyKey === undefined ? undefined : `${tenantId}/${idempotencyKey}`;
      const id = (key && this.idsByKey.get(key)) || randomUUID();
      if (key) this.idsByKey.set(key, id);
      const record: DirectoryAudit & { readonly tenantId: string } = {
        ...input,
        id,
        tenantId,
        correlationId: input.correlationId ?? id,
        loggedByService: 'Core Directory',
        additionalDetails: input.additionalDetails ?? [],
      };
      const at = this.directory.auditRecords.findIndex((a) => a.tenantId === tenantId && a.id === id);
      if (at >= 0) this.directory.auditRecords.splice(at, 1, record);
      else this.directory.auditRecords.push(record);
    }
  }
}

/**
 * Group outcomes and waiting rooms computed from the same principal records: what the principal writer keeps on
 * and beside each row (flags per group, waiting rows) read here straight from the license entries.
 */
export class InMemoryLicensingQueries implements LicensingQueries {
  constructor(private readonly directory: InMemoryDirectoryQueries) {}

  async groupCounts(tenantId: string, groupId: string): Promise<GroupCounts> {
    const counts: GroupCounts = { succeeded: 0, failed: 0, errors: {} };
    for (const principal of this.active(tenantId)) {
      const fromGroup = principal.entries.filter((e) => e.assignedByGroup === groupId);
      if (fromGroup.length === 0) continue;
      const failed = fromGroup.find((e) => e.state === 'Error');
      if (!failed) {
        counts.succeeded++;
        continue;
      }
      counts.failed++;
      counts.errors[failed.error] = (counts.errors[failed.error] ?? 0) + 1;
    }
    return counts;
  }

  async groupsWithErrors(tenantId: string, groupIds: Iterable<string>): Promise<Set<string>> {
    const wanted = new Set(groupIds);
    const found = new Set<string>();
    for (const principal of this.active(tenantId)) {
      for (const e of principal.entries)
        if (e.state === 'Error' && e.assignedByGroup !== null && wanted.has(e.assignedByGroup))
          found.add(e.assignedByGroup);
    }
    return found;
  }

  async *principalsInError(tenantId: string, groupId: string): AsyncIterable<string> {
    for (const principal of this.active(tenantId)) {
      if (principal.entries.some((e) => e.assignedByGroup === groupId && e.state === 'Error'))
        yield principal.id;
    }
  }

  async principalsInErrorPage(tenantId: string, groupId: string, page: PageRequest) {
    return pageOf(
      this.active(tenantId)
        .filter((p) => p.entries.some((e) => e.assignedByGroup === groupId && e.state === 'Error'))
        .sort(byId),
      page,
    );
  }

  /** By the engine's rule the principal writer keeps its waiting-room rows by (`waitingFor`). */
  async waiters(tenantId: string, skuId: string): Promise<WaitingPrincipal[]> {
    const waiting: WaitingPrincipal[] = [];
    for (const principal of this.active(tenantId)) {
      const waiter = waitingFor(principal.id, principal.entries).find((w) => w.skuId === skuId);
      if (waiter) waiting.push({ principalId: principal.id, skuId, waitingSince: waiter.waitingSince });
    }
    return waiting.sort((a, b) =>
      a.waitingSince !== b.waitingSince
        ? a.waitingSince.localeCompare(b.waitingSince)
        : byId({ id: a.principalId }, { id: b.principalId }),
    );
  }

  private active(tenantId: string): PrincipalRecord[] {
    return this.directory.rows.principalsOf(tenantId).filter((p) => p.deletedDateTime === null);
  }
}

function byId(a: { readonly id: string }, b: { readonly id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function textMatches(value: string, condition: TextCondition): boolean {
  const lower = value.toLowerCase();
  return 'equals' in condition
    ? lower === condition.equals.toLowerCase()
    : lower.startsWith(condition.startsWith.toLowerCase());
}

function auditMatches(audit: DirectoryAudit, condition: AuditCondition): boolean {
  if (condition.property === 'activityDisplayName') {
    return 'equals' in condition
      ? audit.activityDisplayName === condition.equals
      : audit.activityDisplayName.startsWith(condition.startsWith);
  }
  const [a, b] = [Date.parse(audit.activityDateTime), Date.parse(condition.value)];
  return { ge: a >= b, gt: a > b, le: a <= b, lt: a < b }[condition.op];
}

function pageOf<T>(all: readonly T[], page: PageRequest): Page<T> {
  const offset = page.continuation ? Number(page.continuation) : 0;
  const items = all.slice(offset, offset + page.top);
  const next = offset + page.top;
  return next < all.length ? { items, continuation: String(next) } : { items };
}
