import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { groupProcessingFailureText } from '../../src/api/wording.js';
import { applyChanges } from '../../src/application/changes.js';
import type { StorageContext } from '../../src/application/context.js';
import { addMember } from '../../src/application/directory.js';
import { StorageContentionError } from '../../src/application/errors.js';
import { assignGroupLicenses, processingDetails } from '../../src/application/group-licensing.js';
import { heal } from '../../src/application/healing.js';
import { type Change, type GroupPageMessage, healRequest } from '../../src/application/messages.js';
import { recordPoisonedWork } from '../../src/application/poison.js';
import { updatePrincipals } from '../../src/application/principal-updates.js';
import { sweep } from '../../src/application/sweep.js';
import { listSubscriptions } from '../../src/application/tenants.js';
import { readWaiters } from '../../src/storage/bookkeeping.js';
import { principalPartition } from '../../src/storage/keys.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import { PrincipalWriter } from '../../src/storage/principal-writer.js';
import {
  encodeSubscription,
  groupLicenseRow,
  readTenantPartition,
  recordHealPass,
} from '../../src/storage/tenant-records.js';
import {
  auditRecords,
  buy,
  consumedUnits,
  importUsers,
  invariantViolations,
  licensedGroup,
  newTenant,
  securityGroup,
  usePipeline,
  waitIdle,
} from './support.js';

const pipeline = usePipeline();

/** A snapshot of every entry and counter that a duplicate delivery must not change. */
async function fingerprint(ctx: StorageContext, tenantId: string, ids: readonly string[]): Promise<string> {
  const rows = await Promise.all(ids.map((id) => readPrincipal(ctx.tables, tenantId, id)));
  const subs = await listSubscriptions(ctx, tenantId);
  return JSON.stringify({
    entries: rows.map((r) =>
      r?.entries.map((e) => [e.skuId, e.assignedByGroup, e.state, e.error, e.disabledPlans]),
    ),
    memberOf: rows.map((r) => r?.memberOf.map((m) => m.groupId).sort()),
    consumed: subs.map((s) => [s.skuId, s.consumedUnits]),
  });
}

describe('duplicate and late deliveries', () => {
  it('changes nothing when every message type is delivered again after the work is done', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 150);
    const group = await securityGroup(ctx, tenantId, 'Everyone');
    const other = await securityGroup(ctx, tenantId, 'Others');
    const users = await importUsers(ctx, tenantId, 200, { memberOf: [group.id] });
    const assigned = await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await addMember(ctx, tenantId, other.id, users[0] ?? '');
    await waitIdle(ctx, tenantId);
    const before = await fingerprint(ctx, tenantId, users);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(150);

    const jobId = assigned.licensing?.jobId ?? '';
    const page: GroupPageMessage = {
      kind: 'group-page',
      tenantId,
      groupId: group.id,
      jobId,
      page: 0,
      pages: 1,
      listGroupId: group.id,
      fromShard: 0,
      toShard: 256,
      dense: false,
    };
    await ctx.queues.send('jobs', { kind: 'group-job', tenantId, groupId: group.id, jobId });
    await ctx.queues.send('pages', page);
    await ctx.queues.send('pages', page);
    await ctx.queues.send('changes', {
      kind: 'changes',
      tenantId,
      origin: 'webhook',
      changes: [
        { type: 'member', op: 'add', groupId: other.id, memberId: users[0] },
        { type: 'member', op: 'remove', groupId: other.id, memberId: users[1] },
      ],
    });
    await ctx.queues.send('heal', { kind: 'heal', tenantId, skuId: e3 });
    await waitIdle(ctx, tenantId);
    expect(await fingerprint(ctx, tenantId, users)).toBe(before);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('ignores a replayed or out-of-order membership notification by its sequence number', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const group = await securityGroup(ctx, tenantId, 'Ordered');
    const [id = ''] = await importUsers(ctx, tenantId, 1);
    const send = (op: 'add' | 'remove', sequence: number) =>
      ctx.queues.send('changes', {
        kind: 'changes',
        tenantId,
        origin: 'webhook',
        changes: [{ type: 'member', op, groupId: group.id, memberId: id, sequence }],
      });
    await send('add', 10);
    await waitIdle(ctx, tenantId);
    await send('remove', 12);
    await waitIdle(ctx, tenantId);
    await send('add', 11); // late: older than the removal
    await send('add', 10); // replay
    await waitIdle(ctx, tenantId);
    expect((await readPrincipal(ctx.tables, tenantId, id))?.memberOf).toEqual([]);
    expect(await ctx.members.has(tenantId, group.id, id)).toBe(false);
    await send('add', 13);
    await waitIdle(ctx, tenantId);
    expect((await readPrincipal(ctx.tables, tenantId, id))?.memberOf.map((m) => m.groupId)).toEqual([
      group.id,
    ]);
  });
});

/**
 * A context whose first principal write waits for `meanwhile` to finish: another message's work lands between this
 * work's read of the rows and its write, as it does when two changes messages of one tenant run at once.
 */
function racingContext(ctx: StorageContext, meanwhile: () => Promise<void>): StorageContext {
  let fired = false;
  const writer = Object.create(ctx.writer) as StorageContext['writer'];
  writer.write = async (...args) => {
    if (!fired) {
      fired = true;
      await meanwhile();
    }
    return ctx.writer.write(...args);
  };
  return { ...ctx, writer };
}

/**
 * A context whose first single-row delete of a principal waits for `meanwhile` to finish: another message's work
 * lands between a hard delete's transaction and the removal of the row.
 */
function racingDeleteContext(
  ctx: StorageContext,
  meanwhile: () => Promise<void>,
): StorageContext & { fired(): boolean } {
  let fired = false;
  const tables = Object.create(ctx.tables) as StorageContext['tables'];
  tables.principalsFor = (partitionKey) => {
    const table = ctx.tables.principalsFor(partitionKey);
    const racing = Object.create(table) as typeof table;
    racing.deleteEntity = async (...args) => {
      if (!fired) {
        fired = true;
        await meanwhile();
      }
      return table.deleteEntity(...args);
    };
    return racing;
  };
  return { ...ctx, tables, writer: new PrincipalWriter(tables, ctx.catalog), fired: () => fired };
}

describe('a hard delete racing another change of the same user', () => {
  const lifecycle = (
    tenantId: string,
    op: 'softDelete' | 'restore' | 'hardDelete',
    userId: string,
    sequence: number,
  ) => ({
    kind: 'changes' as const,
    tenantId,
    origin: 'webhook' as const,
    changes: [{ type: 'user', op, userId, sequence } satisfies Change],
  });

  it('gives back the seats a restore granted after the hard delete read the user', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5);
    const {
      users: [user = ''],
    } = await licensedGroup(ctx, tenantId, 'Restored', e3, 1);
    await applyChanges(ctx, lifecycle(tenantId, 'softDelete', user, 1), randomUUID());
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(0);

    // The hard delete reads the soft-deleted user (no seat); the restore grants a seat before the delete lands.
    const racing = racingContext(ctx, () =>
      applyChanges(ctx, lifecycle(tenantId, 'restore', user, 2), randomUUID()),
    );
    await applyChanges(racing, lifecycle(tenantId, 'hardDelete', user, 3), randomUUID());
    await waitIdle(ctx, tenantId);

    expect(await readPrincipal(ctx.tables, tenantId, user)).toBeUndefined();
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(0);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('deletes a user restored between the hard delete and the removal of its row, with its seats', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5);
    const {
      users: [user = ''],
    } = await licensedGroup(ctx, tenantId, 'Revived', e3, 1);
    await applyChanges(ctx, lifecycle(tenantId, 'softDelete', user, 1), randomUUID());

    const racing = racingDeleteContext(ctx, () =>
      applyChanges(ctx, lifecycle(tenantId, 'restore', user, 2), randomUUID()),
    );
    await applyChanges(racing, lifecycle(tenantId, 'hardDelete', user, 3), randomUUID());
    await waitIdle(ctx, tenantId);

    expect(racing.fired()).toBe(true);
    expect(await readPrincipal(ctx.tables, tenantId, user)).toBeUndefined();
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(0);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('gives back a seat once when a soft delete lands after the hard delete read the user', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5);
    const {
      users: [user = '', other = ''],
    } = await licensedGroup(ctx, tenantId, 'Deleted', e3, 2);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(2);

    // Reordered notifications: the hard delete reads the user while it still holds its seat, and the soft delete
    // (which gives that seat back) lands before the delete does.
    const racing = racingContext(ctx, () =>
      applyChanges(ctx, lifecycle(tenantId, 'softDelete', user, 1), randomUUID()),
    );
    await applyChanges(racing, lifecycle(tenantId, 'hardDelete', user, 2), randomUUID());
    await waitIdle(ctx, tenantId);

    expect(await readPrincipal(ctx.tables, tenantId, user)).toBeUndefined();
    expect((await readPrincipal(ctx.tables, tenantId, other))?.entries.map((e) => e.state)).toEqual([
      'Active',
    ]);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(1);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});

describe('poisoned work', () => {
  it('ends in the audit log and the group status when a page fails five times', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 50);
    const group = await securityGroup(ctx, tenantId, 'Fragile');
    const users = await importUsers(ctx, tenantId, 20, { memberOf: [group.id] });
    // A corrupt row (its body is not JSON) makes every attempt at its page fail.
    const victim = users[0] ?? '';
    await ctx.tables
      .principalsFor(principalPartition(tenantId, victim))
      .updateEntity(
        { partitionKey: principalPartition(tenantId, victim), rowKey: victim, d: '{not json' },
        'Merge',
      );
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId, 90_000);

    const details = await processingDetails(ctx, tenantId, group.id);
    const audits = [];
    for await (const record of auditRecords(ctx, tenantId)) audits.push(record);
    // Seen once under load in CI (failedPages 0, the job complete): say what happened if it recurs.
    const victimRow = await ctx.tables
      .principalsFor(principalPartition(tenantId, victim))
      .getEntity(principalPartition(tenantId, victim), victim);
    const jobId = (await readTenantPartition(ctx.tables, tenantId))?.groupLicenses.get(group.id)?.jobId ?? '';
    const context = JSON.stringify({
      details,
      job: await ctx.jobs.read(tenantId, jobId),
      progress: await ctx.jobs.progress(tenantId, jobId),
      audits: audits.map((a) => `${a.activityDisplayName}: ${a.resultReason}`),
      victimBody: String(victimRow.d).slice(0, 40),
    });
    expect(details, context).toMatchObject({
      state: 'ProcessingComplete',
      status: 'errorsAndIssues',
      failedPages: 1,
    });
    const failure = audits.find((a) => a.activityDisplayName === 'Apply group based license to users failed');
    expect(failure?.result).toBe('failure');
    expect(failure?.resultReason).toMatch(/could not be processed; reprocess the group/);
    expect((await readTenantPartition(ctx.tables, tenantId))?.reservations.size).toBe(0);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(0);
  }, 120_000);
});

describe('a poisoned group job', () => {
  it('leaves its code on the group, worded as before in the processing details', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5);
    const { group } = await licensedGroup(ctx, tenantId, 'Unplanned', e3, 2);
    const jobId = (await readTenantPartition(ctx.tables, tenantId))?.groupLicenses.get(group.id)?.jobId ?? '';
    const message = { kind: 'group-job', tenantId, groupId: group.id, jobId };
    await recordPoisonedWork(ctx, 'jobs-poison', JSON.stringify(message), randomUUID());

    const row = await ctx.tables.tenants.getEntity(tenantId, groupLicenseRow(group.id));
    expect(row.fx).toBe('JobNotPlanned');
    const details = await processingDetails(ctx, tenantId, group.id);
    expect(details).toMatchObject({
      status: 'errorsAndIssues',
      lastFailure: { code: 'JobNotPlanned', groupId: group.id },
    });
    expect(details.lastFailure && groupProcessingFailureText(details.lastFailure)).toBe(
      `The license job for group ${group.id} could not be planned; reprocess the group to retry.`,
    );
  });
});

describe('the sweep', () => {
  it('removes the reservation markers of closed reservations and changes nothing else', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 30);
    const group = await securityGroup(ctx, tenantId, 'Swept');
    const users = await importUsers(ctx, tenantId, 30, { memberOf: [group.id] });
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    const markers = async () => {
      let n = 0;
      const filter = `PartitionKey ge '${tenantId}|' and PartitionKey lt '${tenantId}|~' and RowKey ge '~r|' and RowKey lt '~r}'`;
      for await (const _ of ctx.tables.queryPrincipals(filter)) n++;
      return n;
    };
    expect(await markers()).toBeGreaterThan(0);
    const before = await fingerprint(ctx, tenantId, users);
    const result = await sweep(ctx);
    expect(result.markersRemoved).toBeGreaterThan(0);
    expect(await markers()).toBe(0);
    expect(await fingerprint(ctx, tenantId, users)).toBe(before);
  });
});

/** A tenant whose 12-member group holds 10 seats, 2 waiting; then 2 more units appear without a wake-up. */
async function waitingWithFreeSeats(ctx: StorageContext): Promise<{ tenantId: string; e3: string }> {
  const tenantId = await newTenant(ctx);
  const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 10);
  await licensedGroup(ctx, tenantId, 'Waiting', e3, 12);
  expect(await readWaiters(ctx.tables, tenantId, e3)).toHaveLength(2);
  // Units raised behind the application's back: the heal message a purchase queues is "lost".
  const sub = (await readTenantPartition(ctx.tables, tenantId))?.subscriptions.get(e3);
  if (!sub) throw new Error('no subscription');
  await ctx.tables.tenants.updateEntity(
    encodeSubscription(tenantId, { ...sub, prepaidUnits: { ...sub.prepaidUnits, enabled: 12 } }),
    'Replace',
    { etag: sub.etag ?? '*' },
  );
  return { tenantId, e3 };
}

describe('healing', () => {
  it('is woken by the sweep when seats are free and principals wait (a lost wake-up)', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3 } = await waitingWithFreeSeats(ctx);
    const result = await sweep(ctx);
    expect(result.healsQueued).toBeGreaterThanOrEqual(1);
    await waitIdle(ctx, tenantId);
    expect(await readWaiters(ctx.tables, tenantId, e3)).toEqual([]);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(12);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('skips a heal message queued before a pass that finished, and runs one queued after it', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3 } = await waitingWithFreeSeats(ctx);
    const now = Date.now();
    await recordHealPass(ctx.tables, tenantId, e3, new Date(now).toISOString());
    await heal(ctx, healRequest(tenantId, e3, new Date(now - 60_000)), 'stale-heal');
    expect(await readWaiters(ctx.tables, tenantId, e3)).toHaveLength(2);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(10);

    await heal(ctx, healRequest(tenantId, e3, new Date(now + 1)), 'fresh-heal');
    expect(await readWaiters(ctx.tables, tenantId, e3)).toEqual([]);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(12);
    expect((await readTenantPartition(ctx.tables, tenantId))?.healPasses.get(e3)).toBeDefined();
  });
});

describe('an update that gives up on contention', () => {
  it('settles its seat reservation at once instead of leaving it to the sweep', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 10);
    const [userId = ''] = await importUsers(ctx, tenantId, 1);
    const stale = await readPrincipal(ctx.tables, tenantId, userId);
    if (!stale) throw new Error('the imported user is missing');
    // Someone else changes the user, so every write from the stale copy is refused.
    await updatePrincipals(ctx, tenantId, [userId], {
      reservationId: randomUUID(),
      mutate: (record) => ({ ...record, displayName: 'Renamed elsewhere' }),
    });

    const giveUp = updatePrincipals(ctx, tenantId, [userId], {
      reservationId: randomUUID(),
      preloaded: new Map([[userId, stale]]),
      mutate: (record) => ({
        ...record,
        directLicenses: [{ skuId: e3, disabledPlans: [], since: '2026-01-01T00:00:00.000Z' }],
      }),
      maxAttempts: 1,
    });
    await expect(giveUp).rejects.toBeInstanceOf(StorageContentionError);

    expect((await readTenantPartition(ctx.tables, tenantId))?.reservations.size).toBe(0);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(0);
    expect((await readPrincipal(ctx.tables, tenantId, userId))?.entries).toEqual([]);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});
