// The subscription lifecycle through the real host and Azurite: the operator API sets the end date, the sweep (run
// here with a clock moved forward) advances the stages, and Graph shows them — subscribedSkus' capabilityStatus and
// prepaidUnits, the licenseSummary extension, holders' assignedPlans — until LockedOut removes the licenses (audited)
// and a renewal brings them back.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createContext, type StorageContext } from '../../src/application/context.js';
import { sweep } from '../../src/application/sweep.js';
import { licenseSummarySchema } from '../../src/contract/graph.js';
import { uniqueName } from '../support/index.js';
import { expectGraphError, obj, type Service, startService, str } from './support.js';

let service: Service;
let ctx: StorageContext;
beforeAll(async () => {
  const prefix = uniqueName('api');
  service = await startService({}, { prefix });
  ctx = createContext({ storage: inject('storageConnectionString'), storagePrefix: prefix });
  await ctx.ready;
});
afterAll(async () => {
  await service?.stop();
});

const END = '2027-01-01T00:00:00.000Z';
const later = (days: number) => ({ ...ctx, now: () => new Date(Date.parse(END) + days * 86_400_000) });

describe('a subscription through its lifecycle', () => {
  it('shows every stage in Graph, removes licenses at LockedOut and gives them back on renewal', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 2 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Sales');
    const users = await tenant.importUsers(3, { memberOf: [group] });
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();

    const put = await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      nextLifecycleDate: END,
    });
    expect(put.status).toBe(200);
    expect(obj(put.json).lifecycle).toMatchObject({ state: 'Active', nextLifecycleDate: END });
    const refused = await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      state: 'Expired',
    });
    expect(refused.status).toBe(400);
    expect(str(obj(obj(refused.json).error).code)).toBeTruthy();

    const sku = async () => {
      const value = (await tenant.subscribedSkus()).find((s) => s.skuId === e3);
      return { status: value?.capabilityStatus, units: value?.prepaidUnits, consumed: value?.consumedUnits };
    };
    const summary = async () =>
      licenseSummarySchema.parse(
        await tenant.graph.api(`/subscribedSkus/${tenant.id}_${e3}/licenseSummary`).get(),
      );
    const planStatuses = async (user: string) => {
      const answer = obj(await tenant.graph.api(`/users/${user}?$select=assignedPlans`).get());
      return [
        ...new Set((answer.assignedPlans as { capabilityStatus: string }[]).map((p) => p.capabilityStatus)),
      ];
    };
    // Two seats for three members: one waits, whoever it is (ties go by id).
    let holder = '';
    for (const user of users) {
      const held = (await tenant.licenses(user)).licenseAssignmentStates.some((s) => s.state === 'Active');
      if (held) holder = user;
    }

    expect(await sku()).toEqual({
      status: 'Enabled',
      units: { enabled: 2, warning: 0, suspended: 0, lockedOut: 0 },
      consumed: 2,
    });

    expect((await sweep(later(0))).subscriptionsAdvanced).toBe(1);
    expect(await sku()).toEqual({
      status: 'Warning',
      units: { enabled: 0, warning: 2, suspended: 0, lockedOut: 0 },
      consumed: 2,
    });
    expect(await summary()).toMatchObject({ total: 2, assigned: 2, available: 0, expiringSoon: 2 });
    expect(await planStatuses(holder)).toEqual(['Enabled']);

    expect((await sweep(later(30))).subscriptionsAdvanced).toBe(1);
    expect(await sku()).toEqual({
      status: 'Suspended',
      units: { enabled: 0, warning: 0, suspended: 2, lockedOut: 0 },
      consumed: 2,
    });
    expect(await planStatuses(holder)).toEqual(['Suspended']);

    expect((await sweep(later(120))).subscriptionsAdvanced).toBe(1);
    await tenant.waitIdle();
    expect(await sku()).toEqual({
      status: 'LockedOut',
      units: { enabled: 0, warning: 0, suspended: 0, lockedOut: 2 },
      consumed: 0,
    });
    expect(await planStatuses(holder)).toEqual([]);
    const states = (await tenant.licenses(holder)).licenseAssignmentStates;
    expect(states.map((s) => [s.state, s.error])).toEqual([['Error', 'Other']]);
    const audits = obj(
      await tenant.graph
        .api(`/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Update subscription'`)
        .get(),
    ).value as { targetResources: { modifiedProperties: { newValue: string }[] }[] }[];
    expect(
      audits.map((a) => JSON.parse(a.targetResources[0]?.modifiedProperties[0]?.newValue ?? '')),
    ).toEqual(
      // The oldest is the purchase itself (units bought through the operator API are recorded too).
      ['LockedOut', 'Suspended', 'Warning', 'Active', 'Active'],
    );

    // Renewal with a third unit: everyone is licensed again.
    const renewed = await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/${e3}`, {
      nextLifecycleDate: '2028-01-01T00:00:00Z',
      prepaidUnits: { enabled: 3 },
    });
    expect(renewed.status).toBe(200);
    await tenant.waitIdle();
    expect(await sku()).toEqual({
      status: 'Enabled',
      units: { enabled: 3, warning: 0, suspended: 0, lockedOut: 0 },
      consumed: 3,
    });
    expect(await summary()).toMatchObject({ total: 3, assigned: 3, available: 0, expiringSoon: 0 });
    expect(await planStatuses(holder)).toEqual(['Enabled']);
    await expectGraphError(
      tenant.graph.api(`/subscribedSkus/${service.catalog.skuId('EMS')}/licenseSummary`).get(),
      404,
      'Request_ResourceNotFound',
    );
    expect(service.unexpectedErrors()).toEqual([]);
  });
});
