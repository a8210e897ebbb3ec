import { describe, expect, it } from 'vitest';
import { licensingFailureText } from '../../src/api/wording.js';
import type { StorageContext } from '../../src/application/context.js';
import { addMember, createUser, removeMember, updateUser } from '../../src/application/directory.js';
import { LicensingRefusedError } from '../../src/application/errors.js';
import { assignGroupLicenses } from '../../src/application/group-licensing.js';
import {
  assignUserLicenses,
  hardDeleteUser,
  restoreUser,
  softDeleteUser,
} from '../../src/application/user-licensing.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import {
  buy,
  consumedUnits,
  importUsers,
  invariantViolations,
  newTenant,
  planId,
  securityGroup,
  usePipeline,
  waitIdle,
} from './support.js';

const pipeline = usePipeline();

async function entries(ctx: StorageContext, tenantId: string, userId: string) {
  const record = await readPrincipal(ctx.tables, tenantId, userId);
  return (record?.entries ?? []).map((e) => ({
    sku: e.skuId,
    group: e.assignedByGroup,
    state: e.state,
    error: e.error,
  }));
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof LicensingRefusedError) return licensingFailureText(error.failure);
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('S4 — usage location (seeds 001, 002, 003)', () => {
  it('inherits the tenant location for group licenses, refuses a prohibited country, and heals after the user moves', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx, { country: 'GB' });
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 10);
    const group = await securityGroup(ctx, tenantId, 'Staff');
    const [nowhere, iran] = await importUsers(ctx, tenantId, 2, (i) => ({
      usageLocation: i === 0 ? null : 'IR',
      memberOf: [group.id],
    }));
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    expect(await entries(ctx, tenantId, nowhere ?? '')).toEqual([
      { sku: e3, group: group.id, state: 'Active', error: 'None' },
    ]);
    expect((await readPrincipal(ctx.tables, tenantId, nowhere ?? ''))?.usageLocation).toBeNull();
    expect(await entries(ctx, tenantId, iran ?? '')).toEqual([
      { sku: e3, group: group.id, state: 'Error', error: 'ProhibitedInUsageLocationViolation' },
    ]);
    await updateUser(ctx, tenantId, iran ?? '', { usageLocation: 'US' });
    expect(await entries(ctx, tenantId, iran ?? '')).toEqual([
      { sku: e3, group: group.id, state: 'Active', error: 'None' },
    ]);
    expect(
      await refusal(
        assignUserLicenses(ctx, tenantId, nowhere ?? '', {
          addLicenses: [{ skuId: e3, disabledPlans: [] }],
          removeLicenses: [],
        }),
      ),
    ).toBe('License assignment cannot be done for user with invalid usage location.');
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});

describe('S5 — dependencies (seed 002)', () => {
  it('refuses Audio Conferencing alone on a group and holds E5 in DependencyViolation when its user leaves', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const audio = await buy(ctx, tenantId, 'MCOMEETADV', 10);
    const e5 = await buy(ctx, tenantId, 'ENTERPRISEPREMIUM', 10);
    const lonely = await securityGroup(ctx, tenantId, 'Audio');
    const mcoMeetAdv = planId(ctx, 'MCOMEETADV', 'MCOMEETADV');
    const mcoStandard = planId(ctx, 'ENTERPRISEPREMIUM', 'MCOSTANDARD');
    expect(
      await refusal(
        assignGroupLicenses(ctx, tenantId, lonely.id, {
          addLicenses: [{ skuId: audio, disabledPlans: [] }],
          removeLicenses: [],
        }),
      ),
    ).toBe(
      `License assignment failed because service plan ${mcoMeetAdv} depends on the service plan(s) ${mcoStandard}.`,
    );
    const e5Users = await securityGroup(ctx, tenantId, 'E5 users');
    await assignGroupLicenses(ctx, tenantId, e5Users.id, {
      addLicenses: [{ skuId: e5, disabledPlans: [] }],
      removeLicenses: [],
    });
    const [user] = await importUsers(ctx, tenantId, 1);
    await addMember(ctx, tenantId, e5Users.id, user ?? '');
    await waitIdle(ctx, tenantId);
    await assignUserLicenses(ctx, tenantId, user ?? '', {
      addLicenses: [{ skuId: audio, disabledPlans: [] }],
      removeLicenses: [],
    });
    await removeMember(ctx, tenantId, e5Users.id, user ?? '');
    await waitIdle(ctx, tenantId);
    expect(await entries(ctx, tenantId, user ?? '')).toEqual([
      { sku: audio, group: null, state: 'Active', error: 'None' },
      { sku: e5, group: e5Users.id, state: 'Error', error: 'DependencyViolation' },
    ]);
    expect(await consumedUnits(ctx, tenantId, e5)).toBe(1);
    await assignUserLicenses(ctx, tenantId, user ?? '', { addLicenses: [], removeLicenses: [audio] });
    expect(await entries(ctx, tenantId, user ?? '')).toEqual([]);
    expect(await consumedUnits(ctx, tenantId, e5)).toBe(0);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});

/** Two users listing the same address in a licensed mail group: one holds the mailbox, the other is refused. */
async function sharedAddressPair(ctx: StorageContext) {
  const tenantId = await newTenant(ctx);
  const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 10);
  const group = await securityGroup(ctx, tenantId, 'Mail users');
  const alex = await createUser(ctx, tenantId, {
    userPrincipalName: 'alex@contoso.test',
    displayName: 'Alex',
    mailNickname: 'alex',
    accountEnabled: true,
    usageLocation: 'US',
    proxyAddresses: ['smtp:alex@contoso.com'],
  });
  const alexia = await createUser(ctx, tenantId, {
    userPrincipalName: 'alexia@contoso.test',
    displayName: 'Alexia',
    mailNickname: 'alexia',
    accountEnabled: true,
    usageLocation: 'US',
    proxyAddresses: ['SMTP:Alex@contoso.com'],
  });
  await addMember(ctx, tenantId, group.id, alex.id);
  await waitIdle(ctx, tenantId);
  await addMember(ctx, tenantId, group.id, alexia.id);
  await waitIdle(ctx, tenantId);
  await assignGroupLicenses(ctx, tenantId, group.id, {
    addLicenses: [{ skuId: e3, disabledPlans: [] }],
    removeLicenses: [],
  });
  await waitIdle(ctx, tenantId);
  const states = [await entries(ctx, tenantId, alex.id), await entries(ctx, tenantId, alexia.id)]
    .map((e) => e[0]?.error)
    .sort();
  expect(states).toEqual(['None', 'UniquenessViolation']);
  const alexLost = (await entries(ctx, tenantId, alex.id))[0]?.error === 'UniquenessViolation';
  return { tenantId, e3, group, loser: alexLost ? alex : alexia, winner: alexLost ? alexia : alex };
}

describe('S6 — duplicate proxy address (seed 001)', () => {
  it('gives the second user UniquenessViolation and licenses it once its address changes', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3, group, loser } = await sharedAddressPair(ctx);
    await updateUser(ctx, tenantId, loser.id, { proxyAddresses: ['smtp:someone.else@contoso.com'] });
    await waitIdle(ctx, tenantId);
    expect(await entries(ctx, tenantId, loser.id)).toEqual([
      { sku: e3, group: group.id, state: 'Active', error: 'None' },
    ]);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('licenses the refused user once the mailbox holding the address goes (automatic healing)', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3, group, loser, winner } = await sharedAddressPair(ctx);
    await removeMember(ctx, tenantId, group.id, winner.id);
    await waitIdle(ctx, tenantId);
    expect(await entries(ctx, tenantId, winner.id)).toEqual([]);
    expect(await entries(ctx, tenantId, loser.id)).toEqual([
      { sku: e3, group: group.id, state: 'Active', error: 'None' },
    ]);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});

describe('S8 — soft delete, restore, hard delete (seed 003)', () => {
  it('suspends and releases seats, restores them, and frees them for good on hard delete', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 1);
    const ems = await buy(ctx, tenantId, 'EMS', 1);
    const group = await securityGroup(ctx, tenantId, 'Mobility');
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: ems, disabledPlans: [] }],
      removeLicenses: [],
    });
    const [user] = await importUsers(ctx, tenantId, 1, { memberOf: [group.id] });
    const id = user ?? '';
    await assignUserLicenses(ctx, tenantId, id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    const active = await entries(ctx, tenantId, id);
    expect(active.map((e) => e.state)).toEqual(['Active', 'Active']);

    await softDeleteUser(ctx, tenantId, id);
    const deleted = await readPrincipal(ctx.tables, tenantId, id);
    expect(deleted?.entries.map((e) => e.state)).toEqual(['Disabled', 'Disabled']);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(0);
    expect(await consumedUnits(ctx, tenantId, ems)).toBe(0);

    await restoreUser(ctx, tenantId, id);
    expect(await entries(ctx, tenantId, id)).toEqual(active);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(1);

    await softDeleteUser(ctx, tenantId, id);
    await hardDeleteUser(ctx, tenantId, id);
    expect(await readPrincipal(ctx.tables, tenantId, id)).toBeUndefined();
    const [next] = await importUsers(ctx, tenantId, 1);
    await assignUserLicenses(ctx, tenantId, next ?? '', {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(1);
    await waitIdle(ctx, tenantId);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('does the same through queued lifecycle changes (as the webhook sends them)', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5);
    const [id = ''] = await importUsers(ctx, tenantId, 1);
    await assignUserLicenses(ctx, tenantId, id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    const send = (op: 'softDelete' | 'restore' | 'hardDelete') =>
      ctx.queues.send('changes', {
        kind: 'changes',
        tenantId,
        origin: 'webhook',
        changes: [{ type: 'user', op, userId: id }],
      });
    await send('softDelete');
    await waitIdle(ctx, tenantId);
    expect((await readPrincipal(ctx.tables, tenantId, id))?.entries.map((e) => e.state)).toEqual([
      'Disabled',
    ]);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(0);
    await send('restore');
    await waitIdle(ctx, tenantId);
    expect(await entries(ctx, tenantId, id)).toEqual([
      { sku: e3, group: null, state: 'Active', error: 'None' },
    ]);
    await send('softDelete');
    await send('hardDelete');
    await waitIdle(ctx, tenantId);
    expect(await readPrincipal(ctx.tables, tenantId, id)).toBeUndefined();
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(0);
  });
});

describe('S9 — direct and inherited together (seed 003)', () => {
  it('counts one seat for two sources, keeps the group source when the direct one goes, and refuses removing the inherited one', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5);
    const group = await securityGroup(ctx, tenantId, 'Everyone');
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    const [id = ''] = await importUsers(ctx, tenantId, 1, { memberOf: [group.id] });
    await waitIdle(ctx, tenantId);
    await assignUserLicenses(ctx, tenantId, id, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    expect(await entries(ctx, tenantId, id)).toHaveLength(2);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(1);
    await assignUserLicenses(ctx, tenantId, id, { addLicenses: [], removeLicenses: [e3] });
    expect(await entries(ctx, tenantId, id)).toEqual([
      { sku: e3, group: group.id, state: 'Active', error: 'None' },
    ]);
    expect(
      await refusal(assignUserLicenses(ctx, tenantId, id, { addLicenses: [], removeLicenses: [e3] })),
    ).toBe(
      'User license is inherited from a group membership and it cannot be removed directly from the user.',
    );
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(1);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});
