// api.md's licensing messages, word for word (real clients match on them), on user and group assignLicense — each
// refused request followed by a read proving nothing changed — and the subscribedSkus shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGraphError, type Service, startService, type Tenant } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

const RANDOM_SKU = '3b555118-da6a-4418-894f-7df1e2096870';

/** What a refused request must leave untouched: the user's licenses, the group's, and the seat counters. */
async function snapshot(tenant: Tenant, userId: string, groupId?: string) {
  const user = await tenant.licenses(userId);
  const group: unknown = groupId
    ? await tenant.graph.api(`/groups/${groupId}`).select('assignedLicenses,licenseProcessingState').get()
    : undefined;
  const skus = (await tenant.subscribedSkus()).map((s) => [s.skuId, s.consumedUnits]);
  return { user, group, skus };
}

async function expectRefused(
  tenant: Tenant,
  path: string,
  body: unknown,
  message: string | RegExp,
  watched: { userId: string; groupId?: string },
): Promise<void> {
  const before = await snapshot(tenant, watched.userId, watched.groupId);
  await expectGraphError(tenant.graph.api(path).post(body), 400, 'Request_BadRequest', message);
  // Refusals are synchronous: nothing may have been queued either.
  await tenant.waitIdle(10_000, 200);
  expect(await snapshot(tenant, watched.userId, watched.groupId)).toEqual(before);
}

describe('assignLicense messages', () => {
  let tenant: Tenant;
  let user: string;
  let group: string;
  let e3: string;
  let ems: string;
  beforeAll(async () => {
    tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 5, EMS: 5 } });
    e3 = service.catalog.skuId('ENTERPRISEPACK');
    ems = service.catalog.skuId('EMS');
    user = await tenant.createUser();
    group = await tenant.createGroup('Messages');
    await tenant.graph
      .api(`/users/${user}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
  });

  it('names the missing parameter: removeLicenses, addLicenses, or both', async () => {
    const missing = (names: string) =>
      `One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: ${names}.`;
    for (const path of [`/users/${user}/assignLicense`, `/groups/${group}/assignLicense`]) {
      const watched = { userId: user, groupId: group };
      await expectRefused(tenant, path, { addLicenses: [{ skuId: e3 }] }, missing('removeLicenses'), watched);
      await expectRefused(tenant, path, { removeLicenses: [ems] }, missing('addLicenses'), watched);
      await expectRefused(tenant, path, {}, missing('addLicenses, removeLicenses'), watched);
    }
  });

  it('refuses a SKU the tenant did not buy, an unknown one, and one that is not a GUID', async () => {
    const bad = [RANDOM_SKU, service.catalog.skuId('STANDARDPACK'), 'ENTERPRISEPACK', 'not-a-guid', ''];
    for (const skuId of bad) {
      const message = `License ${skuId} does not correspond to a valid company License.`;
      const watched = { userId: user, groupId: group };
      await expectRefused(
        tenant,
        `/users/${user}/assignLicense`,
        { addLicenses: [{ skuId }], removeLicenses: [] },
        message,
        watched,
      );
      await expectRefused(
        tenant,
        `/users/${user}/assignLicense`,
        { addLicenses: [], removeLicenses: [skuId] },
        message,
        watched,
      );
      await expectRefused(
        tenant,
        `/groups/${group}/assignLicense`,
        { addLicenses: [{ skuId }], removeLicenses: [] },
        message,
        watched,
      );
    }
    // A device license is not a user's.
    await tenant.buy('OFFICE_PROPLUS_DEVICE1', 1);
    const device = service.catalog.skuId('OFFICE_PROPLUS_DEVICE1');
    await expectRefused(
      tenant,
      `/users/${user}/assignLicense`,
      { addLicenses: [{ skuId: device }], removeLicenses: [] },
      `License ${device} does not correspond to a valid company License.`,
      { userId: user },
    );
  });

  it('refuses a disabled plan that is not in the SKU (user and group)', async () => {
    const foreignPlan = service.catalog.planId('EMS', 'INTUNE_A');
    for (const path of [`/users/${user}/assignLicense`, `/groups/${group}/assignLicense`]) {
      for (const plan of [foreignPlan, 'YAMMER_ENTERPRISE']) {
        await expectRefused(
          tenant,
          path,
          { addLicenses: [{ skuId: e3, disabledPlans: [plan] }], removeLicenses: [] },
          `The disabled plan ${plan} is not a valid service plan for license ${e3}.`,
          { userId: user, groupId: group },
        );
      }
    }
  });

  it('refuses a direct license without a seat left', async () => {
    const scarce = await service.newTenant({ buy: { EMS: 1 } });
    const first = await scarce.createUser();
    const second = await scarce.createUser();
    await scarce.graph
      .api(`/users/${first}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    await expectRefused(
      scarce,
      `/users/${second}/assignLicense`,
      { addLicenses: [{ skuId: ems }], removeLicenses: [] },
      `Subscription ${ems} does not have any available licenses.`,
      { userId: second },
    );
    expect(await scarce.consumed(ems)).toBe(1);
  });

  it('gives the last seat to exactly one of many concurrent direct requests', async () => {
    const race = await service.newTenant({ buy: { EMS: 1 } });
    const users = await race.importUsers(6);
    const outcomes = await Promise.allSettled(
      users.map((id) =>
        race.graph
          .api(`/users/${id}/assignLicense`)
          .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        await expectGraphError(
          Promise.reject(outcome.reason),
          400,
          'Request_BadRequest',
          `Subscription ${ems} does not have any available licenses.`,
        );
      }
    }
    await race.waitIdle();
    expect(await race.consumed(ems)).toBe(1);
    expect(await race.seatViolations()).toEqual([]);
  });

  it('refuses a direct license for a user without usage location (groups are fine)', async () => {
    const nowhere = await tenant.createUser({ usageLocation: null });
    await expectRefused(
      tenant,
      `/users/${nowhere}/assignLicense`,
      { addLicenses: [{ skuId: e3 }], removeLicenses: [] },
      'License assignment cannot be done for user with invalid usage location.',
      { userId: nowhere },
    );
  });

  it('refuses removing a group-inherited license directly', async () => {
    const inheritor = await service.newTenant({ buy: { ENTERPRISEPACK: 2 } });
    const sales = await inheritor.createGroup('Sales');
    const [member] = await inheritor.importUsers(1, { memberOf: [sales] });
    await inheritor.graph
      .api(`/groups/${sales}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await inheritor.waitIdle();
    await expectRefused(
      inheritor,
      `/users/${member}/assignLicense`,
      { addLicenses: [], removeLicenses: [e3] },
      'User license is inherited from a group membership and it cannot be removed directly from the user.',
      { userId: String(member), groupId: sales },
    );
  });

  it('refuses mutually exclusive plans in a direct assignment', async () => {
    const exclusive = await service.newTenant({ buy: { EXCHANGESTANDARD: 2, EXCHANGEENTERPRISE: 2 } });
    const standard = service.catalog.skuId('EXCHANGESTANDARD');
    const enterprise = service.catalog.skuId('EXCHANGEENTERPRISE');
    const a = service.catalog.planId('EXCHANGESTANDARD', 'EXCHANGE_S_STANDARD');
    const b = service.catalog.planId('EXCHANGEENTERPRISE', 'EXCHANGE_S_ENTERPRISE');
    const pair = (x: string, y: string) =>
      `License assignment failed because service plans ${x}, ${y} are mutually exclusive.`;
    const words = new RegExp(`^(${escapeRegExp(pair(a, b))}|${escapeRegExp(pair(b, a))})$`);
    const mailbox = await exclusive.createUser();
    await exclusive.graph
      .api(`/users/${mailbox}/assignLicense`)
      .post({ addLicenses: [{ skuId: standard }], removeLicenses: [] });
    await expectRefused(
      exclusive,
      `/users/${mailbox}/assignLicense`,
      { addLicenses: [{ skuId: enterprise }], removeLicenses: [] },
      words,
      { userId: mailbox },
    );
    // Both in one request, on a user with nothing.
    const fresh = await exclusive.createUser();
    await expectRefused(
      exclusive,
      `/users/${fresh}/assignLicense`,
      { addLicenses: [{ skuId: standard }, { skuId: enterprise }], removeLicenses: [] },
      words,
      { userId: fresh },
    );
    // Disabling the conflicting plan removes the conflict.
    await exclusive.graph.api(`/users/${mailbox}/assignLicense`).post({
      addLicenses: [{ skuId: enterprise, disabledPlans: [b] }],
      removeLicenses: [],
    });
    expect((await exclusive.licenses(mailbox)).assignedLicenses).toHaveLength(2);
  });

  it('refuses a plan without its prerequisite, for groups and direct assignments', async () => {
    const dependent = await service.newTenant({ buy: { MCOMEETADV: 2, ENTERPRISEPACK: 2 } });
    const audio = service.catalog.skuId('MCOMEETADV');
    const meetPlan = service.catalog.planId('MCOMEETADV', 'MCOMEETADV');
    const phonePlan = service.catalog.planId('ENTERPRISEPACK', 'MCOSTANDARD');
    const message = `License assignment failed because service plan ${meetPlan} depends on the service plan(s) ${phonePlan}.`;
    const conferencing = await dependent.createGroup('Conferencing');
    const person = await dependent.createUser();
    await expectRefused(
      dependent,
      `/groups/${conferencing}/assignLicense`,
      { addLicenses: [{ skuId: audio }], removeLicenses: [] },
      message,
      { userId: person, groupId: conferencing },
    );
    await expectRefused(
      dependent,
      `/users/${person}/assignLicense`,
      { addLicenses: [{ skuId: audio }], removeLicenses: [] },
      message,
      { userId: person },
    );
    // E3 with its MCOSTANDARD disabled does not satisfy it either.
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    await expectRefused(
      dependent,
      `/groups/${conferencing}/assignLicense`,
      { addLicenses: [{ skuId: audio }, { skuId: e3, disabledPlans: [phonePlan] }], removeLicenses: [] },
      message,
      { userId: person, groupId: conferencing },
    );
    // With the prerequisite in the same request, both are accepted.
    await dependent.graph.api(`/users/${person}/assignLicense`).post({
      addLicenses: [{ skuId: audio }, { skuId: e3 }],
      removeLicenses: [],
    });
    expect((await dependent.licenses(person)).assignedLicenses.map((l) => l.skuId).sort()).toEqual(
      [audio, e3].sort(),
    );
    // And the prerequisite cannot then be removed from under it.
    await expectRefused(
      dependent,
      `/users/${person}/assignLicense`,
      { addLicenses: [], removeLicenses: [e3] },
      message,
      { userId: person },
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('subscribedSkus', () => {
  it('lists what the tenant bought in Graph’s shape, with consumed and prepaid units and service plans', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 25, OFFICE_PROPLUS_DEVICE1: 5 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/EMS`, {
      prepaidUnits: { enabled: 10, warning: 2, suspended: 3, lockedOut: 1 },
    });
    const user = await tenant.createUser();
    await tenant.graph
      .api(`/users/${user}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });

    const raw: unknown = await tenant.graph.api('/subscribedSkus').get();
    expect(raw).toMatchObject({ '@odata.context': `${service.graphRoot}/$metadata#subscribedSkus` });
    const skus = await tenant.subscribedSkus();
    expect(skus.map((s) => s.skuPartNumber).sort()).toEqual([
      'EMS',
      'ENTERPRISEPACK',
      'OFFICE_PROPLUS_DEVICE1',
    ]);
    const sku = skus.find((s) => s.skuId === e3);
    expect(sku).toMatchObject({
      id: `${tenant.id}_${e3}`,
      skuId: e3,
      skuPartNumber: 'ENTERPRISEPACK',
      appliesTo: 'User',
      capabilityStatus: 'Enabled',
      consumedUnits: 1,
      prepaidUnits: { enabled: 25, suspended: 0, warning: 0, lockedOut: 0 },
    });
    expect(sku?.servicePlans.map((p) => p.servicePlanId)).toEqual(service.catalog.planIds('ENTERPRISEPACK'));
    expect(sku?.servicePlans.find((p) => p.servicePlanName === 'YAMMER_ENTERPRISE')).toEqual({
      servicePlanId: service.catalog.planId('ENTERPRISEPACK', 'YAMMER_ENTERPRISE'),
      servicePlanName: 'YAMMER_ENTERPRISE',
      provisioningStatus: 'Success',
      appliesTo: 'User',
    });
    expect(skus.find((s) => s.skuPartNumber === 'EMS')).toMatchObject({
      consumedUnits: 0,
      prepaidUnits: { enabled: 10, warning: 2, suspended: 3, lockedOut: 1 },
    });
    // Another tenant sees only its own.
    const other = await service.newTenant();
    expect(await other.subscribedSkus()).toEqual([]);
  });
});
