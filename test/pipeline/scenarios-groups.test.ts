import { describe, expect, it } from 'vitest';
import type { StorageContext } from '../../src/application/context.js';
import { addMember, removeMember } from '../../src/application/directory.js';
import {
  assignGroupLicenses,
  processingDetails,
  reprocessGroup,
} from '../../src/application/group-licensing.js';
import { reprocessUser } from '../../src/application/user-licensing.js';
import { principalsInErrorFrom, readGroupsWithErrors, readWaiters } from '../../src/storage/bookkeeping.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import {
  buy,
  consumedUnits,
  importUsers,
  invariantViolations,
  newTenant,
  securityGroup,
  usePipeline,
  waitIdle,
} from './support.js';

const pipeline = usePipeline();

async function states(ctx: StorageContext, tenantId: string, userId: string) {
  const record = await readPrincipal(ctx.tables, tenantId, userId);
  return (record?.entries ?? []).map(
    (e) => `${e.skuId.slice(0, 8)}@${e.assignedByGroup?.slice(0, 4) ?? 'direct'}:${e.state}/${e.error}`,
  );
}

describe('S2 — conflicting service plans (seed 004)', () => {
  it('puts the 10 Kiosk members in MutuallyExclusiveViolation on all HR licenses, and heals one that leaves Kiosk', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 1000);
    const ems = await buy(ctx, tenantId, 'EMS', 1000);
    const e1 = await buy(ctx, tenantId, 'STANDARDPACK', 100);
    const hr = await securityGroup(ctx, tenantId, 'HR Department');
    const kiosk = await securityGroup(ctx, tenantId, 'Kiosk users');
    const users = await importUsers(ctx, tenantId, 1000, (i) => ({
      memberOf: i < 10 ? [hr.id, kiosk.id] : [hr.id],
    }));
    await assignGroupLicenses(ctx, tenantId, kiosk.id, {
      addLicenses: [{ skuId: e1, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    await assignGroupLicenses(ctx, tenantId, hr.id, {
      addLicenses: [
        { skuId: e3, disabledPlans: [] },
        { skuId: ems, disabledPlans: [] },
      ],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);

    const details = await processingDetails(ctx, tenantId, hr.id);
    expect(details).toMatchObject({
      status: 'errorsAndIssues',
      membersSucceeded: 990,
      membersFailed: 10,
      errorsByType: { MutuallyExclusiveViolation: 10 },
    });
    const inError: string[] = [];
    for await (const id of principalsInErrorFrom(ctx.tables, tenantId, hr.id)) inError.push(id);
    expect(inError.sort()).toEqual(users.slice(0, 10).sort());
    expect([...(await readGroupsWithErrors(ctx.tables, tenantId, [hr.id, kiosk.id]))]).toEqual([hr.id]);
    const first = users[0] ?? '';
    expect(
      (await readPrincipal(ctx.tables, tenantId, first))?.entries
        .filter((e) => e.assignedByGroup === hr.id)
        .map((e) => e.error),
    ).toEqual(['MutuallyExclusiveViolation', 'MutuallyExclusiveViolation']);

    await removeMember(ctx, tenantId, kiosk.id, first);
    await waitIdle(ctx, tenantId);
    const healed = await readPrincipal(ctx.tables, tenantId, first);
    expect(healed?.entries.map((e) => [e.skuId, e.assignedByGroup, e.state])).toEqual(
      [
        [e3, hr.id, 'Active'],
        [ems, hr.id, 'Active'],
      ].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
    const stillInError: string[] = [];
    for await (const id of principalsInErrorFrom(ctx.tables, tenantId, hr.id)) stillInError.push(id);
    expect(stillInError.sort()).toEqual(users.slice(1, 10).sort());
    expect(await consumedUnits(ctx, tenantId, e1)).toBe(9);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(991);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});

describe('S3 — not enough licenses (seed 001)', () => {
  it('grants 100 of 120 and heals the 20 waiters in order when 20 more are bought (automatic)', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 100);
    const group = await securityGroup(ctx, tenantId, 'Sales');
    await importUsers(ctx, tenantId, 120, { memberOf: [group.id] });
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(100);
    expect(await processingDetails(ctx, tenantId, group.id)).toMatchObject({
      membersSucceeded: 100,
      membersFailed: 20,
      errorsByType: { CountViolation: 20 },
    });
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);

    const waiters = (await readWaiters(ctx.tables, tenantId, e3)).map((w) => w.principalId);
    expect(waiters).toHaveLength(20);

    await buy(ctx, tenantId, 'ENTERPRISEPACK', 105);
    await waitIdle(ctx, tenantId);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(105);
    const promoted = [];
    for (const id of waiters)
      if ((await states(ctx, tenantId, id))[0]?.endsWith('Active/None')) promoted.push(id);
    expect(promoted).toEqual(waiters.slice(0, 5));

    await buy(ctx, tenantId, 'ENTERPRISEPACK', 120);
    await waitIdle(ctx, tenantId);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(120);
    expect(await processingDetails(ctx, tenantId, group.id)).toMatchObject({
      status: 'allLicensesAssigned',
      membersSucceeded: 120,
      membersFailed: 0,
    });
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('with manual healing, changes nothing until a user or the group is reprocessed', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx, { healing: 'manual' });
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 100);
    const group = await securityGroup(ctx, tenantId, 'Sales');
    const users = await importUsers(ctx, tenantId, 120, { memberOf: [group.id] });
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    await buy(ctx, tenantId, 'ENTERPRISEPACK', 120);
    await waitIdle(ctx, tenantId);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(100);

    const waiting: string[] = [];
    for await (const id of principalsInErrorFrom(ctx.tables, tenantId, group.id)) waiting.push(id);
    expect(waiting).toHaveLength(20);
    const one = waiting[0] ?? '';
    const reprocessed = await reprocessUser(ctx, tenantId, one);
    expect(reprocessed.entries[0]?.state).toBe('Active');
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(101);

    await reprocessGroup(ctx, tenantId, group.id);
    await waitIdle(ctx, tenantId);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(120);
    expect(users).toHaveLength(120);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('heals waiters when another group’s assignment is removed and frees seats', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 30);
    const first = await securityGroup(ctx, tenantId, 'First');
    const second = await securityGroup(ctx, tenantId, 'Second');
    await importUsers(ctx, tenantId, 30, { memberOf: [first.id] });
    await importUsers(ctx, tenantId, 10, { memberOf: [second.id] });
    await assignGroupLicenses(ctx, tenantId, first.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    await assignGroupLicenses(ctx, tenantId, second.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    expect(await processingDetails(ctx, tenantId, second.id)).toMatchObject({ membersFailed: 10 });

    await assignGroupLicenses(ctx, tenantId, first.id, { addLicenses: [], removeLicenses: [e3] });
    await waitIdle(ctx, tenantId);
    expect(await processingDetails(ctx, tenantId, second.id)).toMatchObject({
      status: 'allLicensesAssigned',
      membersSucceeded: 10,
    });
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(10);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});

describe('S10 — nested groups for users (seed 001)', () => {
  it('licenses only the direct user members of Sales, not those of the nested Sales EMEA', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 100);
    const sales = await securityGroup(ctx, tenantId, 'Sales');
    const emea = await securityGroup(ctx, tenantId, 'Sales EMEA');
    const direct = await importUsers(ctx, tenantId, 5, { memberOf: [sales.id] });
    const nested = await importUsers(ctx, tenantId, 5, { memberOf: [emea.id] });
    await addMember(ctx, tenantId, sales.id, emea.id);
    await waitIdle(ctx, tenantId);
    await assignGroupLicenses(ctx, tenantId, sales.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    for (const id of direct)
      expect(await states(ctx, tenantId, id)).toEqual([
        `${e3.slice(0, 8)}@${sales.id.slice(0, 4)}:Active/None`,
      ]);
    for (const id of nested) expect(await states(ctx, tenantId, id)).toEqual([]);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(5);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});
