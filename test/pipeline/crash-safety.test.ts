// Crash-safe writes (src/storage/README.md, "Outbox"): for each point where a write path can die half-way, the work is
// made to fail there (the context's fault-injection seam), the process "restarts" (the sweep runs once the outbox
// lease has run out, the queues redeliver), and the tenant converges: the invariants hold, and the outcome equals
// that of the same work done without a crash on a twin tenant.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyQueuedChanges } from '../../src/application/changes.js';
import type { FaultPoint, StorageContext } from '../../src/application/context.js';
import { addMember, createDevice, createGroup, removeMember } from '../../src/application/directory.js';
import { LicensingRefusedError } from '../../src/application/errors.js';
import {
  assignGroupLicenses,
  moveDeviceLicense,
  planGroupJob,
  processGroupPage,
  processingDetails,
} from '../../src/application/group-licensing.js';
import { importDirectory } from '../../src/application/import.js';
import type { ChangesMessage } from '../../src/application/messages.js';
import { IMPORT_OUTBOX_LEASE_MS, OUTBOX_LEASE_MS } from '../../src/application/outbox.js';
import { sweep } from '../../src/application/sweep.js';
import { listPrincipals, tenantActivity } from '../../src/application/tenant-snapshot.js';
import { listSubscriptions } from '../../src/application/tenants.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import { readTenantPartition } from '../../src/storage/tenant-records.js';
import { waitFor } from '../support/index.js';
import {
  auditRecords,
  buy,
  importUsers,
  invariantViolations,
  newTenant,
  securityGroup,
  usePipeline,
  waitIdle,
} from './support.js';

const pipeline = usePipeline();

class InjectedCrash extends Error {
  constructor(readonly point: FaultPoint) {
    super(`injected crash at ${point}`);
    this.name = 'InjectedCrash';
  }
}

/** The context of a process that dies the `nth` time its work reaches `point`. */
function dyingAt(ctx: StorageContext, point: FaultPoint, nth = 1): StorageContext {
  let reachedPoint = 0;
  let dead = false;
  return {
    ...ctx,
    faults: (reached) => {
      if (dead) throw new InjectedCrash(reached);
      if (reached === point && ++reachedPoint === nth) {
        dead = true;
        throw new InjectedCrash(point);
      }
    },
  };
}

/** The process comes back: its sweep runs once `afterMs` has passed (the outbox lease), then the queues drain. */
async function restart(
  ctx: StorageContext,
  tenantId: string,
  afterMs = OUTBOX_LEASE_MS + 1_000,
): Promise<void> {
  await sweep({ ...ctx, now: () => new Date(Date.now() + afterMs) });
  await waitIdle(ctx, tenantId);
}

/**
 * A tenant's state with ids replaced by the names the scenario gave them, so that a tenant that crashed and one that
 * did not can be compared: entries, memberships, group licenses and processing, seat counters, audit records.
 */
async function outcome(ctx: StorageContext, tenantId: string, names: ReadonlyMap<string, string>) {
  const name = (id: string | null) => (id === null ? 'direct' : (names.get(id) ?? `unnamed ${id}`));
  const principals: Record<string, unknown> = {};
  for await (const p of listPrincipals(ctx, tenantId)) {
    principals[name(p.id)] = {
      memberOf: p.memberOf.map((m) => name(m.groupId)).sort(),
      entries: p.entries
        .map((e) => `${e.skuId} from ${name(e.assignedByGroup)}: ${e.state}/${e.error}`)
        .sort(),
    };
  }
  const partition = await readTenantPartition(ctx.tables, tenantId);
  const groups: Record<string, unknown> = {};
  for (const [id, licensing] of partition?.groupLicenses ?? []) {
    const details = await processingDetails(ctx, tenantId, id);
    groups[name(id)] = {
      licenses: licensing.licenses.map((l) => l.skuId).sort(),
      state: licensing.processingState,
      members: await ctx.members.count(tenantId, id),
      succeeded: details.membersSucceeded,
      failed: details.membersFailed,
    };
  }
  const audit: string[] = [];
  for await (const record of auditRecords(ctx, tenantId)) {
    audit.push(`${record.activityDisplayName}: ${record.targetResources.map((t) => name(t.id)).join(',')}`);
  }
  const activity = await tenantActivity(ctx, tenantId);
  return {
    principals,
    groups,
    consumed: Object.fromEntries(
      (await listSubscriptions(ctx, tenantId)).map((s) => [s.skuId, s.consumedUnits]),
    ),
    audit: audit.sort(),
    pendingOutbox: activity.pendingOutbox,
    openReservations: activity.openReservations,
  };
}

type Outcome = Awaited<ReturnType<typeof outcome>>;

/** Runs a scenario once without a crash, the first time its outcome is asked for. */
function baseline(run: () => Promise<Outcome>): () => Promise<Outcome> {
  let result: Promise<Outcome> | undefined;
  return () => {
    result ??= run();
    return result;
  };
}

describe('a group assignLicense', () => {
  /** A group of 12 users, 20 seats of E3; the crash (if any) hits the assignment. */
  async function assignScenario(ctx: StorageContext, work: StorageContext) {
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 20);
    const group = await securityGroup(ctx, tenantId, 'Sales');
    const users = await importUsers(ctx, tenantId, 12, { memberOf: [group.id] });
    const names = new Map([[group.id, 'Sales'], ...users.map((id, i) => [id, `user${i}`] as const)]);
    const assigned = assignGroupLicenses(work, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    return { tenantId, group, names, assigned };
  }

  const expected = baseline(async () => {
    const { ctx } = pipeline;
    const { tenantId, names, assigned } = await assignScenario(ctx, ctx);
    await assigned;
    await waitIdle(ctx, tenantId);
    return outcome(ctx, tenantId, names);
  });

  it.each<FaultPoint>(['outbox:committed', 'outbox:audited', 'outbox:sent'])(
    'converges after a crash at %s',
    async (point) => {
      const { ctx } = pipeline;
      const { tenantId, group, names, assigned } = await assignScenario(ctx, dyingAt(ctx, point));
      await expect(assigned).rejects.toBeInstanceOf(InjectedCrash);
      // The license row and its outbox row are committed together: the work the change owes is still owed.
      expect((await tenantActivity(ctx, tenantId)).pendingOutbox).toBe(1);
      if (point === 'outbox:committed') {
        expect((await processingDetails(ctx, tenantId, group.id)).state).toBe('QueuedForProcessing');
      }

      await restart(ctx, tenantId);
      expect(await invariantViolations(ctx, tenantId)).toEqual([]);
      expect(await outcome(ctx, tenantId, names)).toEqual(await expected());
    },
  );

  it('writes each member’s failure once though its job is delivered twice (a crash after the send)', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 10);
    const group = await securityGroup(ctx, tenantId, 'Crowded');
    await importUsers(ctx, tenantId, 12, { memberOf: [group.id] });
    await expect(
      assignGroupLicenses(dyingAt(ctx, 'outbox:sent'), tenantId, group.id, {
        addLicenses: [{ skuId: e3, disabledPlans: [] }],
        removeLicenses: [],
      }),
    ).rejects.toBeInstanceOf(InjectedCrash);
    // The job runs to its end; the sweep then sends its message again, and every page runs a second time.
    await waitFor(
      async () => (await processingDetails(ctx, tenantId, group.id)).state === 'ProcessingComplete',
      { timeoutMs: 30_000 },
    );
    await restart(ctx, tenantId);

    const failures: string[] = [];
    for await (const record of auditRecords(ctx, tenantId)) {
      if (record.activityDisplayName === 'Change user license')
        failures.push(record.targetResources[0]?.id ?? '');
    }
    expect(failures).toHaveLength(2);
    expect(new Set(failures).size).toBe(2);
    expect((await processingDetails(ctx, tenantId, group.id)).membersFailed).toBe(2);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('gets its Finish record from the redelivered last page when the run that completed the job died first', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 20);
    const group = await securityGroup(ctx, tenantId, 'Sales');
    await importUsers(ctx, tenantId, 12, { memberOf: [group.id] });
    // The job message is never sent (a crash after the audit record), so this test runs the job itself.
    await expect(
      assignGroupLicenses(dyingAt(ctx, 'outbox:audited'), tenantId, group.id, {
        addLicenses: [{ skuId: e3, disabledPlans: [] }],
        removeLicenses: [],
      }),
    ).rejects.toBeInstanceOf(InjectedCrash);
    const jobId = (await readTenantPartition(ctx.tables, tenantId))?.groupLicenses.get(group.id)?.jobId ?? '';
    const pages = await planGroupJob(ctx, { kind: 'group-job', tenantId, groupId: group.id, jobId });
    const last = pages.at(-1);
    if (!last) throw new Error('no pages');
    for (const page of pages.slice(0, -1)) await processGroupPage(ctx, page, `page-${page.page}`);
    // The last page completes the job, and its process dies before relaying the Finish record.
    await expect(
      processGroupPage(dyingAt(ctx, 'outbox:committed'), last, 'last-page'),
    ).rejects.toBeInstanceOf(InjectedCrash);
    expect((await processingDetails(ctx, tenantId, group.id)).state).toBe('ProcessingComplete');
    expect(await ctx.outbox.read(tenantId, `finish.${jobId}`)).toBeDefined();

    await processGroupPage(ctx, last, 'last-page'); // redelivered
    expect(await ctx.outbox.read(tenantId, `finish.${jobId}`)).toBeUndefined();
    await restart(ctx, tenantId); // the assignment's own row: its job message is sent, late
    const finishes: string[] = [];
    for await (const record of auditRecords(ctx, tenantId)) {
      if (record.activityDisplayName.startsWith('Finish applying')) finishes.push(record.id);
    }
    expect(finishes).toHaveLength(1);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it.each<FaultPoint>(['seats:claimed', 'seats:written'])(
    'finishes a page whose process died at %s when the page is delivered again',
    async (point) => {
      const { ctx } = pipeline;
      // The job message is never sent (a crash after the audit record), so this test runs the job itself.
      const { tenantId, group, names, assigned } = await assignScenario(ctx, dyingAt(ctx, 'outbox:audited'));
      await expect(assigned).rejects.toBeInstanceOf(InjectedCrash);
      const jobId =
        (await readTenantPartition(ctx.tables, tenantId))?.groupLicenses.get(group.id)?.jobId ?? '';
      const pages = await planGroupJob(ctx, { kind: 'group-job', tenantId, groupId: group.id, jobId });
      const [first, ...rest] = pages;
      if (!first) throw new Error('no pages');
      await expect(processGroupPage(dyingAt(ctx, point), first, 'page-0')).rejects.toBeInstanceOf(
        InjectedCrash,
      );
      // Its seats are claimed and its reservation is open: the redelivery resumes it.
      expect((await tenantActivity(ctx, tenantId)).openReservations).toBe(1);

      await processGroupPage(ctx, first, 'page-0'); // redelivered
      for (const page of rest) await processGroupPage(ctx, page, `page-${page.page}`);
      expect((await processingDetails(ctx, tenantId, group.id)).state).toBe('ProcessingComplete');
      await restart(ctx, tenantId); // the assignment's own row: its job message is sent, late
      expect(await invariantViolations(ctx, tenantId)).toEqual([]);
      expect(await outcome(ctx, tenantId, names)).toEqual(await expected());
    },
  );

  it('without a crash, leaves no outbox row and writes its audit record once', async () => {
    const result = await expected();
    expect(result.pendingOutbox).toBe(0);
    expect(result.groups).toMatchObject({
      Sales: { state: 'ProcessingComplete', members: 12, succeeded: 12 },
    });
    expect(result.audit.filter((a) => a.startsWith('Set group license'))).toEqual([
      'Set group license: Sales',
    ]);
  });
});

async function devices(
  ctx: StorageContext,
  tenantId: string,
  groupId: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const device = await createDevice(ctx, tenantId, {
      displayName: `KIOSK-${i}`,
      accountEnabled: true,
      device: {
        deviceId: randomUUID(),
        operatingSystem: 'Windows',
        operatingSystemVersion: '10.0.19045',
        alternativeSecurityIds: [],
      },
    });
    await addMember(ctx, tenantId, groupId, device.id);
    ids.push(device.id);
  }
  return ids;
}

/** The groups that carry a SKU (rules.md §2: a device SKU is on exactly one group). */
async function carriers(ctx: StorageContext, tenantId: string, skuId: string): Promise<string[]> {
  const partition = await readTenantPartition(ctx.tables, tenantId);
  return [...(partition?.groupLicenses.values() ?? [])]
    .filter((g) => g.licenses.some((l) => l.skuId === skuId))
    .map((g) => g.groupId);
}

describe('moveLicense', () => {
  /** Lab (4 devices) carries a device SKU, processed; the SKU moves to Kiosks (3 devices). */
  async function moveScenario(ctx: StorageContext) {
    const tenantId = await newTenant(ctx);
    const sku = await buy(ctx, tenantId, 'OFFICE_PROPLUS_DEVICE1', 20);
    const lab = await securityGroup(ctx, tenantId, 'Lab');
    const kiosks = await securityGroup(ctx, tenantId, 'Kiosks');
    const labDevices = await devices(ctx, tenantId, lab.id, 4);
    const kioskDevices = await devices(ctx, tenantId, kiosks.id, 3);
    await assignGroupLicenses(ctx, tenantId, lab.id, {
      addLicenses: [{ skuId: sku, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    const names = new Map([
      [lab.id, 'Lab'],
      [kiosks.id, 'Kiosks'],
      ...labDevices.map((id, i) => [id, `lab${i}`] as const),
      ...kioskDevices.map((id, i) => [id, `kiosk${i}`] as const),
    ]);
    return { tenantId, sku, lab, kiosks, names };
  }

  const expected = baseline(async () => {
    const { ctx } = pipeline;
    const { tenantId, sku, lab, kiosks, names } = await moveScenario(ctx);
    await moveDeviceLicense(ctx, tenantId, lab.id, sku, kiosks.id);
    await waitIdle(ctx, tenantId);
    return outcome(ctx, tenantId, names);
  });

  it('without a crash, moves the SKU and its seats to the target in one step', async () => {
    const result = await expected();
    expect(result.groups).toMatchObject({
      Lab: { licenses: [], state: 'ProcessingComplete' },
      Kiosks: { state: 'ProcessingComplete', members: 3, succeeded: 3 },
    });
    expect(Object.values(result.consumed)).toEqual([3]);
    expect(result.audit.filter((a) => a.startsWith('Set group license')).sort()).toEqual([
      'Set group license: Kiosks',
      'Set group license: Lab',
      'Set group license: Lab',
    ]);
    expect(result.pendingOutbox).toBe(0);
  });

  it.each<FaultPoint>(['outbox:committed', 'outbox:audited', 'outbox:sent'])(
    'leaves the SKU on exactly one group and converges after a crash at %s',
    async (point) => {
      const { ctx } = pipeline;
      const { tenantId, sku, lab, kiosks, names } = await moveScenario(ctx);
      await expect(
        moveDeviceLicense(dyingAt(ctx, point), tenantId, lab.id, sku, kiosks.id),
      ).rejects.toBeInstanceOf(InjectedCrash);
      // Both license rows changed in the one commit: the SKU is on the target, never on neither or both.
      expect(await carriers(ctx, tenantId, sku)).toEqual([kiosks.id]);

      await restart(ctx, tenantId);
      expect(await carriers(ctx, tenantId, sku)).toEqual([kiosks.id]);
      expect(await invariantViolations(ctx, tenantId)).toEqual([]);
      expect(await outcome(ctx, tenantId, names)).toEqual(await expected());
    },
  );

  it('changes nothing when the target refuses the SKU', async () => {
    const { ctx } = pipeline;
    const { tenantId, sku, lab } = await moveScenario(ctx);
    const team = await createGroup(ctx, tenantId, {
      displayName: 'Team',
      mailNickname: 'team',
      securityEnabled: true,
      mailEnabled: true,
      groupTypes: ['Unified'],
    });
    await expect(moveDeviceLicense(ctx, tenantId, lab.id, sku, team.id)).rejects.toBeInstanceOf(
      LicensingRefusedError,
    );
    expect(await carriers(ctx, tenantId, sku)).toEqual([lab.id]);
    expect(await tenantActivity(ctx, tenantId)).toMatchObject({
      idle: true,
      groupsProcessing: 0,
      pendingOutbox: 0,
    });
  });
});

const MEMBER_CHANGE_POINTS: FaultPoint[] = [
  'outbox:committed',
  'changes:lists-joined',
  'changes:principals-written',
  'changes:lists-left',
  'outbox:sent',
];

describe('a member added through the API', () => {
  /** Sales carries E3 (10 seats) for 3 members; a fourth user joins it. */
  async function addScenario(ctx: StorageContext) {
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 10);
    const group = await securityGroup(ctx, tenantId, 'Sales');
    const users = await importUsers(ctx, tenantId, 3, { memberOf: [group.id] });
    const [newcomer = ''] = await importUsers(ctx, tenantId, 1);
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    const names = new Map([
      [group.id, 'Sales'],
      [newcomer, 'newcomer'],
      ...users.map((id, i) => [id, `user${i}`] as const),
    ]);
    return { tenantId, group, newcomer, names };
  }

  const expected = baseline(async () => {
    const { ctx } = pipeline;
    const { tenantId, group, newcomer, names } = await addScenario(ctx);
    await addMember(ctx, tenantId, group.id, newcomer);
    await waitIdle(ctx, tenantId);
    return outcome(ctx, tenantId, names);
  });

  it('without a crash, is a member with the group’s license and leaves no outbox row', async () => {
    const result = await expected();
    expect(result.principals.newcomer).toMatchObject({ memberOf: ['Sales'] });
    expect(result.groups).toMatchObject({ Sales: { members: 4, succeeded: 4 } });
    expect(result.pendingOutbox).toBe(0);
  });

  it.each(MEMBER_CHANGE_POINTS)('converges after a crash at %s', async (point) => {
    const { ctx } = pipeline;
    const { tenantId, group, newcomer, names } = await addScenario(ctx);
    await expect(addMember(dyingAt(ctx, point), tenantId, group.id, newcomer)).rejects.toBeInstanceOf(
      InjectedCrash,
    );
    expect((await tenantActivity(ctx, tenantId)).pendingOutbox).toBe(1);

    await restart(ctx, tenantId);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
    expect(await outcome(ctx, tenantId, names)).toEqual(await expected());
  });

  it('is not added back by the sweep when a later request removed it', async () => {
    const { ctx } = pipeline;
    const { tenantId, group, newcomer } = await addScenario(ctx);
    // The add dies with the group's list saying "member" and the member's row not; the member is then removed.
    await expect(
      addMember(dyingAt(ctx, 'changes:lists-joined'), tenantId, group.id, newcomer),
    ).rejects.toBeInstanceOf(InjectedCrash);
    await removeMember(ctx, tenantId, group.id, newcomer);

    await restart(ctx, tenantId);
    expect(await ctx.members.has(tenantId, group.id, newcomer)).toBe(false);
    expect((await readPrincipal(ctx.tables, tenantId, newcomer))?.memberOf).toEqual([]);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});

describe('membership notifications applied as one batch', () => {
  /**
   * Sales carries E3 (20 seats) for 2 members; three webhook messages join two newcomers each. The first runs
   * alone; the other two arrive while it runs and are applied as one batch under the second one's reservation.
   */
  async function batchScenario(ctx: StorageContext) {
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 20);
    const group = await securityGroup(ctx, tenantId, 'Sales');
    const users = await importUsers(ctx, tenantId, 2, { memberOf: [group.id] });
    const newcomers = await importUsers(ctx, tenantId, 6);
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    const joins = (from: number): ChangesMessage => ({
      kind: 'changes',
      tenantId,
      origin: 'webhook',
      changes: newcomers.slice(from, from + 2).map((memberId) => ({
        type: 'member' as const,
        op: 'add' as const,
        groupId: group.id,
        memberId,
      })),
    });
    const messages = [
      { id: randomUUID(), message: joins(0) },
      { id: randomUUID(), message: joins(2) },
      { id: randomUUID(), message: joins(4) },
    ];
    const names = new Map([
      [group.id, 'Sales'],
      ...users.map((id, i) => [id, `user${i}`] as const),
      ...newcomers.map((id, i) => [id, `newcomer${i}`] as const),
    ]);
    return { tenantId, messages, names };
  }

  /** The three messages handed to a process at once, as its queue listener does. */
  const deliver = (work: StorageContext, messages: readonly { id: string; message: ChangesMessage }[]) =>
    Promise.allSettled(messages.map(({ id, message }) => applyQueuedChanges(work, message, id, false)));

  const expected = baseline(async () => {
    const { ctx } = pipeline;
    const { tenantId, messages, names } = await batchScenario(ctx);
    for (const result of await deliver(ctx, messages)) expect(result.status).toBe('fulfilled');
    await waitIdle(ctx, tenantId);
    return outcome(ctx, tenantId, names);
  });

  it('without a crash, licenses every newcomer and leaves no reservation open', async () => {
    const result = await expected();
    expect(result.groups).toMatchObject({ Sales: { members: 8, succeeded: 8 } });
    expect(result.openReservations).toBe(0);
  });

  it.each<FaultPoint>(['seats:claimed', 'seats:written', 'changes:principals-written'])(
    'converges when the batch dies at %s and its messages are delivered again, the first of it last',
    async (point) => {
      const { ctx } = pipeline;
      const { tenantId, messages, names } = await batchScenario(ctx);
      // The lone first message passes the point once; the batch is the second to reach it.
      const results = await deliver(dyingAt(ctx, point, 2), messages);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);

      // Redelivered one by one, the batch's own first message last: it resumes the batch's reservation (its
      // chunks that did not land fenced, the seats they held given back) instead of leaving it to the sweep.
      const [, leader, other] = messages;
      if (!leader || !other) throw new Error('three messages expected');
      await applyQueuedChanges(ctx, other.message, other.id, true);
      await applyQueuedChanges(ctx, leader.message, leader.id, true);
      await waitIdle(ctx, tenantId);
      expect((await tenantActivity(ctx, tenantId)).openReservations).toBe(0);
      expect(await invariantViolations(ctx, tenantId)).toEqual([]);
      expect(await outcome(ctx, tenantId, names)).toEqual(await expected());
    },
  );
});

describe('a member removed through the API', () => {
  /**
   * Sales carries E3 with 3 seats for its 3 members; a fourth joins later and waits for a seat. The first member
   * leaves, and the one waiting takes its seat.
   */
  async function removeScenario(ctx: StorageContext) {
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 3);
    const group = await securityGroup(ctx, tenantId, 'Sales');
    const users = await importUsers(ctx, tenantId, 3, { memberOf: [group.id] });
    const [late = ''] = await importUsers(ctx, tenantId, 1);
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    await addMember(ctx, tenantId, group.id, late);
    await waitIdle(ctx, tenantId);
    const names = new Map([
      [group.id, 'Sales'],
      [late, 'late'],
      ...users.map((id, i) => [id, `user${i}`] as const),
    ]);
    return { tenantId, group, leaver: users[0] ?? '', names };
  }

  const expected = baseline(async () => {
    const { ctx } = pipeline;
    const { tenantId, group, leaver, names } = await removeScenario(ctx);
    await removeMember(ctx, tenantId, group.id, leaver);
    await waitIdle(ctx, tenantId);
    return outcome(ctx, tenantId, names);
  });

  it('without a crash, gives the leaver’s seat to the member waiting for it', async () => {
    const result = await expected();
    expect(result.principals.user0).toEqual({ memberOf: [], entries: [] });
    expect(result.principals.late).toMatchObject({ memberOf: ['Sales'] });
    expect(result.groups).toMatchObject({ Sales: { members: 3, succeeded: 3, failed: 0 } });
  });

  it.each(MEMBER_CHANGE_POINTS)('converges after a crash at %s', async (point) => {
    const { ctx } = pipeline;
    const { tenantId, group, leaver, names } = await removeScenario(ctx);
    await expect(removeMember(dyingAt(ctx, point), tenantId, group.id, leaver)).rejects.toBeInstanceOf(
      InjectedCrash,
    );

    await restart(ctx, tenantId);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
    expect(await outcome(ctx, tenantId, names)).toEqual(await expected());
  });
});

describe('an import', () => {
  /**
   * Sales carries E3 (20 seats) for 2 members; an import brings 4 new users into it (inline `memberOf`) and 2 users
   * who existed before (`member` lines). Its crash, if any, comes once the memberships are written.
   */
  async function importScenario(ctx: StorageContext, work: StorageContext) {
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 20);
    const group = await securityGroup(ctx, tenantId, 'Sales');
    const members = await importUsers(ctx, tenantId, 2, { memberOf: [group.id] });
    const earlier = await importUsers(ctx, tenantId, 2);
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    const newcomers = Array.from({ length: 4 }, () => randomUUID());
    async function* lines() {
      let line = 0;
      for (const [i, id] of newcomers.entries()) {
        yield {
          line: ++line,
          value: {
            type: 'user',
            id,
            userPrincipalName: `new${i}.${id.slice(0, 8)}@contoso.test`,
            displayName: `New ${i}`,
            usageLocation: 'US',
            memberOf: [group.id],
          },
        };
      }
      for (const id of earlier)
        yield { line: ++line, value: { type: 'member', groupId: group.id, memberId: id } };
    }
    const names = new Map([
      [group.id, 'Sales'],
      ...members.map((id, i) => [id, `member${i}`] as const),
      ...earlier.map((id, i) => [id, `earlier${i}`] as const),
      ...newcomers.map((id, i) => [id, `new${i}`] as const),
    ]);
    return { tenantId, names, imported: importDirectory(work, tenantId, lines()) };
  }

  const expected = baseline(async () => {
    const { ctx } = pipeline;
    const { tenantId, names, imported } = await importScenario(ctx, ctx);
    expect((await imported).errors).toEqual([]);
    await waitIdle(ctx, tenantId);
    return outcome(ctx, tenantId, names);
  });

  it('without a crash, licenses everyone it brought into the group and leaves no outbox row', async () => {
    const result = await expected();
    expect(result.groups).toMatchObject({ Sales: { members: 8, succeeded: 8, state: 'ProcessingComplete' } });
    expect(Object.values(result.consumed)).toEqual([8]);
    expect(result.pendingOutbox).toBe(0);
  });

  it.each<[FaultPoint, number]>([
    ['import:memberships-written', 1],
    ['outbox:committed', 1],
    ['outbox:audited', 1],
    ['outbox:sent', 1],
  ])('converges after a crash at %s', async (point, nth) => {
    const { ctx } = pipeline;
    const { tenantId, names, imported } = await importScenario(ctx, dyingAt(ctx, point, nth));
    await expect(imported).rejects.toBeInstanceOf(InjectedCrash);
    // The reprocess is owed (the import's row) or queued (its jobs' row, and the import's row emptied).
    expect((await tenantActivity(ctx, tenantId)).pendingOutbox).toBeGreaterThanOrEqual(1);

    await restart(ctx, tenantId, IMPORT_OUTBOX_LEASE_MS + 60_000);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
    expect(await outcome(ctx, tenantId, names)).toEqual(await expected());
  });

  it('reprocesses its groups once when two sweeps relay its row at the same time', async () => {
    const { ctx } = pipeline;
    const { tenantId, names, imported } = await importScenario(
      ctx,
      dyingAt(ctx, 'import:memberships-written'),
    );
    await expect(imported).rejects.toBeInstanceOf(InjectedCrash);

    const later = { ...ctx, now: () => new Date(Date.now() + IMPORT_OUTBOX_LEASE_MS + 60_000) };
    await Promise.all([sweep(later), sweep(later)]);
    await waitIdle(ctx, tenantId);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
    expect(await outcome(ctx, tenantId, names)).toEqual(await expected());
  });
});
