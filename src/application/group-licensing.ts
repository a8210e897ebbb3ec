import { randomUUID } from 'node:crypto';
import { membersPerPage } from '../config/tuning.js';
import {
  type AssignLicenseRequest,
  failures,
  finishApplyingResult,
  type GroupLicenseAssignment,
  type GroupStatus,
  groupStatus,
  memberOutcome,
  type ProcessingState,
  validateGroupLicenseChange,
} from '../engine/index.js';
import type { GroupRecord } from '../storage/group-records.js';
import { SHARD_COUNT } from '../storage/keys.js';
import type { MemberRef } from '../storage/members.js';
import { backoff, retryOnConflict } from '../storage/optimistic.js';
import { isConflict } from '../storage/properties.js';
import { type AppContext, faultPoint } from './context.js';
import { getGroup } from './directory.js';
import { type GroupProcessingFailure, LicensingRefusedError, NotFoundError } from './errors.js';
import { healReleased } from './healing.js';
import type { GroupJobMessage, GroupPageMessage } from './messages.js';
import { type OutboxEntry, outboxEntry, outboxWorkOf, relayOutbox } from './outbox.js';
import { updatePrincipals } from './principal-updates.js';
import type { Counts, GroupLicenseRecord, PrincipalRecord, TenantPartition } from './records.js';
import { type AuditInput, GROUP_LICENSING_APP } from './records.js';

export interface GroupLicensing {
  readonly group: GroupRecord;
  readonly licensing: GroupLicenseRecord | undefined;
}

/**
 * Group `assignLicense` (rules.md §4): validated synchronously, recorded with a new job id, and queued. The group
 * is `QueuedForProcessing` until the job's planner picks it up. Removals and additions of one request are one
 * change, so members never hold neither SKU. The license row, its audit record and its job message are committed
 * together (the outbox row holds the last two), so a crash never leaves the group queued for ever.
 */
export async function assignGroupLicenses(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
  request: AssignLicenseRequest,
): Promise<GroupLicensing> {
  const group = await getGroup(ctx, tenantId, groupId);
  const { entry, next } = await retryOnConflict(`the license assignment of group ${group.id}`, async () => {
    const partition = await ctx.tenants.partition(tenantId);
    if (!partition) throw new NotFoundError(tenantId);
    const current = partition.groupLicenses.get(group.id);
    const licenses = validatedLicenses(
      ctx,
      partition,
      group,
      current?.licenses ?? [],
      request,
      deviceSkuOwners(ctx, partition),
    );
    const next = nextLicensing(group.id, current, licenses, ctx.now());
    const entry = await commitLicensing(
      ctx,
      tenantId,
      [{ current, next }],
      [{ group, before: current?.licenses ?? [], after: next.licenses }],
    );
    return { entry, next };
  });
  await relayOutbox(ctx, tenantId, entry);
  return { group, licensing: next };
}

/** Each device SKU of the tenant and the group that carries it (rules.md §2: one group per device SKU). */
function deviceSkuOwners(ctx: AppContext, partition: TenantPartition): Map<string, string> {
  const owners = new Map<string, string>();
  for (const licensing of partition.groupLicenses.values()) {
    for (const license of licensing.licenses) {
      if (ctx.catalog.sku(license.skuId)?.assignableTo === 'device')
        owners.set(license.skuId, licensing.groupId);
    }
  }
  return owners;
}

/**
 * The group's licenses as `request` would leave them, refused as `assignGroupLicenses` would refuse it — what a
 * preview evaluates. Nothing is written.
 */
export function proposedLicenses(
  ctx: AppContext,
  partition: TenantPartition,
  group: GroupRecord,
  request: AssignLicenseRequest,
): readonly GroupLicenseAssignment[] {
  const current = partition.groupLicenses.get(group.id)?.licenses ?? [];
  return validatedLicenses(ctx, partition, group, current, request, deviceSkuOwners(ctx, partition));
}

/** The group's licenses after `request`, or the refusal Graph gives. */
function validatedLicenses(
  ctx: AppContext,
  partition: TenantPartition,
  group: GroupRecord,
  current: readonly GroupLicenseAssignment[],
  request: AssignLicenseRequest,
  owners: ReadonlyMap<string, string>,
): readonly GroupLicenseAssignment[] {
  const change = validateGroupLicenseChange(
    {
      catalog: ctx.catalog,
      subscribedSkuIds: new Set(partition.subscriptions.keys()),
      group: {
        id: group.id,
        securityEnabled: group.securityEnabled,
        mailEnabled: group.mailEnabled,
        groupTypes: group.groupTypes,
      },
      current,
      deviceSkuOwners: owners,
    },
    request,
  );
  if (!change.ok) throw new LicensingRefusedError(change.failure);
  return change.value.licenses;
}

/** A group's license row after a change: a new job, queued. */
function nextLicensing(
  groupId: string,
  current: GroupLicenseRecord | undefined,
  licenses: readonly GroupLicenseAssignment[],
  now: Date,
): GroupLicenseRecord {
  const at = now.toISOString();
  return {
    groupId,
    licenses,
    licensedSince: licenses.length === 0 ? null : (current?.licensedSince ?? at),
    jobId: randomUUID(),
    processingState: 'QueuedForProcessing',
    updatedDateTime: at,
  };
}

/** A change of one group's licenses, for the audit log. */
interface LicenseChangeRecord {
  readonly group: GroupRecord;
  readonly before: readonly GroupLicenseAssignment[];
  readonly after: readonly GroupLicenseAssignment[];
}

/**
 * Commits group license rows (each with the ETag it was read with, or created) together with the outbox row that
 * owes their *Set group license* audit records and their jobs' messages: one transaction of the tenant partition,
 * so the rows never exist without the work they start. A 412/409 means a row changed since it was read: re-read.
 * The caller relays the returned entry.
 */
async function commitLicensing(
  ctx: AppContext,
  tenantId: string,
  writes: readonly LicenseWrite[],
  changes: readonly LicenseChangeRecord[],
): Promise<OutboxEntry> {
  const entry = jobsEntry(ctx, tenantId, writes, changes);
  const { outboxEtag } = await ctx.tenants.commitGroupLicensing(tenantId, {
    licenses: writes,
    createOutbox: entry.record,
  });
  faultPoint(ctx, 'outbox:committed');
  return withCommittedEtag(entry, outboxEtag);
}

/** The entry as stored, with the ETag its transaction returned, so the relay deletes it without reading it back. */
function withCommittedEtag(entry: OutboxEntry, etag: string | undefined): OutboxEntry {
  return etag ? { ...entry, record: { ...entry.record, etag } } : entry;
}

interface LicenseWrite {
  readonly current: GroupLicenseRecord | undefined;
  readonly next: GroupLicenseRecord;
}

/** The outbox row a license change owes: its *Set group license* records and its jobs' messages. */
function jobsEntry(
  ctx: AppContext,
  tenantId: string,
  writes: readonly LicenseWrite[],
  changes: readonly LicenseChangeRecord[],
): OutboxEntry {
  const id = randomUUID();
  const at = writes[0]?.next.updatedDateTime ?? ctx.now().toISOString();
  return outboxEntry(
    ctx,
    {
      audit: changes.map((change, i) => ({
        ...setGroupLicenseRecord(change, at),
        idempotencyKey: `${id}:${i}`,
      })),
      messages: writes.map(({ next }) => ({
        queue: 'jobs' as const,
        body: { kind: 'group-job' as const, tenantId, groupId: next.groupId, jobId: next.jobId ?? '' },
      })),
    },
    { id },
  );
}

function setGroupLicenseRecord({ group, before, after }: LicenseChangeRecord, at: string): AuditInput {
  return {
    activityDateTime: at,
    activityDisplayName: 'Set group license',
    category: 'GroupManagement',
    initiatedBy: { app: { displayName: 'Graph API' } },
    operationType: 'Assign',
    result: 'success',
    resultReason: '',
    targetResources: [
      {
        id: group.id,
        displayName: group.displayName,
        type: 'Group',
        modifiedProperties: [
          {
            displayName: 'AssignedLicense',
            oldValue: JSON.stringify(before),
            newValue: JSON.stringify(after),
          },
        ],
      },
    ],
  };
}

/** Reprocess every member of a group (an extension Graph lacks; seed 001's "Reprocess" button). */
export async function reprocessGroup(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
): Promise<GroupLicensing> {
  const group = await getGroup(ctx, tenantId, groupId);
  const { entry, next } = await retryOnConflict(`the license assignment of group ${group.id}`, async () => {
    const partition = await ctx.tenants.partition(tenantId);
    const current = partition?.groupLicenses.get(group.id);
    const next: GroupLicenseRecord = {
      ...nextLicensing(group.id, current, current?.licenses ?? [], ctx.now()),
      licensedSince: current?.licensedSince ?? null,
    };
    const entry = await commitLicensing(ctx, tenantId, [{ current, next }], []);
    return { entry, next };
  });
  await relayOutbox(ctx, tenantId, entry);
  return { group, licensing: next };
}

/** Group license rows changed per transaction when a reprocess owed to many groups is queued (≤ 100 operations). */
const REPROCESS_PER_COMMIT = 90;

/**
 * Queues the reprocess an outbox row owes to the groups that gained members (an import's row): the groups that carry
 * licenses get new jobs, so their new members are evaluated. The debt is handed over in the same transactions: each
 * commits the license rows of up to 90 groups, the outbox row of their job messages, and the owing row without those
 * groups (with its ETag). So a reprocess is owed or queued, never both nor neither, and a row relayed twice (the
 * import and the sweep at once, or a crash in between) reprocesses each group once.
 */
export async function reprocessOwed(ctx: AppContext, tenantId: string, owingId: string): Promise<void> {
  for (let attempt = 0; ; ) {
    const owing = await ctx.outbox.read(tenantId, owingId);
    if (!owing) return;
    const work = outboxWorkOf(tenantId, owing);
    const groups = work.reprocess ?? [];
    if (groups.length === 0) {
      await ctx.outbox.remove(tenantId, owing);
      return;
    }
    const partition = await ctx.tenants.partition(tenantId);
    const licensed = groups.filter((id) => (partition?.groupLicenses.get(id)?.licenses.length ?? 0) > 0);
    const writes = licensed.slice(0, REPROCESS_PER_COMMIT).map((groupId) => {
      const current = partition?.groupLicenses.get(groupId);
      const next: GroupLicenseRecord = {
        ...nextLicensing(groupId, current, current?.licenses ?? [], ctx.now()),
        licensedSince: current?.licensedSince ?? null,
      };
      return { current, next };
    });
    const jobs = writes.length > 0 ? jobsEntry(ctx, tenantId, writes, []) : undefined;
    const rest = { ...work, reprocess: licensed.slice(REPROCESS_PER_COMMIT) };
    let jobsEtag: string | undefined;
    try {
      ({ outboxEtag: jobsEtag } = await ctx.tenants.commitGroupLicensing(tenantId, {
        licenses: writes,
        ...(jobs ? { createOutbox: jobs.record } : {}),
        replaceOutbox: { ...owing, payload: rest },
      }));
    } catch (error: unknown) {
      if (!isConflict(error) || attempt >= 20) throw error;
      await backoff(attempt++);
      continue;
    }
    if (jobs) {
      faultPoint(ctx, 'outbox:committed');
      await relayOutbox(ctx, tenantId, withCommittedEtag(jobs, jobsEtag));
    }
  }
}

/**
 * Moves the group's current job to `state`: `changed` when this call did it, `already` when the job was there (or
 * complete), `superseded` when another job has replaced it. Completing commits `owed` (the *Finish* record) in the
 * same transaction, so the record is written exactly when the state changes, once.
 */
async function setProcessingState(
  ctx: Pick<AppContext, 'tenants' | 'faults'>,
  tenantId: string,
  groupId: string,
  jobId: string,
  state: ProcessingState,
  owed?: OutboxEntry,
): Promise<'changed' | 'already' | 'superseded'> {
  const what = `the license assignment of group ${groupId}`;
  return retryOnConflict(what, async () => {
    const partition = await ctx.tenants.partition(tenantId);
    const current = partition?.groupLicenses.get(groupId);
    if (!current || current.jobId !== jobId) return 'superseded';
    if (current.processingState === state || current.processingState === 'ProcessingComplete')
      return 'already';
    await ctx.tenants.commitGroupLicensing(tenantId, {
      processingState: { current, state },
      ...(owed ? { createOutbox: owed.record } : {}),
    });
    if (owed) faultPoint(ctx, 'outbox:committed');
    return 'changed';
  });
}

/** The ports planning a job needs (a unit test hands it in-memory doubles). */
export type JobPlanningPorts = Pick<
  AppContext,
  'tenants' | 'members' | 'jobs' | 'directory' | 'audit' | 'now' | 'faults'
>;

/**
 * Plans a job: which members, in how many pages. User SKUs reach the group's direct user members, in pages of
 * principal shards; device SKUs reach the devices of the group and of every group nested in it. Returns the page
 * messages to queue (the planner's output binding sends them). A replayed plan reuses the stored job.
 */
export async function planGroupJob(
  ctx: JobPlanningPorts,
  message: GroupJobMessage,
): Promise<GroupPageMessage[]> {
  const { tenantId, groupId, jobId } = message;
  const partition = await ctx.tenants.partition(tenantId);
  const licensing = partition?.groupLicenses.get(groupId);
  if (!partition || !licensing || licensing.jobId !== jobId) return [];

  const userCount = await ctx.members.count(tenantId, groupId);
  const closure = await groupsUnder(ctx, tenantId, groupId);
  const pages: Omit<GroupPageMessage, 'page' | 'pages'>[] = [];
  const shardsPerPage = jobPageShards(userCount);
  const dense = await readsDensely(ctx, tenantId, userCount);
  for (let from = 0; from < SHARD_COUNT; from += shardsPerPage) {
    pages.push({
      kind: 'group-page',
      tenantId,
      groupId,
      jobId,
      listGroupId: groupId,
      fromShard: from,
      toShard: Math.min(SHARD_COUNT, from + shardsPerPage),
      dense,
    });
  }
  // Devices of nested groups follow device SKUs (rules.md §2); one page per nested group, usually small.
  for (const nestedId of closure) {
    if (nestedId === groupId) continue;
    pages.push({
      kind: 'group-page',
      tenantId,
      groupId,
      jobId,
      listGroupId: nestedId,
      fromShard: 0,
      toShard: SHARD_COUNT,
      dense: false,
    });
  }
  const job = await ctx.jobs.create({
    tenantId,
    jobId,
    groupId,
    pages: pages.length,
    membersTotal: userCount,
    startedDateTime: ctx.now().toISOString(),
  });
  if ((await setProcessingState(ctx, tenantId, groupId, jobId, 'ProcessingInProgress')) === 'superseded')
    return [];
  const group = await ctx.directory.group(tenantId, groupId);
  await ctx.audit.append(tenantId, [
    jobAudit(
      `start:${jobId}`,
      job.startedDateTime,
      'Start applying group based license to users',
      groupId,
      group,
      {
        displayName: 'AssignedLicense',
        oldValue: null,
        newValue: JSON.stringify(licensing.licenses),
      },
    ),
  ]);
  return pages.map((p, page) => ({ ...p, page, pages: job.pages }));
}

/**
 * How many member shards one page of a group job covers, for a group of `members` (about `membersPerPage` each). A
 * power of two, so a page never straddles two principal tables (16 shards each): its range read is one query.
 */
export function jobPageShards(members: number): number {
  const wanted = Math.max(
    1,
    Math.min(SHARD_COUNT, Math.floor((SHARD_COUNT * membersPerPage()) / Math.max(1, members))),
  );
  return 2 ** Math.floor(Math.log2(wanted));
}

/**
 * The record of a job starting or finishing, as Entra's group-based licensing writes it (seeds: *Start* and *Finish
 * applying group based license to users*). Keyed by the job, so a replay writes the same row.
 */
function jobAudit(
  idempotencyKey: string,
  activityDateTime: string,
  activityDisplayName: string,
  groupId: string,
  group: GroupRecord | undefined,
  property: { displayName: string; oldValue: string | null; newValue: string | null },
): AuditInput & { idempotencyKey: string } {
  return {
    idempotencyKey,
    activityDateTime,
    activityDisplayName,
    category: 'GroupManagement',
    initiatedBy: GROUP_LICENSING_APP,
    operationType: 'Assign',
    result: 'success',
    resultReason: '',
    // A group deleted since is named by its id only.
    targetResources: [
      { id: groupId, displayName: group?.displayName ?? null, type: 'Group', modifiedProperties: [property] },
    ],
  };
}

/** The group and every group nested in it (for device SKUs), cycle-safe; the group itself first. */
export async function groupsUnder(
  ctx: Pick<AppContext, 'members'>,
  tenantId: string,
  groupId: string,
): Promise<string[]> {
  const seen = new Set([groupId]);
  const pending = [groupId];
  while (pending.length > 0) {
    const id = pending.pop();
    if (id === undefined) break;
    for (const member of await ctx.members.listRange(tenantId, id)) {
      if (member.kind === 'group' && !seen.has(member.id)) {
        seen.add(member.id);
        pending.push(member.id);
      }
    }
  }
  return [...seen];
}

/**
 * Whether pages of a group of `members` read their principals with one range read of their shards (the group is a
 * good part of the tenant) rather than with a point read per member.
 */
export async function readsDensely(
  ctx: Pick<AppContext, 'directory'>,
  tenantId: string,
  members: number,
): Promise<boolean> {
  return members >= (await estimatePrincipals(ctx, tenantId)) / 4 && members > 200;
}

/** Roughly how many principals the tenant has: enough to choose between a range read and point reads. */
async function estimatePrincipals(ctx: Pick<AppContext, 'directory'>, tenantId: string): Promise<number> {
  // One shard's population, times the shard count: shards are uniform by construction.
  const sample = await ctx.directory.principalShards(tenantId, 0, 1);
  return sample.size * SHARD_COUNT;
}

/**
 * One page of a group job: the page's members are evaluated in the order the group's source reached them, written
 * through the seat ledger, and counted. The last page to finish completes the job.
 */
export async function processGroupPage(
  ctx: AppContext,
  message: GroupPageMessage,
  messageId: string,
): Promise<void> {
  const { tenantId, groupId, jobId } = message;
  const partition = await ctx.tenants.partition(tenantId);
  const licensing = partition?.groupLicenses.get(groupId);
  if (!licensing || licensing.jobId !== jobId) return; // superseded: the newer job covers every member

  const members = await ctx.members.listRange(
    tenantId,
    message.listGroupId,
    message.fromShard,
    message.toShard,
  );
  const wanted = members.filter((m) =>
    message.listGroupId === groupId ? m.kind !== 'group' : m.kind === 'device',
  );
  const ids = arrivalOrder(wanted);
  // The principals a page holds (read, evaluated, encoded) are what a host's memory grows with: pages wait for
  // room in the context's budget (one per host process), so many large pages delivered at once do not all hold
  // theirs together.
  const { succeeded, failed, errors, failures, released } = await ctx.pageBudget.run(ids.length, () =>
    evaluatePage(ctx, message, ids, messageId),
  );
  if (failures.length > 0) {
    // A record's time is part of its row key: a replayed page must give the same one, so it is the later of the
    // job's start and the entry's last change, both stored (not the time the page happens to run).
    const started = (await ctx.jobs.read(tenantId, jobId))?.startedDateTime ?? ctx.now().toISOString();
    await ctx.audit.append(
      tenantId,
      failures.map(({ failedAt, ...failure }) => ({
        ...failure,
        activityDateTime: failedAt > started ? failedAt : started,
      })),
    );
  }
  // Seats released by members who left go to the waiting room first: the page is done only once they are offered.
  await healReleased(ctx, tenantId, released);
  const { allDone } = await ctx.jobs.finishPage(tenantId, jobId, message.page, {
    processed: ids.length,
    succeeded,
    failed,
    errors,
  });
  if (allDone) await completeGroupJob(ctx, tenantId, groupId, jobId);
}

/** A page's failures as audit records, each with the time its entry last changed. */
type PageFailure = Omit<AuditInput, 'activityDateTime'> & { idempotencyKey: string; failedAt: string };

/**
 * Reads, evaluates and writes a page's members (`ids`, in arrival order) and counts their outcomes; what it read is
 * let go when it returns.
 */
async function evaluatePage(
  ctx: AppContext,
  message: GroupPageMessage,
  ids: readonly string[],
  messageId: string,
): Promise<{
  succeeded: number;
  failed: number;
  errors: Record<string, number>;
  failures: PageFailure[];
  released: Counts;
}> {
  const { tenantId, groupId, jobId } = message;
  let preloaded: Map<string, PrincipalRecord> | undefined;
  let markers: Map<string, string[]> | undefined;
  if (message.dense && ids.length > 0) {
    const read = await ctx.directory.principalShardsWithMarkers(
      tenantId,
      message.fromShard,
      message.toShard,
      new Set(ids),
    );
    preloaded = read.records;
    markers = read.markers;
  }
  const result =
    ids.length === 0
      ? { records: new Map<string, PrincipalRecord>(), released: {}, changed: 0 }
      : await updatePrincipals(ctx, tenantId, ids, {
          reservationId: messageId,
          ...(preloaded ? { preloaded } : {}),
          ...(markers ? { markers } : {}),
        });

  let succeeded = 0;
  let failed = 0;
  const errors: Record<string, number> = {};
  const failures: PageFailure[] = [];
  for (const id of ids) {
    const record = result.records.get(id);
    if (!record || record.deletedDateTime !== null) continue;
    const outcome = memberOutcome(record.entries, groupId);
    if (outcome === 'succeeded') succeeded++;
    else if (outcome === 'failed') {
      failed++;
      const entry = record.entries.find((e) => e.assignedByGroup === groupId && e.state === 'Error');
      const error = entry?.error ?? 'Other';
      errors[error] = (errors[error] ?? 0) + 1;
      failures.push({
        idempotencyKey: `${jobId}:${id}`,
        failedAt: entry?.lastUpdatedDateTime ?? '',
        activityDisplayName: 'Change user license',
        category: 'UserManagement',
        initiatedBy: GROUP_LICENSING_APP,
        operationType: 'Assign',
        result: 'failure',
        resultReason: error,
        targetResources: [
          {
            id,
            displayName: record.userPrincipalName ?? record.displayName,
            type: record.kind === 'user' ? 'User' : 'Device',
            modifiedProperties: [],
          },
        ],
        additionalDetails: [{ key: 'GroupId', value: groupId }],
      });
    }
  }
  return { succeeded, failed, errors, failures, released: result.released };
}

function arrivalOrder(members: readonly MemberRef[]): string[] {
  return [...members]
    .sort((a, b) =>
      a.joinedAt !== b.joinedAt ? (a.joinedAt < b.joinedAt ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    )
    .map((m) => m.id);
}

/**
 * Completes a job (idempotent): `ProcessingComplete`, and the *Finish applying…* record with the result text,
 * committed with the state through the outbox: a replayed last page finds the job complete and only relays the
 * record if the run that completed it died before it did.
 */
export async function completeGroupJob(
  ctx: AppContext,
  tenantId: string,
  groupId: string,
  jobId: string,
): Promise<void> {
  const licensing = (await ctx.tenants.partition(tenantId))?.groupLicenses.get(groupId);
  if (!licensing || licensing.jobId !== jobId) return;
  const finishId = `finish.${jobId}`;
  if (licensing.processingState === 'ProcessingComplete') {
    const owed = await ctx.outbox.read(tenantId, finishId);
    if (owed) await relayOutbox(ctx, tenantId, { record: owed, work: outboxWorkOf(tenantId, owed) });
    return;
  }
  const counters = await ctx.licensing.groupCounts(tenantId, groupId);
  const group = await ctx.directory.group(tenantId, groupId);
  const finish = outboxEntry(
    ctx,
    {
      audit: [
        jobAudit(
          `finish:${jobId}`,
          ctx.now().toISOString(),
          'Finish applying group based license to users',
          groupId,
          group,
          {
            displayName: 'Result',
            oldValue: null,
            newValue: finishApplyingResult(counters),
          },
        ),
      ],
    },
    { id: finishId },
  );
  if ((await setProcessingState(ctx, tenantId, groupId, jobId, 'ProcessingComplete', finish)) === 'changed')
    await relayOutbox(ctx, tenantId, finish);
}

export interface ProcessingDetails {
  readonly state: ProcessingState;
  readonly status: GroupStatus;
  readonly membersTotal: number;
  readonly membersProcessed: number;
  readonly membersSucceeded: number;
  readonly membersFailed: number;
  readonly errorsByType: Readonly<Record<string, number>>;
  /** Pages whose work failed for good (poisoned), and the last such failure: reprocess the group to retry. */
  readonly failedPages: number;
  readonly lastFailure: GroupProcessingFailure | null;
}

/** `licenseProcessingDetails`: the state, the admin status, and progress counters for progress bars. */
export async function processingDetails(
  ctx: Pick<AppContext, 'directory' | 'tenants' | 'licensing' | 'jobs' | 'members'>,
  tenantId: string,
  groupId: string,
): Promise<ProcessingDetails> {
  const group = await getGroup(ctx, tenantId, groupId);
  const partition = await ctx.tenants.partition(tenantId);
  const licensing = partition?.groupLicenses.get(group.id);
  const counters = await ctx.licensing.groupCounts(tenantId, group.id);
  const state = licensing?.processingState ?? 'ProcessingComplete';
  const job = licensing?.jobId ? await ctx.jobs.read(tenantId, licensing.jobId) : undefined;
  const progress = licensing?.jobId ? await ctx.jobs.progress(tenantId, licensing.jobId) : undefined;
  // While a job runs, its total is the members it planned; once complete, members that joined or left since (through
  // the API or the webhook, each evaluated on its own) are counted too, so the totals match the outcome counters.
  const membersTotal =
    state !== 'ProcessingComplete' && job ? job.membersTotal : await ctx.members.count(tenantId, group.id);
  const failedPages = progress?.poisonedPages ?? 0;
  // A job that could not be planned is the one failure a group's row records (rows written before codes hold its
  // sentence instead of its code).
  const lastFailure: GroupProcessingFailure | null = licensing?.lastFailure
    ? { code: 'JobNotPlanned', groupId: group.id }
    : null;
  const status =
    failedPages > 0 || lastFailure
      ? state === 'ProcessingComplete'
        ? 'errorsAndIssues'
        : 'inProgress'
      : groupStatus(state, counters);
  return {
    state,
    status,
    membersTotal,
    // Pages report when they finish; the live outcome flags move as each chunk lands: show whichever is further.
    membersProcessed:
      state === 'ProcessingComplete'
        ? membersTotal
        : Math.min(membersTotal, Math.max(progress?.processed ?? 0, counters.succeeded + counters.failed)),
    membersSucceeded: counters.succeeded,
    membersFailed: counters.failed,
    errorsByType: counters.errors,
    failedPages,
    lastFailure,
  };
}

/**
 * Moves a device subscription to another group (seed 000's "assign to a different group"; an extension Graph
 * lacks): removed from the group that carries it and added to the target with the same disabled plans, both rows
 * in one transaction with the outbox row of their audit records and jobs. The SKU is on exactly one group before
 * and after, whatever fails; a target that refuses it refuses the move, and nothing changes.
 */
export async function moveDeviceLicense(
  ctx: AppContext,
  tenantId: string,
  fromGroupId: string,
  skuId: string,
  toGroupId: string,
): Promise<GroupLicensing> {
  const source = await getGroup(ctx, tenantId, fromGroupId);
  const target = await getGroup(ctx, tenantId, toGroupId);
  const sku = skuId.toLowerCase();
  const { entry, added } = await retryOnConflict(
    `the license assignments of tenant ${tenantId}`,
    async () => {
      const partition = await ctx.tenants.partition(tenantId);
      if (!partition) throw new NotFoundError(tenantId);
      const from = partition.groupLicenses.get(source.id);
      const license = from?.licenses.find((l) => l.skuId === sku);
      if (!from || !license || ctx.catalog.sku(sku)?.assignableTo !== 'device') {
        throw new LicensingRefusedError(failures.notADeviceLicenseOfGroup(skuId, source.id));
      }
      const now = ctx.now();
      const owners = deviceSkuOwners(ctx, partition);
      const removal = { addLicenses: [], removeLicenses: [sku] };
      const removed = nextLicensing(
        source.id,
        from,
        validatedLicenses(ctx, partition, source, from.licenses, removal, owners),
        now,
      );
      // The SKU leaves the source in the same commit, so the target may take it.
      owners.delete(sku);
      const sameGroup = target.id === source.id;
      const before = sameGroup ? removed : partition.groupLicenses.get(target.id);
      const addition = {
        addLicenses: [{ skuId: sku, disabledPlans: license.disabledPlans }],
        removeLicenses: [],
      };
      const added = nextLicensing(
        target.id,
        before,
        validatedLicenses(ctx, partition, target, before?.licenses ?? [], addition, owners),
        now,
      );
      const writes = sameGroup
        ? [{ current: from, next: added }]
        : [
            { current: from, next: removed },
            { current: before, next: added },
          ];
      const entry = await commitLicensing(ctx, tenantId, writes, [
        { group: source, before: from.licenses, after: removed.licenses },
        { group: target, before: before?.licenses ?? [], after: added.licenses },
      ]);
      return { entry, added };
    },
  );
  await relayOutbox(ctx, tenantId, entry);
  return { group: target, licensing: added };
}
