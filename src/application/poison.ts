import { z } from 'zod';
import { retryOnConflict } from '../storage/optimistic.js';
import type { AppContext } from './context.js';
import { failEvaluation } from './dynamic-groups.js';
import type { GroupProcessingFailure } from './errors.js';
import { completeGroupJob } from './group-licensing.js';
import {
  changesMessage,
  groupJobMessage,
  groupPageMessage,
  healMessage,
  rulePageMessage,
} from './messages.js';
import { type AuditInput, GROUP_LICENSING_APP } from './records.js';

const anyTenant = z.object({ tenantId: z.string() }).passthrough();

/**
 * A message that failed five times lands in `<queue>-poison`; its handler calls this so the failure is where an
 * operator looks (rules.md §8 audit log, and the group's status) and nothing is silently dropped: a poisoned page
 * counts as a failed page of its job (the job still completes, with *Errors & issues*), a poisoned plan marks the
 * group's processing as failed, and every poisoned message gets a failure record in the audit log.
 */
export async function recordPoisonedWork(
  ctx: AppContext,
  queue: string,
  raw: unknown,
  messageId: string,
): Promise<string | undefined> {
  const value = typeof raw === 'string' ? safeJson(raw) : raw;
  const tenant = anyTenant.safeParse(value);
  if (!tenant.success) return undefined; // no tenant to report to; the host logged the message when it moved it
  const tenantId = tenant.data.tenantId;
  const now = ctx.now().toISOString();
  let reason = `A ${queue} message failed after the maximum number of attempts and was set aside.`;
  const targets: AuditInput['targetResources'][number][] = [];

  const page = groupPageMessage.safeParse(value);
  const job = groupJobMessage.safeParse(value);
  const changes = changesMessage.safeParse(value);
  const heal = healMessage.safeParse(value);
  const rulePage = rulePageMessage.safeParse(value);
  if (rulePage.success) {
    const p = rulePage.data;
    reason = `Page ${p.page + 1} of ${p.pages} (shards ${p.fromShard}-${p.toShard - 1}) of the membership rule evaluation of group ${p.groupId} could not be processed; save the rule again, or turn processing Paused then On, to retry.`;
    targets.push({ id: p.groupId, displayName: null, type: 'Group', modifiedProperties: [] });
    await failEvaluation(ctx, tenantId, p.groupId, p.jobId, reason);
  } else if (page.success) {
    const p = page.data;
    reason = `Page ${p.page + 1} of ${p.pages} (shards ${p.fromShard}-${p.toShard - 1} of group ${p.listGroupId}) could not be processed; reprocess the group to retry.`;
    targets.push({ id: p.groupId, displayName: null, type: 'Group', modifiedProperties: [] });
    const { allDone } = await ctx.jobs.finishPage(tenantId, p.jobId, p.page, {
      poisoned: true,
      processed: 0,
      succeeded: 0,
      failed: 0,
      errors: {},
    });
    if (allDone) await completeGroupJob(ctx, tenantId, p.groupId, p.jobId);
  } else if (job.success) {
    reason = `The license job for group ${job.data.groupId} could not be planned; reprocess the group to retry.`;
    targets.push({ id: job.data.groupId, displayName: null, type: 'Group', modifiedProperties: [] });
    await markGroupFailed(ctx, tenantId, job.data.groupId, job.data.jobId, 'JobNotPlanned');
  } else if (changes.success) {
    const ids = changes.data.changes.flatMap((c) =>
      c.type === 'member' ? [c.memberId] : c.type === 'user' ? [c.userId] : c.principalIds,
    );
    reason = `${changes.data.changes.length} directory changes could not be applied (principals ${[...new Set(ids)].slice(0, 20).join(', ')}); reprocess them to retry.`;
    for (const id of [...new Set(ids)].slice(0, 20))
      targets.push({ id, displayName: null, type: 'User', modifiedProperties: [] });
  } else if (heal.success) {
    reason = `Promoting waiters for license ${heal.data.skuId} failed; reprocess the waiting users to retry.`;
  }

  const record: AuditInput & { idempotencyKey: string } = {
    idempotencyKey: `poison:${queue}:${messageId}`,
    activityDateTime: now,
    activityDisplayName: 'Apply group based license to users failed',
    category: 'GroupManagement',
    initiatedBy: GROUP_LICENSING_APP,
    operationType: 'Assign',
    result: 'failure',
    resultReason: reason,
    targetResources: targets,
    additionalDetails: [{ key: 'Queue', value: queue }],
  };
  await ctx.audit.append(tenantId, [record]);
  return tenantId;
}

async function markGroupFailed(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
  jobId: string,
  code: GroupProcessingFailure['code'],
) {
  const what = `the license assignment of group ${groupId}`;
  await retryOnConflict(what, async () => {
    const partition = await ctx.tenants.partition(tenantId);
    const current = partition?.groupLicenses.get(groupId);
    if (!current || current.jobId !== jobId) return;
    await ctx.tenants.markGroupLicenseFailed(tenantId, current, code);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
