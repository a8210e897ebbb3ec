import type { GroupRecord } from '../storage/group-records.js';
import { inParallel } from '../storage/in-flight.js';
import { bucketOf, type MemberKind, type MemberRef } from '../storage/members.js';
import { retryOnConflict } from '../storage/optimistic.js';
import { requestAlertEvaluation } from './alerts.js';
import { readPrincipalsInBulk } from './bulk-reads.js';
import { ChangeBatches, isBatchable } from './change-batches.js';
import { type AppContext, faultPoint } from './context.js';
import { ruleChangesFor } from './dynamic-membership.js';
import { healReleased } from './healing.js';
import type { Change, ChangesMessage, MembershipChange } from './messages.js';
import { releaseName } from './names.js';
import { settleLeftoverRun, updatePrincipals } from './principal-updates.js';
import { registerProxyAddresses } from './proxy-addresses.js';
import {
  type AuditInput,
  GROUP_LICENSING_APP,
  type MemberOfEntry,
  type PrincipalRecord,
  type RemovedMembership,
} from './records.js';

/** Tombstones of ended memberships are kept this long, to ignore late or replayed notifications. */
const TOMBSTONE_DAYS = 7;

/**
 * Applies a batch of directory changes for one tenant (membership joins and leaves from the API or the webhook,
 * user lifecycle, re-evaluations) and evaluates every principal they touch, in one pass through the seat ledger.
 * Every step is idempotent, so a redelivered or duplicated message converges to the same state.
 */
export async function applyChanges(
  ctx: AppContext,
  message: ChangesMessage,
  messageId: string,
  options: ApplyOptions = {},
): Promise<void> {
  await applyChangesOnce(ctx, message, messageId, options);
  // Members' errors, seats and waiters may have moved: an alert pass after the debounce (coalesced).
  await requestAlertEvaluation(ctx, message.tenantId);
}

const batchesOf = new WeakMap<AppContext, ChangeBatches>();

/**
 * Applies a queued `changes` message. Membership changes share a batch with the same tenant's others that this
 * process holds at the moment (group commit, `ChangeBatches`); the rest, and any message delivered again, run
 * alone — a redelivery may be the first message of a batch that died, whose reservation it resumes. Settles once
 * the message's changes are written.
 */
export function applyQueuedChanges(
  ctx: AppContext,
  message: ChangesMessage,
  messageId: string,
  redelivered: boolean,
): Promise<void> {
  if (redelivered || !isBatchable(message)) return applyChanges(ctx, message, messageId);
  let batches = batchesOf.get(ctx);
  if (!batches) {
    batches = new ChangeBatches((combined, reservationId) => applyChanges(ctx, combined, reservationId));
    batchesOf.set(ctx, batches);
  }
  return batches.submit(message, messageId);
}

/** Member lists of different groups are written this many at a time (each is its own partition). */
const MEMBER_LISTS_IN_FLIGHT = 8;

interface ApplyOptions {
  /** The principals as a range read of their partitions found them (a dynamic group's evaluation page). */
  readonly preloaded?: ReadonlyMap<string, PrincipalRecord>;
  /** That read's reservation markers: stale ones are deleted with the writes. */
  readonly markers?: ReadonlyMap<string, readonly string[]>;
}

async function applyChangesOnce(
  ctx: AppContext,
  message: ChangesMessage,
  messageId: string,
  options: ApplyOptions,
): Promise<void> {
  const { tenantId } = message;
  // One read of every principal the message names serves the kinds of webhook members, the rows before the
  // change (group lists, audit) and the evaluation itself.
  const principals = options.preloaded
    ? new Map(options.preloaded)
    : await readPrincipalsInBulk(ctx, tenantId, principalIdsOf(message.changes));
  const kinds = await resolveKinds(ctx, tenantId, message.changes, principals);
  const principalChanges = new Map<string, Change[]>();
  const order: string[] = [];
  const nested: MembershipChange[] = [];
  const push = (id: string, change: Change) => {
    const list = principalChanges.get(id);
    if (list) list.push(change);
    else {
      principalChanges.set(id, [change]);
      order.push(id);
    }
  };
  const ruled = await groupsWithRules(ctx, message);
  for (const change of message.changes) {
    if (change.type === 'member') {
      // A dynamic group's members are its rule's: a notification adding or removing one by hand is ignored.
      if (ruled.has(change.groupId)) continue;
      const kind = change.memberKind ?? kinds.get(change.memberId);
      if (kind === undefined) continue; // not in the directory mirror: nothing to apply
      if (kind === 'group') nested.push({ ...change, memberKind: 'group' });
      else push(change.memberId, { ...change, memberKind: kind });
    } else if (change.type === 'user') {
      push(change.userId, change);
    } else if (change.type === 'evaluate') {
      for (const id of change.principalIds) push(id, change);
    }
  }
  for (const change of await ruleChanges(ctx, message, principals)) push(change.memberId, change);

  const devicesToEvaluate = new Set<string>();
  for (const change of nested) {
    for (const device of await applyNestedGroupChange(ctx, tenantId, change)) devicesToEvaluate.add(device);
  }
  for (const device of devicesToEvaluate)
    if (!principalChanges.has(device)) push(device, { type: 'evaluate', principalIds: [device] });
  if (order.length === 0) {
    await healReleased(ctx, tenantId, await settleLeftoverRun(ctx, tenantId, messageId));
    return;
  }

  const now = ctx.now().toISOString();
  const missing = order.filter((id) => !principals.has(id));
  if (missing.length > 0)
    for (const [id, record] of await ctx.directory.principals(tenantId, missing)) principals.set(id, record);
  const before = new Map<string, PrincipalRecord>();
  for (const id of order) {
    const record = principals.get(id);
    if (record) before.set(id, record);
  }
  await applyBucketChanges(ctx, tenantId, principalChanges, before, 'add', now);
  faultPoint(ctx, 'changes:lists-joined');

  const result = await updatePrincipals(ctx, tenantId, order, {
    reservationId: messageId,
    preloaded: before,
    ...(options.markers ? { markers: options.markers } : {}),
    mutate: (record, at) => applyToRecord(record, principalChanges.get(record.id) ?? [], at),
  });
  faultPoint(ctx, 'changes:principals-written');

  await applyBucketChanges(ctx, tenantId, principalChanges, before, 'remove', now);
  faultPoint(ctx, 'changes:lists-left');
  await cleanUpHardDeleted(ctx, tenantId, principalChanges, before, result.records);
  await auditLifecycle(ctx, tenantId, principalChanges, before, messageId);
  await healReleased(ctx, tenantId, result.released);
}

/** The dynamic groups a webhook message names, whose membership changes it may not make. */
async function groupsWithRules(ctx: AppContext, message: ChangesMessage): Promise<ReadonlySet<string>> {
  if (message.origin !== 'webhook' || !message.changes.some((c) => c.type === 'member')) return new Set();
  const rules = (await ctx.tenants.partition(message.tenantId))?.membershipRules;
  return new Set(rules?.keys() ?? []);
}

/**
 * The joins and leaves of dynamic groups that `rules` changes ask for, decided by the rules as they are now (read
 * with the tenant's control rows) against the principals as read. A principal this message restores counts as
 * live: its restore and its rules are applied together.
 */
async function ruleChanges(
  ctx: AppContext,
  message: ChangesMessage,
  principals: ReadonlyMap<string, PrincipalRecord>,
): Promise<MembershipChange[]> {
  // A restored principal is checked too, whoever restored it (the API or the webhook).
  const restored = new Set(
    message.changes.flatMap((c) => (c.type === 'user' && c.op === 'restore' ? [c.userId] : [])),
  );
  const ids = new Set(restored);
  for (const change of message.changes)
    if (change.type === 'rules') for (const id of change.principalIds) ids.add(id);
  if (ids.size === 0) return [];
  const rules = (await ctx.tenants.partition(message.tenantId))?.membershipRules;
  if (!rules || rules.size === 0) return [];
  const now = ctx.now().toISOString();
  const changes: MembershipChange[] = [];
  for (const id of ids) {
    const record = principals.get(id);
    if (!record) continue;
    const live = restored.has(id) ? { ...record, deletedDateTime: null } : record;
    changes.push(...ruleChangesFor(live, rules, ctx.catalog, now));
  }
  return changes;
}

/** Every principal id a message names (members of any kind, users, principals to evaluate). */
function principalIdsOf(changes: readonly Change[]): string[] {
  const ids = new Set<string>();
  for (const change of changes) {
    if (change.type === 'member') {
      if (change.memberKind !== 'group') ids.add(change.memberId);
    } else if (change.type === 'user') ids.add(change.userId);
    else for (const id of change.principalIds) ids.add(id);
  }
  return [...ids];
}

async function resolveKinds(
  ctx: AppContext,
  tenantId: string,
  changes: readonly Change[],
  principals: ReadonlyMap<string, PrincipalRecord>,
): Promise<Map<string, MemberKind>> {
  const unknown = changes.filter(
    (c): c is MembershipChange => c.type === 'member' && c.memberKind === undefined,
  );
  const ids = [...new Set(unknown.map((c) => c.memberId))];
  const kinds = new Map<string, MemberKind>();
  for (const id of ids) {
    const principal = principals.get(id);
    if (principal) kinds.set(id, principal.kind);
    else if (await ctx.directory.group(tenantId, id)) kinds.set(id, 'group');
  }
  return kinds;
}

function sequenceOf(change: MembershipChange): number | undefined {
  if (change.sequence !== undefined) return change.sequence;
  if (change.eventTime !== undefined) {
    const time = Date.parse(change.eventTime);
    return Number.isFinite(time) ? time : undefined;
  }
  return undefined;
}

/** The membership part of a record (a principal or a nested group) that changes apply to. */
interface Memberships {
  readonly memberOf: readonly MemberOfEntry[];
  readonly removedMemberships: readonly RemovedMembership[];
}

/**
 * Applies one membership change to a member's own record. Newer notifications win: a change whose sequence is not
 * newer than the last one applied to this membership (present or ended) is a replay and changes nothing; adding
 * a present member or removing an absent one changes nothing either.
 */
export function applyMembership<T extends Memberships>(record: T, change: MembershipChange, now: string): T {
  const sequence = sequenceOf(change);
  const present = record.memberOf.find((m) => m.groupId === change.groupId);
  const ended = record.removedMemberships.find((m) => m.groupId === change.groupId);
  const last = present?.sequence ?? ended?.sequence;
  if (sequence !== undefined && last !== undefined && sequence <= last) return record;
  const withSequence = sequence === undefined ? {} : { sequence };
  const cutoff = new Date(Date.parse(now) - TOMBSTONE_DAYS * 86_400_000).toISOString();
  const tombstones = record.removedMemberships.filter(
    (m) => m.groupId !== change.groupId && m.removedAt >= cutoff,
  );
  if (change.op === 'add') {
    if (present) {
      return sequence === undefined
        ? record
        : {
            ...record,
            memberOf: record.memberOf.map((m) => (m === present ? { ...m, ...withSequence } : m)),
          };
    }
    const entry: MemberOfEntry = {
      groupId: change.groupId,
      joinedAt: change.joinedAt ?? now,
      bucket: bucketOf(change.memberId),
      ...withSequence,
    };
    return { ...record, memberOf: [...record.memberOf, entry], removedMemberships: tombstones };
  }
  const tombstone: RemovedMembership = { groupId: change.groupId, removedAt: now, ...withSequence };
  if (!present && sequence === undefined) return record;
  return {
    ...record,
    memberOf: record.memberOf.filter((m) => m.groupId !== change.groupId),
    removedMemberships: [...tombstones, tombstone],
  };
}

function lifecycleSequenceOf(change: {
  sequence?: number | undefined;
  eventTime?: string | undefined;
}): number | undefined {
  if (change.sequence !== undefined) return change.sequence;
  const time = change.eventTime === undefined ? Number.NaN : Date.parse(change.eventTime);
  return Number.isFinite(time) ? time : undefined;
}

function applyToRecord(
  record: PrincipalRecord,
  changes: readonly Change[],
  now: string,
): PrincipalRecord | null {
  let current: PrincipalRecord = record;
  for (const change of changes) {
    if (change.type === 'member') current = applyMembership(current, change, now);
    else if (change.type === 'user') {
      if (change.op === 'hardDelete') return null;
      // A lifecycle change not newer than the last one applied is a replay or arrived late: it changes nothing.
      const sequence = lifecycleSequenceOf(change);
      if (
        sequence !== undefined &&
        current.lifecycleSequence !== undefined &&
        sequence <= current.lifecycleSequence
      ) {
        continue;
      }
      if (change.op === 'softDelete' && current.deletedDateTime === null)
        current = { ...current, deletedDateTime: now };
      if (change.op === 'restore' && current.deletedDateTime !== null)
        current = { ...current, deletedDateTime: null };
      if (sequence !== undefined) current = { ...current, lifecycleSequence: sequence };
    }
  }
  return current;
}

/**
 * Keeps the group-side member lists in step: additions before the members' records are written, removals after,
 * so that a crash in between never hides a member from a group job.
 */
async function applyBucketChanges(
  ctx: AppContext,
  tenantId: string,
  changes: ReadonlyMap<string, readonly Change[]>,
  before: ReadonlyMap<string, PrincipalRecord>,
  phase: 'add' | 'remove',
  now: string,
): Promise<void> {
  const byGroup = new Map<string, { adds: MemberRef[]; removes: string[] }>();
  const at = (groupId: string) => {
    let entry = byGroup.get(groupId);
    if (!entry) {
      entry = { adds: [], removes: [] };
      byGroup.set(groupId, entry);
    }
    return entry;
  };
  for (const [memberId, list] of changes) {
    const record = before.get(memberId);
    if (!record) continue;
    // The final membership after all of this principal's changes decides what the list must say.
    const final = list.reduce<Memberships>(
      (acc, change) => (change.type === 'member' ? applyMembership(acc, change, now) : acc),
      record,
    );
    const hardDeleted = list.some((c) => c.type === 'user' && c.op === 'hardDelete');
    const groups = new Set(
      list.filter((c): c is MembershipChange => c.type === 'member').map((c) => c.groupId),
    );
    if (hardDeleted) for (const m of record.memberOf) groups.add(m.groupId);
    for (const groupId of groups) {
      const member = final.memberOf.find((m) => m.groupId === groupId);
      if (phase === 'add' && member && !hardDeleted) {
        at(groupId).adds.push({ id: memberId, kind: record.kind, joinedAt: member.joinedAt });
      }
      if (phase === 'remove' && (!member || hardDeleted)) at(groupId).removes.push(memberId);
    }
  }
  await inParallel([...byGroup], MEMBER_LISTS_IN_FLIGHT, async ([groupId, { adds, removes }]) => {
    if (adds.length > 0 || removes.length > 0) await ctx.members.apply(tenantId, groupId, adds, removes);
  });
}

/** A group joins or leaves a group: the nested group's own record and the parent's member list change. */
async function applyNestedGroupChange(
  ctx: AppContext,
  tenantId: string,
  change: MembershipChange,
): Promise<string[]> {
  const now = ctx.now().toISOString();
  if (change.op === 'add') {
    await ctx.members.apply(
      tenantId,
      change.groupId,
      [{ id: change.memberId, kind: 'group', joinedAt: change.joinedAt ?? now }],
      [],
    );
  }
  await retryOnConflict(`group ${change.memberId}`, async () => {
    const child = await ctx.directory.group(tenantId, change.memberId);
    if (!child) return;
    const next: GroupRecord = applyMembership(child, change, now);
    if (next === child) return;
    await ctx.directory.replaceGroup(next);
  });
  if (change.op === 'remove') await ctx.members.apply(tenantId, change.groupId, [], [change.memberId]);
  return devicesUnder(ctx, tenantId, change.memberId);
}

/** Every device in a group or in the groups nested in it, transitively (cycle-safe). */
export async function devicesUnder(ctx: AppContext, tenantId: string, groupId: string): Promise<string[]> {
  const seen = new Set([groupId]);
  const pending = [groupId];
  const devices = new Set<string>();
  while (pending.length > 0) {
    const id = pending.pop();
    if (id === undefined) break;
    for (const member of await ctx.members.listRange(tenantId, id)) {
      if (member.kind === 'device') devices.add(member.id);
      else if (member.kind === 'group' && !seen.has(member.id)) {
        seen.add(member.id);
        pending.push(member.id);
      }
    }
  }
  return [...devices];
}

async function cleanUpHardDeleted(
  ctx: AppContext,
  tenantId: string,
  changes: ReadonlyMap<string, readonly Change[]>,
  before: ReadonlyMap<string, PrincipalRecord>,
  after: ReadonlyMap<string, PrincipalRecord>,
): Promise<void> {
  for (const [id, list] of changes) {
    if (!list.some((c) => c.type === 'user' && c.op === 'hardDelete')) continue;
    const record = before.get(id);
    if (!record || after.has(id) || (await ctx.directory.principal(tenantId, id))) continue;
    if (record.userPrincipalName) await releaseName(ctx, tenantId, record.userPrincipalName);
    if (record.proxyAddresses.length > 0) {
      // Best effort: throwing would cost the audit record and the healing below, which a redelivery cannot redo
      // (the row is gone, so the user is no longer read); an address left to a deleted user is checked and let go
      // at its next use, like the holder of any claim that died.
      await registerProxyAddresses(
        ctx,
        tenantId,
        { ...record, proxyAddresses: [] },
        record.proxyAddresses,
      ).catch(() => undefined);
    }
  }
}

async function auditLifecycle(
  ctx: AppContext,
  tenantId: string,
  changes: ReadonlyMap<string, readonly Change[]>,
  before: ReadonlyMap<string, PrincipalRecord>,
  messageId: string,
): Promise<void> {
  const records: (AuditInput & { idempotencyKey: string })[] = [];
  const now = ctx.now().toISOString();
  for (const [id, list] of changes) {
    const record = before.get(id);
    if (!record) continue;
    for (const change of list) {
      if (change.type !== 'user') continue;
      const activity =
        change.op === 'softDelete'
          ? 'Delete user'
          : change.op === 'restore'
            ? 'Restore user'
            : 'Hard delete user';
      records.push({
        idempotencyKey: `${messageId}:${id}:${change.op}`,
        activityDateTime: now,
        activityDisplayName: activity,
        category: 'UserManagement',
        initiatedBy: GROUP_LICENSING_APP,
        operationType: change.op === 'restore' ? 'Restore' : 'Delete',
        result: 'success',
        resultReason: '',
        targetResources: [
          {
            id,
            displayName: record.userPrincipalName ?? record.displayName,
            type: 'User',
            modifiedProperties: [],
          },
        ],
      });
    }
  }
  if (records.length > 0) await ctx.audit.append(tenantId, records);
}
