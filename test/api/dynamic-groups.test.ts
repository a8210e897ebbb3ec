// Dynamic groups through the official Graph client: a group whose members follow its membership rule, and licenses
// that follow the members — a department rule licensed with E3, a department change moving the license, a move
// between two licensed dynamic groups that never leaves the user without a seat, Paused freezing membership, the
// group's own what-if, a device rule licensing devices, and the 400s for what Graph refuses.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { evaluateDynamicMembershipResultSchema, groupSchema } from '../../src/contract/graph.js';
import { expectGraphError, obj, type Service, startService, type Tenant } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

const ruleState = groupSchema.pick({
  membershipRule: true,
  membershipRuleProcessingState: true,
  membershipRuleProcessingStatus: true,
  groupTypes: true,
});

async function ruleOf(tenant: Tenant, groupId: string) {
  return ruleState.parse(
    await tenant.graph
      .api(`/groups/${groupId}`)
      .select('groupTypes,membershipRule,membershipRuleProcessingState,membershipRuleProcessingStatus')
      .get(),
  );
}

function dynamicGroup(
  tenant: Tenant,
  name: string,
  membershipRule: string,
  extra: Record<string, unknown> = {},
) {
  return tenant.createGroup(name, {
    groupTypes: ['DynamicMembership'],
    membershipRule,
    membershipRuleProcessingState: 'On',
    ...extra,
  });
}

async function assign(tenant: Tenant, groupId: string, skuId: string): Promise<void> {
  await tenant.graph
    .api(`/groups/${groupId}/assignLicense`)
    .post({ addLicenses: [{ skuId }], removeLicenses: [] });
}

/** The SKUs a user holds, each with the group that gave it. */
async function heldBy(tenant: Tenant, userId: string): Promise<string[]> {
  const user = await tenant.licenses(userId);
  return user.licenseAssignmentStates
    .filter((s) => s.state === 'Active')
    .map((s) => `${s.skuId}@${s.assignedByGroup ?? 'direct'}`)
    .sort();
}

describe('dynamic groups', () => {
  it('licenses the users a department rule selects, and moves the license when a department changes', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 10 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const sales = [
      await tenant.createUser({ department: 'Sales' }),
      await tenant.createUser({ department: 'sales' }),
    ];
    const hr = await tenant.createUser({ department: 'HR' });
    const group = await dynamicGroup(tenant, 'Sales team', 'user.department -eq "Sales"');
    await assign(tenant, group, e3);
    await tenant.waitIdle();

    expect(await tenant.memberIds(group)).toEqual([...sales].sort());
    for (const id of sales) expect(await heldBy(tenant, id)).toEqual([`${e3}@${group}`]);
    expect(await heldBy(tenant, hr)).toEqual([]);
    const shown = await ruleOf(tenant, group);
    expect(shown).toMatchObject({
      groupTypes: ['DynamicMembership'],
      membershipRule: 'user.department -eq "Sales"',
      membershipRuleProcessingState: 'On',
      membershipRuleProcessingStatus: { status: 'Succeeded', errorMessage: null },
    });
    expect(shown.membershipRuleProcessingStatus?.lastMembershipUpdated).toEqual(expect.any(String));

    // HR moves to Sales and a seller leaves: each license follows in the request's own evaluation.
    await tenant.graph.api(`/users/${hr}`).patch({ department: 'Sales' });
    await tenant.graph.api(`/users/${sales[0]}`).patch({ department: 'Finance' });
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([sales[1], hr].sort());
    expect(await heldBy(tenant, hr)).toEqual([`${e3}@${group}`]);
    expect(await heldBy(tenant, sales[0] ?? '')).toEqual([]);
    expect(await tenant.consumed(e3)).toBe(2);

    // A new user who matches joins at creation.
    const hire = await tenant.createUser({ department: 'Sales' });
    await tenant.waitIdle();
    expect(await heldBy(tenant, hire)).toEqual([`${e3}@${group}`]);
    expect(await tenant.seatViolations()).toEqual([]);
  });

  it('keeps the seat of a user moving between two licensed dynamic groups, even with no seat to spare', async () => {
    // Exactly one seat per user: holding two at any moment of the move would leave someone in CountViolation.
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 2 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const mover = await tenant.createUser({ department: 'Sales' });
    const other = await tenant.createUser({ department: 'HR' });
    const salesGroup = await dynamicGroup(tenant, 'Sales', 'user.department -eq "Sales"');
    const hrGroup = await dynamicGroup(tenant, 'HR', 'user.department -eq "HR"');
    await assign(tenant, salesGroup, e3);
    await assign(tenant, hrGroup, e3);
    await tenant.waitIdle();
    expect(await heldBy(tenant, mover)).toEqual([`${e3}@${salesGroup}`]);

    await tenant.graph.api(`/users/${mover}`).patch({ department: 'HR' });
    // The PATCH returns once the user is in line with the rules: the seat moved from one source to the other.
    expect(await heldBy(tenant, mover)).toEqual([`${e3}@${hrGroup}`]);
    await tenant.waitIdle();
    const states = (await tenant.licenses(mover)).licenseAssignmentStates;
    expect(states.map((s) => s.error)).toEqual(['None']);
    expect(await heldBy(tenant, other)).toEqual([`${e3}@${hrGroup}`]);
    expect(await tenant.consumed(e3)).toBe(2);
    expect(await tenant.seatViolations()).toEqual([]);
  });

  it('changes members when the rule changes, freezes them while Paused, and catches up when turned On', async () => {
    const tenant = await service.newTenant();
    const de = await tenant.createUser({ usageLocation: 'DE' });
    const fr = await tenant.createUser({ usageLocation: 'FR' });
    const us = await tenant.createUser({ usageLocation: 'US' });
    const group = await dynamicGroup(tenant, 'Europe', 'user.usageLocation -in ["DE","FR"]');
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([de, fr].sort());

    await tenant.graph.api(`/groups/${group}`).patch({ membershipRule: 'user.usageLocation -eq "US"' });
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([us]);

    await tenant.graph.api(`/groups/${group}`).patch({ membershipRuleProcessingState: 'Paused' });
    await tenant.graph.api(`/users/${de}`).patch({ usageLocation: 'US' });
    await tenant.graph.api(`/users/${us}`).patch({ usageLocation: 'FR' });
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([us]);
    expect((await ruleOf(tenant, group)).membershipRuleProcessingState).toBe('Paused');

    await tenant.graph.api(`/groups/${group}`).patch({ membershipRuleProcessingState: 'On' });
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([de]);
    expect((await ruleOf(tenant, group)).membershipRuleProcessingStatus?.status).toBe('Succeeded');
  });

  it('keeps a soft-deleted member until its restore, then checks it against the rule as it is then', async () => {
    const tenant = await service.newTenant();
    const kept = await tenant.createUser({ jobTitle: 'Engineer' });
    const leaver = await tenant.createUser({ jobTitle: 'Engineer' });
    const group = await dynamicGroup(tenant, 'Engineers', 'user.jobTitle -startsWith "Eng"');
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([kept, leaver].sort());

    // Deleted, it is not listed; restored under a rule it still matches, it is back.
    await tenant.graph.api(`/users/${leaver}`).delete();
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([kept]);
    await tenant.graph.api(`/directory/deletedItems/${leaver}/restore`).post({});
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([kept, leaver].sort());

    // Deleted again, and the rule changes while it is gone: the restore checks it against the rule of now.
    await tenant.graph.api(`/users/${leaver}`).delete();
    await tenant.graph
      .api(`/groups/${group}`)
      .patch({ membershipRule: `user.jobTitle -eq "Engineer" -and user.objectId -ne "${leaver}"` });
    await tenant.waitIdle();
    await tenant.graph.api(`/directory/deletedItems/${leaver}/restore`).post({});
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([kept]);
  });

  it('explains a non-match under the group’s own rule', async () => {
    const tenant = await service.newTenant();
    const user = await tenant.createUser({ department: 'HR', jobTitle: 'Recruiter' });
    const group = await dynamicGroup(
      tenant,
      'Sales leads',
      'user.department -eq "Sales" -or user.jobTitle -eq "Lead"',
    );
    const answer = evaluateDynamicMembershipResultSchema.parse(
      await tenant.graph.api(`/groups/${group}/evaluateDynamicMembership`).post({ memberId: user }),
    );
    expect(answer.membershipRuleEvaluationResult).toBe(false);
    expect(answer.membershipRule).toBe('user.department -eq "Sales" -or user.jobTitle -eq "Lead"');
    expect(
      answer.membershipRuleEvaluationDetails.expressionEvaluationDetails.map((d) => [
        d.expression,
        d.expressionResult,
        d.propertyToEvaluate?.propertyValue,
      ]),
    ).toEqual([
      ['user.department -eq "Sales"', false, 'HR'],
      ['user.jobTitle -eq "Lead"', false, 'Recruiter'],
    ]);
    const staticGroup = await tenant.createGroup('Static');
    await expectGraphError(
      tenant.graph.api(`/groups/${staticGroup}/evaluateDynamicMembership`).post({ memberId: user }),
      400,
      'Request_BadRequest',
      /has 'DynamicMembership' in groupTypes but no membershipRule|no membershipRule/,
    );
  });

  it('refuses what Graph refuses, and a refused request changes nothing', async () => {
    const tenant = await service.newTenant();
    const user = await tenant.createUser({ department: 'Sales' });
    await expectGraphError(
      dynamicGroup(tenant, 'Broken', 'user.department -eq'),
      400,
      'Request_BadRequest',
      /^Invalid membership rule at position 19: expected a quoted value/,
    );
    await expectGraphError(
      tenant.createGroup('Rule but static', { membershipRule: 'user.department -eq "Sales"' }),
      400,
      'Request_BadRequest',
      /need groupTypes to contain 'DynamicMembership'/,
    );
    await expectGraphError(
      tenant.createGroup('No rule', { groupTypes: ['DynamicMembership'] }),
      400,
      'Request_BadRequest',
      /no membershipRule/,
    );
    await expectGraphError(
      dynamicGroup(tenant, 'With members', 'user.department -eq "Sales"', {
        'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${user}`],
      }),
      400,
      'Request_BadRequest',
      /decided by its membership rule/,
    );
    const listed = z.object({ value: z.array(z.object({ displayName: z.string() })) });
    expect(listed.parse(await tenant.graph.api('/groups').get()).value).toEqual([]);

    const group = await dynamicGroup(tenant, 'Sales', 'user.department -eq "Sales"');
    await tenant.waitIdle();
    const hr = await tenant.createUser({ department: 'HR' });
    await expectGraphError(
      tenant.graph
        .api(`/groups/${group}/members/$ref`)
        .post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${hr}` }),
      400,
      'Request_BadRequest',
      /cannot be added or removed by hand/,
    );
    await expectGraphError(
      tenant.graph.api(`/groups/${group}/members/${user}/$ref`).delete(),
      400,
      'Request_BadRequest',
      /cannot be added or removed by hand/,
    );
    await expectGraphError(
      tenant.graph.api(`/groups/${group}`).patch({ membershipRule: 'user.department -startsWith' }),
      400,
      'Request_BadRequest',
      /^Invalid membership rule at position/,
    );
    expect((await ruleOf(tenant, group)).membershipRule).toBe('user.department -eq "Sales"');
    expect(await tenant.memberIds(group)).toEqual([user]);

    // Made static, the group keeps its members, now managed by hand.
    await tenant.graph.api(`/groups/${group}`).patch({ groupTypes: [], membershipRule: null });
    expect(await ruleOf(tenant, group)).toMatchObject({
      groupTypes: [],
      membershipRule: null,
      membershipRuleProcessingState: null,
    });
    await tenant.graph
      .api(`/groups/${group}/members/$ref`)
      .post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${hr}` });
    expect(await tenant.memberIds(group)).toEqual([user, hr].sort());
  });

  it('ignores membership notifications for a dynamic group: its rule decides', async () => {
    const tenant = await service.newTenant();
    const seller = await tenant.createUser({ department: 'Sales' });
    const outsider = await tenant.createUser({ department: 'HR' });
    const group = await dynamicGroup(tenant, 'Sales', 'user.department -eq "Sales"');
    await tenant.waitIdle();
    const notification = {
      subscriptionId: 'b9f0f6f0-7c53-4c07-8c2d-4a3c1f1f5e0a',
      clientState: tenant.clientState,
      changeType: 'updated',
      resource: `Groups/${group}`,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Group',
        '@odata.id': `Groups/${group}`,
        id: group,
        organizationId: tenant.id,
        'members@delta': [{ id: outsider }, { id: seller, '@removed': 'deleted' }],
      },
      subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
      tenantId: tenant.id,
    };
    const answer = await service.http('POST', '/api/webhooks/graph', { body: { value: [notification] } });
    expect(answer.status, answer.text).toBe(202);
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([seller]);
  });

  it('licenses the devices a device rule selects', async () => {
    const tenant = await service.newTenant({ buy: { OFFICE_PROPLUS_DEVICE1: 10 } });
    const apps = service.catalog.skuId('OFFICE_PROPLUS_DEVICE1');
    const device = async (operatingSystem: string) =>
      obj(
        await tenant.graph.api('/devices').post({
          accountEnabled: true,
          alternativeSecurityIds: [{ type: 2, identityProvider: null, key: 'Y3YxN2E1MWFlYw==' }],
          deviceId: randomUUID(),
          displayName: `PC-${randomUUID().slice(0, 6)}`,
          operatingSystem,
          operatingSystemVersion: '10.0.22631',
        }),
      );
    const windows = [String((await device('Windows')).id), String((await device('Windows')).id)];
    const mac = String((await device('MacMDM')).id);
    const group = await dynamicGroup(tenant, 'Windows PCs', 'device.deviceOSType -eq "Windows"');
    await assign(tenant, group, apps);
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([...windows].sort());
    const states = async (id: string) =>
      z
        .object({ licenseAssignmentStates: z.array(z.object({ skuId: z.string(), state: z.string() })) })
        .parse(await tenant.graph.api(`/devices/${id}`).select('licenseAssignmentStates').get())
        .licenseAssignmentStates.map((s) => `${s.skuId}/${s.state}`);
    for (const id of windows) expect(await states(id)).toEqual([`${apps}/Active`]);
    expect(await states(mac)).toEqual([]);
    expect(await tenant.consumed(apps)).toBe(2);
    // A device created later that matches joins and is licensed.
    const later = String((await device('Windows')).id);
    await tenant.waitIdle();
    expect(await states(later)).toEqual([`${apps}/Active`]);
  });
});
