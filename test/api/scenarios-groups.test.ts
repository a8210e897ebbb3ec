// Acceptance scenarios S1, S2, S3 and S10 (scenarios.md) end to end through the HTTP surfaces: the operator API for
// tenants, purchases and bulk users, the official Graph client for everything else.
import { ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseAssignmentStateSchema } from '../../src/contract/graph.js';
import { exactly, items, obj, type Service, startService, str, type Tenant } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

/** `skuId/assignedByGroup/state/error` of each entry, sorted. */
async function entries(tenant: Tenant, userId: string): Promise<string[]> {
  return (await tenant.licenses(userId)).licenseAssignmentStates
    .map((s) => `${s.skuId}/${s.assignedByGroup}/${s.state}/${s.error}`)
    .sort();
}

async function processingState(tenant: Tenant, groupId: string): Promise<string> {
  const group = obj(await tenant.graph.api(`/groups/${groupId}`).select('licenseProcessingState').get());
  return str(obj(group.licenseProcessingState).state);
}

describe('S1 — HR Department', () => {
  it('licenses 1,000 members with E3 (Yammer off) and EMS in one request', async () => {
    const tenant = await service.newTenant({ country: 'US', buy: { ENTERPRISEPACK: 1000, EMS: 1000 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const ems = service.catalog.skuId('EMS');
    const yammer = service.catalog.planId('ENTERPRISEPACK', 'YAMMER_ENTERPRISE');
    const hr = await tenant.createGroup('HR Department');
    const users = await tenant.importUsers(1000, { memberOf: [hr] });

    const raw: unknown = await tenant.graph
      .api(`/groups/${hr}/assignLicense`)
      .responseType(ResponseType.RAW)
      .post({
        addLicenses: [
          { skuId: e3, disabledPlans: [yammer] },
          { skuId: ems, disabledPlans: [] },
        ],
        removeLicenses: [],
      });
    expect(raw instanceof Response && raw.status).toBe(202);
    const order = ['QueuedForProcessing', 'ProcessingInProgress', 'ProcessingComplete'];
    const seen: string[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const state = await processingState(tenant, hr);
      if (seen.at(-1) !== state) seen.push(state);
      if (state === 'ProcessingComplete') break;
    }
    // Only forward, ending complete.
    expect(seen.at(-1)).toBe('ProcessingComplete');
    expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort());
    await tenant.waitIdle();

    expect(await tenant.details(hr)).toMatchObject({
      state: 'ProcessingComplete',
      status: 'allLicensesAssigned',
      membersTotal: 1000,
      membersSucceeded: 1000,
      membersFailed: 0,
    });
    expect(await tenant.consumed(e3)).toBe(1000);
    expect(await tenant.consumed(ems)).toBe(1000);

    const everyone = await tenant.allUsers('licenseAssignmentStates,assignedLicenses,assignedPlans');
    expect(everyone.map((u) => u.id).sort()).toEqual([...users].sort());
    for (const user of everyone) {
      const states = licenseAssignmentStateSchema.array().parse(user.licenseAssignmentStates);
      expect(states.map((s) => [s.skuId, s.assignedByGroup, s.state, s.disabledPlans]).sort()).toEqual(
        [
          [e3, hr, 'Active', [yammer]],
          [ems, hr, 'Active', []],
        ].sort(),
      );
      const plans = Array.isArray(user.assignedPlans)
        ? user.assignedPlans.map((p) => obj(p).servicePlanId)
        : [];
      expect(plans).not.toContain(yammer);
    }
    const counted = obj(
      await tenant.graph
        .api('/users')
        .header('ConsistencyLevel', 'eventual')
        .count(true)
        .filter(`assignedLicenses/any(x:x/skuId eq ${e3})`)
        .top(1)
        .get(),
    );
    expect(counted['@odata.count']).toBe(1000);

    const audits = items(
      await tenant.graph
        .api('/auditLogs/directoryAudits')
        .filter("activityDisplayName eq 'Finish applying group based license to users'")
        .get(),
    );
    expect(audits).toHaveLength(1);
    expect(JSON.stringify(audits[0])).toContain(
      'Users successfully assigned licenses: 1000, Users for whom license assignment failed: 0.',
    );
    const starts = items(
      await tenant.graph
        .api('/auditLogs/directoryAudits')
        .filter("activityDisplayName eq 'Start applying group based license to users'")
        .get(),
    );
    expect(starts).toHaveLength(1);
    expect(str(starts[0]?.activityDateTime) <= str(audits[0]?.activityDateTime)).toBe(true);
    expect(await tenant.seatViolations()).toEqual([]);
  });
});

describe('S2 — conflicting service plans', () => {
  it('puts the 10 Kiosk members in MutuallyExclusiveViolation on all HR licenses and heals one that leaves Kiosk', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1000, EMS: 1000, STANDARDPACK: 100 } });
    const [e3, ems, e1] = exactly(
      ['ENTERPRISEPACK', 'EMS', 'STANDARDPACK'].map((p) => service.catalog.skuId(p)),
      3,
    );
    const hr = await tenant.createGroup('HR Department');
    const kiosk = await tenant.createGroup('Kiosk users');
    const users = await tenant.importUsers(1000, (i) => ({ memberOf: i < 10 ? [hr, kiosk] : [hr] }));
    const both = users.slice(0, 10);
    await tenant.graph
      .api(`/groups/${kiosk}/assignLicense`)
      .post({ addLicenses: [{ skuId: e1 }], removeLicenses: [] });
    await tenant.waitIdle();
    await tenant.graph.api(`/groups/${hr}/assignLicense`).post({
      addLicenses: [{ skuId: e3 }, { skuId: ems }],
      removeLicenses: [],
    });
    await tenant.waitIdle();

    expect(await tenant.details(hr)).toMatchObject({
      status: 'errorsAndIssues',
      membersSucceeded: 990,
      membersFailed: 10,
      errorsByType: { MutuallyExclusiveViolation: 10 },
    });
    const inError = items(await tenant.graph.api(`/groups/${hr}/membersWithLicenseErrors`).get());
    expect(inError.map((u) => u.id).sort()).toEqual([...both].sort());
    const flagged = items(
      await tenant.graph.api('/groups').filter('hasMembersWithLicenseErrors eq true').get(),
    );
    expect(flagged.map((g) => g.id)).toEqual([hr]);
    const [first] = exactly(both.slice(0, 1), 1);
    // All or nothing: both of HR's entries are in error, E1 from Kiosk stays.
    expect(await entries(tenant, first)).toEqual(
      [
        `${e1}/${kiosk}/Active/None`,
        `${e3}/${hr}/Error/MutuallyExclusiveViolation`,
        `${ems}/${hr}/Error/MutuallyExclusiveViolation`,
      ].sort(),
    );

    await tenant.graph.api(`/groups/${kiosk}/members/${first}/$ref`).delete();
    await tenant.waitIdle();
    expect(await entries(tenant, first)).toEqual(
      [`${e3}/${hr}/Active/None`, `${ems}/${hr}/Active/None`].sort(),
    );
    const still = items(await tenant.graph.api(`/groups/${hr}/membersWithLicenseErrors`).get());
    expect(still.map((u) => u.id).sort()).toEqual(both.slice(1).sort());
    expect(await tenant.consumed(e1)).toBe(9);
    expect(await tenant.consumed(e3)).toBe(991);
    expect(await tenant.seatViolations()).toEqual([]);
  });
});

describe('S3 — not enough licenses', () => {
  it('grants 100 of 120, then heals the waiters first come first served as seats are bought (automatic)', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 100 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Sales');
    const users = await tenant.importUsers(120, { memberOf: [group] });
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    expect(await tenant.consumed(e3)).toBe(100);
    expect((await tenant.subscribedSkus())[0]).toMatchObject({
      consumedUnits: 100,
      prepaidUnits: { enabled: 100 },
    });
    expect(await tenant.details(group)).toMatchObject({
      membersSucceeded: 100,
      membersFailed: 20,
      errorsByType: { CountViolation: 20 },
    });
    // Everyone's source reached them at the same moment (the assignment), so ties go by id: the 20 last wait.
    const byId = [...users].sort();
    const waiters = byId.slice(100);
    const waiting = items(await tenant.graph.api(`/groups/${group}/membersWithLicenseErrors`).get());
    expect(waiting.map((u) => str(u.id)).sort()).toEqual(waiters);

    await tenant.buy('ENTERPRISEPACK', 105);
    await tenant.waitIdle();
    expect(await tenant.consumed(e3)).toBe(105);
    const promoted: string[] = [];
    for (const id of waiters) if ((await entries(tenant, id))[0]?.endsWith('/Active/None')) promoted.push(id);
    expect(promoted).toEqual(waiters.slice(0, 5));

    await tenant.buy('ENTERPRISEPACK', 120);
    await tenant.waitIdle();
    expect(await tenant.consumed(e3)).toBe(120);
    expect(await tenant.details(group)).toMatchObject({
      status: 'allLicensesAssigned',
      membersSucceeded: 120,
      membersFailed: 0,
    });
    expect(await tenant.seatViolations()).toEqual([]);
  });

  it('with manual healing, changes nothing until a user or the group is reprocessed', async () => {
    const tenant = await service.newTenant({ healing: 'manual', buy: { ENTERPRISEPACK: 100 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Sales');
    const users = await tenant.importUsers(120, { memberOf: [group] });
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    await tenant.buy('ENTERPRISEPACK', 120);
    await tenant.waitIdle();
    expect(await tenant.consumed(e3)).toBe(100);
    expect((await tenant.details(group)).membersFailed).toBe(20);

    const [one] = exactly([...users].sort().slice(100, 101), 1);
    await tenant.graph.api(`/users/${one}/reprocessLicenseAssignment`).post({});
    expect(await entries(tenant, one)).toEqual([`${e3}/${group}/Active/None`]);
    expect(await tenant.consumed(e3)).toBe(101);

    await tenant.graph.api(`/groups/${group}/reprocessLicenseAssignment`).post({});
    await tenant.waitIdle();
    expect(await tenant.consumed(e3)).toBe(120);
    expect(await tenant.details(group)).toMatchObject({ status: 'allLicensesAssigned', membersFailed: 0 });
  });

  it('heals the waiters when another group’s assignment is removed', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 100 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const first = await tenant.createGroup('First');
    const second = await tenant.createGroup('Second');
    await tenant.importUsers(60, { memberOf: [first] });
    await tenant.importUsers(60, { memberOf: [second] });
    await tenant.graph
      .api(`/groups/${first}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    await tenant.graph
      .api(`/groups/${second}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    expect((await tenant.details(second)).membersFailed).toBe(20);

    await tenant.graph.api(`/groups/${first}/assignLicense`).post({ addLicenses: [], removeLicenses: [e3] });
    await tenant.waitIdle();
    expect(await tenant.details(second)).toMatchObject({ membersSucceeded: 60, membersFailed: 0 });
    expect(await tenant.consumed(e3)).toBe(60);
    expect(await tenant.seatViolations()).toEqual([]);
  });
});

describe('S10 — nested groups for users', () => {
  it('licenses only the direct user members of Sales, not those of the nested Sales EMEA', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 20 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const sales = await tenant.createGroup('Sales');
    const emea = await tenant.createGroup('Sales EMEA');
    const direct = await tenant.importUsers(3, { memberOf: [sales] });
    const nested = await tenant.importUsers(4, { memberOf: [emea] });
    await tenant.graph.api(`/groups/${sales}/members/$ref`).post(ref(emea));
    await tenant.graph
      .api(`/groups/${sales}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    for (const id of direct) expect(await entries(tenant, id)).toEqual([`${e3}/${sales}/Active/None`]);
    for (const id of nested) expect(await entries(tenant, id)).toEqual([]);
    expect(await tenant.consumed(e3)).toBe(3);
    // A user added to the nested group later is not licensed either; one added to Sales is.
    const [late, direct2] = exactly(await tenant.importUsers(2), 2);
    await tenant.graph.api(`/groups/${emea}/members/$ref`).post(ref(late));
    await tenant.graph.api(`/groups/${sales}/members/$ref`).post(ref(direct2));
    await tenant.waitIdle();
    expect(await entries(tenant, late)).toEqual([]);
    expect(await entries(tenant, direct2)).toEqual([`${e3}/${sales}/Active/None`]);
    expect(await tenant.seatViolations()).toEqual([]);
  });
});
