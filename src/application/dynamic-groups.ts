// Dynamic groups (Graph `groupTypes: ["DynamicMembership"]`): a rule decides the members, and the membership
// pipeline (changes.ts) moves them in and out, so licenses follow. A rule's evaluation of the whole tenant runs as
// pages of principal shards, like a group license job; a change of one principal is checked against every rule in
// the same request (`followRules`). src/storage/README.md, "Dynamic groups", has the protocol.
import { randomUUID } from 'node:crypto';
import { SHARD_COUNT } from '../storage/keys.js';
import { retryOnConflict } from '../storage/optimistic.js';
import { applyChanges } from './changes.js';
import { type AppContext, faultPoint } from './context.js';
import {
  type DynamicMembershipEvaluation,
  evaluateDynamicMembership,
  membershipRuleOf,
  ruleChangeFor,
  storedRule,
} from './dynamic-membership.js';
import { RefusedError } from './errors.js';
import { healReleased } from './healing.js';
import type { ChangesMessage, MembershipChange, RulePageMessage } from './messages.js';
import { outboxEntry, recordOutbox, relayOutbox } from './outbox.js';
import { settleLeftoverRun } from './principal-updates.js';
import {
  type AuditInput,
  GROUP_LICENSING_APP,
  type GroupRecord,
  type MembershipRuleRecord,
} from './records.js';

/** The Graph group type that makes a group's membership follow its rule. */
export const DYNAMIC_MEMBERSHIP = 'DynamicMembership';

/** Shards per evaluation page: one principal table's worth (16 shards), so a page is one range query. */
const SHARDS_PER_RULE_PAGE = 16;

export type RuleProcessingState = MembershipRuleRecord['processingState'];

export function isDynamic(group: Pick<GroupRecord, 'groupTypes'>): boolean {
  return group.groupTypes.includes(DYNAMIC_MEMBERSHIP);
}

/** What a create or update asks of a group's rule (undefined: unchanged). */
export interface RuleRequest {
  readonly membershipRule?: string | null;
  readonly membershipRuleProcessingState?: RuleProcessingState | null;
}

/**
 * Checks a group's rule as a create or update would leave it: a dynamic group has a rule that parses (users, or
 * devices for a security group), a static one has none. Returns the rule and processing state to store, or null
 * for a static group.
 */
export function checkRule(
  group: Pick<GroupRecord, 'id' | 'groupTypes' | 'securityEnabled'>,
  current: MembershipRuleRecord | undefined,
  request: RuleRequest,
): { membershipRule: string; processingState: RuleProcessingState } | null {
  const text =
    request.membershipRule === undefined ? (current?.membershipRule ?? null) : request.membershipRule;
  if (!isDynamic(group)) {
    if (text !== null || (request.membershipRuleProcessingState ?? null) !== null)
      throw new RefusedError({ code: 'RuleWithoutDynamicMembership', groupId: group.id });
    return null;
  }
  if (text === null || text.trim() === '')
    throw new RefusedError({ code: 'DynamicMembershipWithoutRule', groupId: group.id });
  if (!group.securityEnabled)
    throw new RefusedError({ code: 'DynamicGroupNotSecurityEnabled', groupId: group.id });
  membershipRuleOf(text);
  return {
    membershipRule: text,
    processingState: request.membershipRuleProcessingState ?? current?.processingState ?? 'On',
  };
}

/**
 * Stores a group's rule as `checkRule` decided it and, when the rule is new or changed or processing is turned back
 * On, starts an evaluation of the whole tenant under it. One transaction writes the rule row and the outbox row that
 * owes the evaluation's pages and its audit record, so a crash never leaves a rule unevaluated.
 */
export async function saveRule(
  ctx: AppContext,
  tenantId: string,
  group: GroupRecord,
  wanted: { membershipRule: string; processingState: RuleProcessingState } | null,
): Promise<MembershipRuleRecord | undefined> {
  return retryOnConflict(`the membership rule of group ${group.id}`, async () => {
    const current = await ruleOf(ctx, tenantId, group.id);
    if (wanted === null) {
      if (current)
        await ctx.tenants.commitMembershipRule(tenantId, { groupId: group.id, current, next: null });
      return undefined;
    }
    const changed = current?.membershipRule !== wanted.membershipRule;
    if (!changed && current?.processingState === wanted.processingState) return current;
    const resumed = current?.processingState === 'Paused' && wanted.processingState === 'On';
    const evaluate = wanted.processingState === 'On' && (changed || resumed);
    return commitRule(ctx, tenantId, group, current, wanted, { evaluate, audit: true });
  });
}

/**
 * Writes the rule row and, in the same transaction, the outbox row owing what follows: the evaluation's pages (a
 * new job, which supersedes any under way) and the group's audit record.
 */
async function commitRule(
  ctx: AppContext,
  tenantId: string,
  group: GroupRecord,
  current: MembershipRuleRecord | undefined,
  wanted: { membershipRule: string; processingState: RuleProcessingState },
  options: { evaluate: boolean; audit: boolean },
): Promise<MembershipRuleRecord> {
  const now = ctx.now().toISOString();
  const jobId = options.evaluate ? randomUUID() : (current?.jobId ?? null);
  const next: MembershipRuleRecord = {
    groupId: group.id,
    membershipRule: wanted.membershipRule,
    processingState: wanted.processingState,
    jobId,
    status: options.evaluate ? 'Running' : (current?.status ?? 'NotStarted'),
    lastMembershipUpdated: current?.lastMembershipUpdated ?? null,
    errorMessage: options.evaluate ? null : (current?.errorMessage ?? null),
    updatedDateTime: now,
  };
  const pages = options.evaluate && jobId ? rulePages(tenantId, group.id, jobId) : [];
  if (jobId && options.evaluate) {
    const job = {
      tenantId,
      jobId,
      groupId: group.id,
      pages: pages.length,
      membersTotal: 0,
      startedDateTime: now,
    };
    await ctx.jobs.create(job);
  }
  const entry = outboxEntry(ctx, {
    ...(options.audit ? { audit: [ruleAudit(`rule:${group.id}:${now}`, now, group, current, next)] } : {}),
    messages: pages.map((body) => ({ queue: 'pages' as const, body })),
  });
  const { outboxEtag } = await ctx.tenants.commitMembershipRule(tenantId, {
    groupId: group.id,
    current,
    next,
    createOutbox: entry.record,
  });
  faultPoint(ctx, 'outbox:committed');
  await relayOutbox(ctx, tenantId, { ...entry, record: { ...entry.record, etag: outboxEtag } });
  return next;
}

function rulePages(tenantId: string, groupId: string, jobId: string): RulePageMessage[] {
  const pages = Math.ceil(SHARD_COUNT / SHARDS_PER_RULE_PAGE);
  return Array.from({ length: pages }, (_, page) => ({
    kind: 'rule-page' as const,
    tenantId,
    groupId,
    jobId,
    page,
    pages,
    fromShard: page * SHARDS_PER_RULE_PAGE,
    toShard: Math.min(SHARD_COUNT, (page + 1) * SHARDS_PER_RULE_PAGE),
  }));
}

/** The group's audit record of a rule saved: Entra's *Update group*, with the rule and processing state it changed. */
function ruleAudit(
  idempotencyKey: string,
  at: string,
  group: GroupRecord,
  before: MembershipRuleRecord | undefined,
  after: MembershipRuleRecord,
): AuditInput & { idempotencyKey: string } {
  const modified = [];
  if (before?.membershipRule !== after.membershipRule)
    modified.push({
      displayName: 'MembershipRule',
      oldValue: before?.membershipRule ?? null,
      newValue: after.membershipRule,
    });
  if (before?.processingState !== after.processingState)
    modified.push({
      displayName: 'MembershipRuleProcessingState',
      oldValue: before?.processingState ?? null,
      newValue: after.processingState,
    });
  return {
    idempotencyKey,
    activityDateTime: at,
    activityDisplayName: 'Update group',
    category: 'GroupManagement',
    initiatedBy: { app: { displayName: 'Graph API' } },
    operationType: 'Update',
    result: 'success',
    resultReason: '',
    targetResources: [
      { id: group.id, displayName: group.displayName, type: 'Group', modifiedProperties: modified },
    ],
  };
}

/** The ports an evaluation page needs. */
export type RulePagePorts = AppContext;

/**
 * One page of a rule's evaluation: every principal of the page's shards is checked against the rule, and those
 * whose membership is wrong join or leave through the membership pipeline, under the page's own seat reservation
 * (the queue message id), so a redelivered page resumes it. Idempotent: a replay finds fewer or no differences.
 * A page of an evaluation that a newer one superseded, or of a paused group, does nothing.
 */
export async function processRulePage(
  ctx: RulePagePorts,
  message: RulePageMessage,
  messageId: string,
): Promise<void> {
  const { tenantId, groupId, jobId } = message;
  const current = await ruleOf(ctx, tenantId, groupId);
  if (!current || current.jobId !== jobId || current.processingState !== 'On') return;
  const rule = storedRule(current);
  if (!rule) {
    await finishEvaluation(ctx, tenantId, groupId, jobId, 'The stored membership rule no longer parses.');
    return;
  }
  const { records, markers } = await ctx.directory.principalShardsWithMarkers(
    tenantId,
    message.fromShard,
    message.toShard,
  );
  const now = ctx.now().toISOString();
  const changes: MembershipChange[] = [];
  for (const record of records.values()) {
    const change = ruleChangeFor(record, groupId, rule, ctx.catalog, now);
    if (change) changes.push(change);
  }
  // Nothing to change may mean an earlier delivery wrote the changes and died before closing its reservation.
  if (changes.length === 0)
    await healReleased(ctx, tenantId, await settleLeftoverRun(ctx, tenantId, messageId));
  if (changes.length > 0) {
    await applyChanges(ctx, changesOf(tenantId, changes), messageId, { preloaded: records, markers });
    // A rule saved while this page wrote may have had its own pages read these principals before the writes
    // landed: they are checked again under the rules as they are now.
    const after = await ruleOf(ctx, tenantId, groupId);
    if (after?.jobId !== jobId) {
      const ids = changes.map((c) => c.memberId);
      await applyChanges(
        ctx,
        { kind: 'changes', tenantId, changes: [{ type: 'rules', principalIds: ids }], origin: 'system' },
        `${messageId}.again`,
      );
      return;
    }
  }
  const { allDone } = await ctx.jobs.finishPage(tenantId, jobId, message.page, {
    processed: records.size,
    succeeded: changes.length,
    failed: 0,
    errors: {},
  });
  if (allDone) await finishEvaluation(ctx, tenantId, groupId, jobId, null);
}

function changesOf(tenantId: string, changes: MembershipChange[]): ChangesMessage {
  return { kind: 'changes', tenantId, changes, origin: 'system' };
}

/** An evaluation that cannot finish (a page failed for good): the rule's processing shows Failed, and why. */
export function failEvaluation(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
  jobId: string,
  reason: string,
): Promise<void> {
  return finishEvaluation(ctx, tenantId, groupId, jobId, reason);
}

/**
 * The last page of an evaluation marks the rule's processing Succeeded (or Failed, with why) and, when members
 * moved, the time; a superseded evaluation leaves the newer one's status alone.
 */
async function finishEvaluation(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
  jobId: string,
  failure: string | null,
): Promise<void> {
  const progress = await ctx.jobs.progress(tenantId, jobId);
  const group = await ctx.directory.group(tenantId, groupId);
  await retryOnConflict(`the membership rule of group ${groupId}`, async () => {
    const current = await ruleOf(ctx, tenantId, groupId);
    if (!current || current.jobId !== jobId || current.status !== 'Running') return;
    const now = ctx.now().toISOString();
    const status = failure === null ? 'Succeeded' : 'Failed';
    // The group's audit trail says how the evaluation ended, committed with the status (keyed by the job: once).
    const entry = outboxEntry(ctx, {
      audit: [
        {
          idempotencyKey: `rules:${jobId}:finish`,
          activityDateTime: now,
          activityDisplayName: 'Update group',
          category: 'GroupManagement',
          initiatedBy: GROUP_LICENSING_APP,
          operationType: 'Update',
          result: failure === null ? 'success' : 'failure',
          resultReason: failure ?? '',
          targetResources: [
            {
              id: groupId,
              displayName: group?.displayName ?? null,
              type: 'Group',
              modifiedProperties: [
                { displayName: 'MembershipRuleProcessingStatus', oldValue: 'Running', newValue: status },
              ],
            },
          ],
          additionalDetails: [
            { key: 'MembersMoved', value: String(progress.succeeded) },
            { key: 'PrincipalsEvaluated', value: String(progress.processed) },
          ],
        },
      ],
    });
    const { outboxEtag } = await ctx.tenants.commitMembershipRule(tenantId, {
      groupId,
      current,
      next: {
        ...current,
        status,
        errorMessage: failure,
        lastMembershipUpdated: progress.succeeded > 0 ? now : current.lastMembershipUpdated,
        updatedDateTime: now,
      },
      createOutbox: entry.record,
    });
    await relayOutbox(ctx, tenantId, { ...entry, record: { ...entry.record, etag: outboxEtag } });
  });
}

/**
 * Runs a write that may change what rules read of these principals (a create, an update, a restore), then brings
 * their memberships of dynamic groups in line. The follow-up is owed in the outbox before the write, so a request
 * that dies after its write still has it applied, by the sweep. Costs nothing in a tenant without dynamic groups.
 */
export async function followRules<T>(
  ctx: AppContext,
  tenantId: string,
  principalIds: readonly string[],
  write: () => Promise<T>,
): Promise<T> {
  const partition = await ctx.tenants.partition(tenantId);
  const live = [...(partition?.membershipRules.values() ?? [])].some((r) => r.processingState === 'On');
  if (!live || principalIds.length === 0) return write();
  const run = randomUUID();
  const message: ChangesMessage = {
    kind: 'changes',
    tenantId,
    changes: [{ type: 'rules', principalIds: [...principalIds] }],
    origin: 'system',
  };
  const entry = await recordOutbox(
    ctx,
    tenantId,
    outboxEntry(ctx, { apply: { run, message } }, { id: `rules.${principalIds[0]}` }),
  );
  const result = await write();
  faultPoint(ctx, 'outbox:committed');
  await applyChanges(ctx, message, run);
  await relayOutbox(ctx, tenantId, entry);
  return result;
}

/** Starts a new evaluation of every dynamic group whose processing is On (after an import brought principals). */
export async function reevaluateAllRules(ctx: AppContext, tenantId: string): Promise<number> {
  const partition = await ctx.tenants.partition(tenantId);
  let started = 0;
  for (const rule of partition?.membershipRules.values() ?? []) {
    if (rule.processingState !== 'On') continue;
    const group = await ctx.directory.group(tenantId, rule.groupId);
    if (!group) continue;
    await restartEvaluation(ctx, tenantId, group);
    started++;
  }
  return started;
}

/** A new evaluation under the group's current rule (its processing On), superseding any under way. */
async function restartEvaluation(ctx: AppContext, tenantId: string, group: GroupRecord): Promise<void> {
  await retryOnConflict(`the membership rule of group ${group.id}`, async () => {
    const current = await ruleOf(ctx, tenantId, group.id);
    if (current?.processingState !== 'On') return;
    await commitRule(ctx, tenantId, group, current, current, { evaluate: true, audit: false });
  });
}

/** Graph beta `POST /groups/{id}/evaluateDynamicMembership`: the what-if of a member under the group's own rule. */
export async function evaluateGroupRule(
  ctx: AppContext,
  tenantId: string,
  group: GroupRecord,
  memberId: string,
): Promise<DynamicMembershipEvaluation> {
  const rule = await ruleOf(ctx, tenantId, group.id);
  if (!rule) throw new RefusedError({ code: 'DynamicMembershipWithoutRule', groupId: group.id });
  return evaluateDynamicMembership(ctx, tenantId, memberId, rule.membershipRule);
}

/** The group's rule and its processing, as the Graph group shows them (undefined for a static group). */
export async function ruleOf(
  ctx: Pick<AppContext, 'tenants'>,
  tenantId: string,
  groupId: string,
): Promise<MembershipRuleRecord | undefined> {
  return (await ctx.tenants.partition(tenantId))?.membershipRules.get(groupId);
}
