// Graph beta's cloudLicensing views served on v1.0 (extensions): allotments, their waiting members — in exactly the
// order automatic healing grants seats —, a user's usage rights and assignment errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  allotmentSchema,
  assignmentErrorSchema,
  collectionSchema,
  usageRightSchema,
  waitingMemberCollectionSchema,
} from '../../src/contract/graph.js';
import {
  expectGraphError,
  expectRawError,
  graphClient,
  obj,
  type Service,
  startService,
  str,
  type Tenant,
} from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

const withContext = { '@odata.context': z.string() };
const allotmentList = collectionSchema(allotmentSchema);
const oneAllotment = allotmentSchema.extend(withContext);
const waitingPage = (answer: unknown) => waitingMemberCollectionSchema.parse(answer);
const usageRights = collectionSchema(usageRightSchema);
const assignmentErrors = collectionSchema(assignmentErrorSchema);

const ALLOTMENTS = '/admin/cloudLicensing/allotments';

const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

async function licenseGroup(tenant: Tenant, group: string, skuId: string): Promise<void> {
  await tenant.graph
    .api(`/groups/${group}/assignLicense`)
    .post({ addLicenses: [{ skuId, disabledPlans: [] }], removeLicenses: [] });
}

/** Every waiting member of an allotment, following `@odata.nextLink` page by page. */
async function allWaiting(tenant: Tenant, id: string, top?: number) {
  const request = tenant.graph.api(`${ALLOTMENTS}/${id}/waitingMembers`);
  let page = waitingPage(await (top === undefined ? request : request.top(top)).get());
  const members = [...page.value];
  for (let guard = 0; page['@odata.nextLink'] !== undefined && guard < 50; guard++) {
    page = waitingPage(await tenant.graph.api(str(page['@odata.nextLink'])).get());
    members.push(...page.value);
  }
  return members;
}

async function e3State(tenant: Tenant, user: string, e3: string) {
  return (await tenant.licenses(user)).licenseAssignmentStates.filter((s) => s.skuId === e3);
}

describe('admin/cloudLicensing/allotments', () => {
  it('lists one allotment per subscribed SKU, seats and plans as subscribedSkus has them', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 3, OFFICE_PROPLUS_DEVICE1: 2 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const apps = service.catalog.skuId('OFFICE_PROPLUS_DEVICE1');
    // Seats in warning still count (allottedUnits = enabled + warning).
    const bought = await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      prepaidUnits: { enabled: 3, warning: 2, suspended: 4 },
    });
    expect(bought.status, bought.text).toBe(200);
    const group = await tenant.createGroup('Licensed');
    await tenant.importUsers(2, { memberOf: [group] });
    await licenseGroup(tenant, group, e3);
    await tenant.waitIdle();

    const answer = allotmentList.parse(await tenant.graph.api(ALLOTMENTS).get());
    expect(answer['@odata.context']).toBe(`${service.graphRoot}/$metadata#admin/cloudLicensing/allotments`);
    expect(answer.value.map((a) => a.skuId).sort()).toEqual([e3, apps].sort());
    const skus = await tenant.subscribedSkus();
    const today = new Date().toISOString().slice(0, 10);
    for (const allotment of answer.value) {
      const sku = skus.find((s) => s.skuId === allotment.skuId);
      expect(allotment.id).toBe(sku?.id);
      expect(allotment.id).toBe(`${tenant.id}_${allotment.skuId}`);
      expect(allotment.consumedUnits).toBe(sku?.consumedUnits);
      expect(allotment.allottedUnits).toBe(
        (sku?.prepaidUnits.enabled ?? 0) + (sku?.prepaidUnits.warning ?? 0),
      );
      expect(allotment.skuPartNumber).toBe(sku?.skuPartNumber);
      expect(allotment.services.map((s) => [s.planId, s.planName])).toEqual(
        (sku?.servicePlans ?? []).map((p) => [p.servicePlanId, p.servicePlanName]),
      );
      expect(allotment.subscriptions).toHaveLength(1);
      expect(allotment.subscriptions[0]).toMatchObject({
        startDate: today,
        nextLifecycleDate: null,
        state: 'active',
      });
      expect(allotment.subscriptions[0]?.subscriptionId).toMatch(/^[0-9a-f-]{36}$/);
    }
    const e3Allotment = answer.value.find((a) => a.skuId === e3);
    expect(e3Allotment).toMatchObject({ allottedUnits: 5, consumedUnits: 2, assignableTo: 'user' });
    expect(new Set(e3Allotment?.services.map((s) => s.assignableTo))).toEqual(new Set(['user']));
    expect(answer.value.find((a) => a.skuId === apps)).toMatchObject({
      allottedUnits: 2,
      consumedUnits: 0,
      assignableTo: 'device',
    });

    // One allotment by either form of its id; the subscription id is stable.
    const byId = oneAllotment.parse(await tenant.graph.api(`${ALLOTMENTS}/${e3Allotment?.id}`).get());
    expect(byId['@odata.context']).toBe(
      `${service.graphRoot}/$metadata#admin/cloudLicensing/allotments/$entity`,
    );
    const { '@odata.context': _context, ...fields } = byId;
    expect(fields).toEqual(e3Allotment);
    expect(oneAllotment.parse(await tenant.graph.api(`${ALLOTMENTS}/${e3}`).get()).id).toBe(byId.id);

    // A suspended subscription (no seats that can be held) is a suspended allotment.
    await tenant.buy('OFFICE_PROPLUS_DEVICE1', 0);
    const lapsed = oneAllotment.parse(await tenant.graph.api(`${ALLOTMENTS}/${apps}`).get());
    expect(lapsed).toMatchObject({ allottedUnits: 0 });
    expect(lapsed.subscriptions[0]?.state).toBe('suspended');
  });

  it('answers 404 for a SKU the tenant lacks, another tenant’s allotment or no SKU; refuses $filter', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1 } });
    const other = await service.newTenant({ buy: { ENTERPRISEPACK: 1 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const ems = service.catalog.skuId('EMS');
    for (const id of [
      ems,
      `${other.id}_${e3}`,
      `${tenant.id}_${ems}`,
      '00000000-0000-0000-0000-000000000000',
      'E3',
    ]) {
      await expectGraphError(tenant.graph.api(`${ALLOTMENTS}/${id}`).get(), 404, 'Request_ResourceNotFound');
      await expectGraphError(
        tenant.graph.api(`${ALLOTMENTS}/${id}/waitingMembers`).get(),
        404,
        'Request_ResourceNotFound',
      );
    }
    expectRawError(
      await service.graphRaw('GET', `${ALLOTMENTS}?$filter=${encodeURIComponent(`skuId eq ${e3}`)}`, {
        token: tenant.token,
      }),
      400,
      'Request_UnsupportedQuery',
    );
  });

  it('needs an organization read permission; waiting members also the right to read who waits', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const as = async (roles: readonly string[], path: string) =>
      graphClient(service, await tenant.tokenWith(roles))
        .api(path)
        .get();
    for (const roles of [['User.Read.All'], ['Group.Read.All'], []]) {
      await expectGraphError(as(roles, ALLOTMENTS), 403, 'Authorization_RequestDenied');
      await expectGraphError(as(roles, `${ALLOTMENTS}/${e3}`), 403, 'Authorization_RequestDenied');
    }
    for (const roles of [
      ['Organization.Read.All'],
      ['LicenseAssignment.ReadWrite.All'],
      ['Directory.Read.All'],
    ]) {
      expect(allotmentList.parse(await as(roles, ALLOTMENTS)).value).toHaveLength(1);
    }
    await expectGraphError(
      as(['Organization.Read.All'], `${ALLOTMENTS}/${e3}/waitingMembers`),
      403,
      'Authorization_RequestDenied',
    );
    for (const roles of [['Organization.Read.All', 'User.Read.All'], ['Directory.Read.All']]) {
      expect(waitingPage(await as(roles, `${ALLOTMENTS}/${e3}/waitingMembers`))['@odata.count']).toBe(0);
    }
  });
});

describe('admin/cloudLicensing/allotments/{id}/waitingMembers', () => {
  it('is the waiting room of waitingPrincipals, Graph-shaped, paged with $top and $skiptoken', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 2 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Everyone');
    const users = await tenant.importUsers(7, { memberOf: [group] });
    await licenseGroup(tenant, group, e3);
    await tenant.waitIdle();

    const id = `${tenant.id}_${e3}`;
    const first = waitingPage(await tenant.graph.api(`${ALLOTMENTS}/${id}/waitingMembers`).get());
    expect(first['@odata.context']).toBe(
      `${service.graphRoot}/$metadata#admin/cloudLicensing/allotments('${id}')/waitingMembers`,
    );
    expect(first['@odata.count']).toBe(5);
    expect(first['@odata.nextLink']).toBeUndefined();
    for (const member of first.value) {
      expect(member.assignedTo).toEqual({ '@odata.type': '#microsoft.graph.user', id: member.id });
      expect(users).toContain(member.id);
    }
    const principals = z
      .object({ value: z.array(z.object({ id: z.string(), waitingSince: z.string() })) })
      .parse(await tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).get()).value;
    expect(first.value.map((m) => [m.id, m.waitingSinceDateTime])).toEqual(
      principals.map((p) => [p.id, p.waitingSince]),
    );

    // Pages of two, the count on every page, the same order.
    let page = waitingPage(await tenant.graph.api(`${ALLOTMENTS}/${e3}/waitingMembers`).top(2).get());
    const seen: string[] = [];
    for (let guard = 0; guard < 10; guard++) {
      expect(page['@odata.count']).toBe(5);
      expect(page.value.length).toBeLessThanOrEqual(2);
      seen.push(...page.value.map((m) => m.id));
      const next = page['@odata.nextLink'];
      if (next === undefined) break;
      expect(next).toContain('$skiptoken=');
      page = waitingPage(await tenant.graph.api(next).get());
    }
    expect(seen).toEqual(first.value.map((m) => m.id));

    // $select as on other lists; a bad $top and another query's skip token are refused.
    const selected = obj(
      await tenant.graph
        .api(`${ALLOTMENTS}/${id}/waitingMembers`)
        .select('waitingSinceDateTime')
        .top(1)
        .get(),
    );
    expect(selected.value).toEqual([
      { id: first.value[0]?.id, waitingSinceDateTime: first.value[0]?.waitingSinceDateTime },
    ]);
    await expectGraphError(
      tenant.graph.api(`${ALLOTMENTS}/${id}/waitingMembers`).top(1000).get(),
      400,
      'Request_BadRequest',
    );
    const link = obj(await tenant.graph.api('/users').top(1).get())['@odata.nextLink'];
    const token = new URL(str(link), 'http://x').searchParams.get('$skiptoken');
    expectRawError(
      await service.graphRaw('GET', `${ALLOTMENTS}/${id}/waitingMembers?$skiptoken=${token}`, {
        token: tenant.token,
      }),
      400,
      'Request_BadRequest',
    );
  });

  it('lists waiting devices for a device SKU, typed as devices', async () => {
    const tenant = await service.newTenant({ buy: { OFFICE_PROPLUS_DEVICE1: 1 } });
    const apps = service.catalog.skuId('OFFICE_PROPLUS_DEVICE1');
    const lab = await tenant.createGroup('Lab');
    await tenant.importLines(
      ['lab-a', 'lab-b', 'lab-c'].map((displayName) => ({ type: 'device', displayName, memberOf: [lab] })),
    );
    await licenseGroup(tenant, lab, apps);
    await tenant.waitIdle();
    const members = await allWaiting(tenant, apps);
    expect(members).toHaveLength(2);
    for (const member of members) {
      expect(member.assignedTo).toEqual({ '@odata.type': '#microsoft.graph.device', id: member.id });
    }
  });

  it('is the order healing grants seats in: freed one at a time, each seat goes to the head of the list', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const everyone = await tenant.createGroup('Everyone');
    const [holder] = await tenant.importUsers(1, { memberOf: [everyone] });
    await licenseGroup(tenant, everyone, e3);
    await tenant.waitIdle();
    expect(await tenant.consumed(e3)).toBe(1);

    // Waiters at distinct times: two added one by one, three together (one group job: their waits may tie, the
    // tie broken by id), then one more.
    const [a, b, f] = await tenant.importUsers(3);
    for (const user of [a, b]) {
      await tenant.graph.api(`/groups/${everyone}/members/$ref`).post(ref(str(user)));
      await tenant.waitIdle();
    }
    const team = await tenant.createGroup('Team');
    const together = await tenant.importUsers(3, { memberOf: [team] });
    await licenseGroup(tenant, team, e3);
    await tenant.waitIdle();
    await tenant.graph.api(`/groups/${everyone}/members/$ref`).post(ref(str(f)));
    await tenant.waitIdle();

    let queue = await allWaiting(tenant, e3, 2);
    expect(queue).toHaveLength(6);
    expect(new Set(queue.map((m) => m.id))).toEqual(new Set([a, b, f, ...together]));
    // First come first served, ties by id.
    const keys = queue.map((m) => `${m.waitingSinceDateTime}|${m.id}`);
    expect(keys).toEqual([...keys].sort());
    expect(queue.slice(0, 2).map((m) => m.id)).toEqual([a, b]);
    expect(queue[5]?.id).toBe(f);
    // The three of one group job began waiting at the same instant: the tie is broken by id, and healing follows it.
    const tied = queue.slice(2, 5);
    expect(new Set(tied.map((m) => m.waitingSinceDateTime)).size).toBe(1);
    expect(tied.map((m) => m.id)).toEqual([...together].sort());

    for (let seats = 2; queue.length > 0; seats++) {
      const head = str(queue[0]?.id);
      await tenant.buy('ENTERPRISEPACK', seats);
      await tenant.waitIdle();
      expect(await e3State(tenant, head, e3)).toEqual([
        expect.objectContaining({ state: 'Active', error: 'None' }),
      ]);
      const after = await allWaiting(tenant, e3);
      expect(after.map((m) => m.id)).toEqual(queue.slice(1).map((m) => m.id));
      for (const waiter of after) {
        expect(await e3State(tenant, waiter.id, e3)).toEqual([
          expect.objectContaining({ state: 'Error', error: 'CountViolation' }),
        ]);
      }
      queue = after;
    }
    expect(await tenant.consumed(e3)).toBe(7);
    expect(await e3State(tenant, str(holder), e3)).toEqual([
      expect.objectContaining({ state: 'Active', error: 'None' }),
    ]);
  });
});

describe('users/{id}/cloudLicensing', () => {
  it('usageRights: one per effective SKU, its enabled plans, the same ids as licenseDetails', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 2, EMS: 2 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const ems = service.catalog.skuId('EMS');
    const yammer = service.catalog.planId('ENTERPRISEPACK', 'YAMMER_ENTERPRISE');
    const group = await tenant.createGroup('Licensed');
    const [user] = await tenant.importUsers(1, { memberOf: [group] });
    await tenant.graph.api(`/groups/${group}/assignLicense`).post({
      addLicenses: [
        { skuId: e3, disabledPlans: [yammer] },
        { skuId: ems, disabledPlans: [] },
      ],
      removeLicenses: [],
    });
    await tenant.waitIdle();

    const answer = usageRights.parse(
      await tenant.graph.api(`/users/${user}/cloudLicensing/usageRights`).get(),
    );
    expect(answer['@odata.context']).toBe(
      `${service.graphRoot}/$metadata#users('${user}')/cloudLicensing/usageRights`,
    );
    const details = z
      .object({ value: z.array(z.object({ id: z.string(), skuId: z.string(), skuPartNumber: z.string() })) })
      .parse(await tenant.graph.api(`/users/${user}/licenseDetails`).get()).value;
    expect(answer.value.map((r) => [r.id, r.skuId, r.skuPartNumber])).toEqual(
      details.map((d) => [d.id, d.skuId, d.skuPartNumber]),
    );
    const e3Right = answer.value.find((r) => r.skuId === e3);
    expect(e3Right?.services.map((s) => s.planId).sort()).toEqual(
      service.catalog
        .planIds('ENTERPRISEPACK')
        .filter((p) => p !== yammer)
        .sort(),
    );
    expect(e3Right?.services.find((s) => s.planId !== yammer)?.assignableTo).toBe('user');
    expect(answer.value.find((r) => r.skuId === ems)?.services).toHaveLength(
      service.catalog.planIds('EMS').length,
    );

    // A user with nothing has no usage rights; unknown and other tenants' users are not found.
    const [bare] = await tenant.importUsers(1);
    expect(
      usageRights.parse(await tenant.graph.api(`/users/${bare}/cloudLicensing/usageRights`).get()).value,
    ).toEqual([]);
    const other = await service.newTenant();
    for (const id of [str(user), '00000000-0000-0000-0000-000000000000']) {
      await expectGraphError(
        other.graph.api(`/users/${id}/cloudLicensing/usageRights`).get(),
        404,
        'Request_ResourceNotFound',
      );
      await expectGraphError(
        other.graph.api(`/users/${id}/cloudLicensing/assignmentErrors`).get(),
        404,
        'Request_ResourceNotFound',
      );
    }
  });

  it('assignmentErrors: each source in error with its beta code, SKU, group and the plans involved', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1, STANDARDPACK: 2 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const e1 = service.catalog.skuId('STANDARDPACK');
    const sales = await tenant.createGroup('Sales');
    const kiosk = await tenant.createGroup('Kiosk');
    // Both get E3 from Sales (one seat: one of them waits); then the one holding E3 also gets E1 from Kiosk, whose
    // Exchange plan conflicts with E3's.
    const both = await tenant.importUsers(2, { memberOf: [sales] });
    await licenseGroup(tenant, sales, e3);
    await tenant.waitIdle();
    const holds = async (user: string) => (await e3State(tenant, user, e3))[0]?.state === 'Active';
    const first = (await holds(str(both[0]))) ? str(both[0]) : str(both[1]);
    const second = first === both[0] ? str(both[1]) : str(both[0]);
    await tenant.graph.api(`/groups/${kiosk}/members/$ref`).post(ref(first));
    await licenseGroup(tenant, kiosk, e1);
    await tenant.waitIdle();

    const errorsOf = async (user: string) =>
      assignmentErrors.parse(await tenant.graph.api(`/users/${user}/cloudLicensing/assignmentErrors`).get());
    const firstErrors = await errorsOf(first);
    expect(firstErrors['@odata.context']).toBe(
      `${service.graphRoot}/$metadata#users('${first}')/cloudLicensing/assignmentErrors`,
    );
    // Which of the two sources the engine refuses is its business (rules.md §3); the error describes that one.
    const states = (await tenant.licenses(first)).licenseAssignmentStates;
    const failed = states.filter((s) => s.error !== 'None');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error).toBe('MutuallyExclusiveViolation');
    const refused =
      failed[0]?.skuId === e1
        ? { sku: 'STANDARDPACK', group: kiosk }
        : { sku: 'ENTERPRISEPACK', group: sales };
    const kept = refused.sku === 'STANDARDPACK' ? 'ENTERPRISEPACK' : 'STANDARDPACK';
    expect(firstErrors.value).toHaveLength(1);
    const conflict = firstErrors.value[0];
    expect(conflict).toMatchObject({
      code: 'mutuallyExclusiveServicePlans',
      skuId: failed[0]?.skuId,
      assignedByGroup: refused.group,
      occurrenceDateTime: failed[0]?.lastUpdatedDateTime,
    });
    // The two plans: one of the refused SKU's, and the plan the user holds that excludes it.
    expect(conflict?.ids).toHaveLength(2);
    expect(service.catalog.planIds(refused.sku)).toContain(conflict?.ids[0]);
    expect(service.catalog.planIds(kept)).toContain(conflict?.ids[1]);
    expect(conflict?.message).toBe(
      `License assignment failed because service plans ${conflict?.ids.join(',')} are mutually exclusive`,
    );

    // The second waits for E3: one error, noAvailableLicenses.
    const secondErrors = await errorsOf(second);
    expect(secondErrors.value).toEqual([
      expect.objectContaining({
        code: 'noAvailableLicenses',
        message: 'There are no available licenses for the specified allotment',
        skuId: e3,
        assignedByGroup: sales,
        ids: [],
      }),
    ]);
    // Ids are per source, distinct.
    expect(new Set([conflict?.id, secondErrors.value[0]?.id]).size).toBe(2);

    // No errors: an empty list. Needs a user read permission.
    const [fine] = await tenant.importUsers(1);
    expect((await errorsOf(str(fine))).value).toEqual([]);
    const as = async (roles: readonly string[]) =>
      graphClient(service, await tenant.tokenWith(roles))
        .api(`/users/${first}/cloudLicensing/assignmentErrors`)
        .get();
    await expectGraphError(as(['Organization.Read.All']), 403, 'Authorization_RequestDenied');
    expect(assignmentErrors.parse(await as(['User.Read.All'])).value).toHaveLength(1);
    const rights = graphClient(service, await tenant.tokenWith(['Group.Read.All']))
      .api(`/users/${first}/cloudLicensing/usageRights`)
      .get();
    await expectGraphError(rights, 403, 'Authorization_RequestDenied');
  });
});
