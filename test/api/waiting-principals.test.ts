// GET /subscribedSkus/{id}/waitingPrincipals (an extension): a SKU's waiting room first come first served, each
// waiter named with its place in the queue, paged like other lists, and the place 1 is the next one healing seats.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitingPrincipalCollectionSchema } from '../../src/contract/graph.js';
import {
  expectGraphError,
  expectRawError,
  graphClient,
  ids,
  items,
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

const waitingPage = (answer: unknown) => waitingPrincipalCollectionSchema.parse(answer);

/** A tenant with `seats` of E3 and a licensed group of `members` users, processed: the rest wait. */
async function shortOfSeats(seats: number, members: number) {
  const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: seats } });
  const e3 = service.catalog.skuId('ENTERPRISEPACK');
  const group = await tenant.createGroup('Everyone');
  const users = await tenant.importUsers(members, { memberOf: [group] });
  await tenant.graph
    .api(`/groups/${group}/assignLicense`)
    .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
  await tenant.waitIdle();
  const subscribed = (await tenant.subscribedSkus()).find((s) => s.skuId === e3);
  return { tenant, e3, group, users, id: str(subscribed?.id) };
}

/** The users in CountViolation for E3, as their license states say. */
async function inCountViolation(tenant: Tenant, users: readonly string[], e3: string): Promise<string[]> {
  const waiting: string[] = [];
  for (const user of users) {
    const states = (await tenant.licenses(user)).licenseAssignmentStates;
    if (states.some((s) => s.skuId === e3 && s.error === 'CountViolation')) waiting.push(user);
  }
  return waiting.sort();
}

describe('subscribedSkus/{id}/waitingPrincipals', () => {
  it('lists who waits, first come first served, named and numbered, by either form of the id', async () => {
    const { tenant, e3, users, id } = await shortOfSeats(3, 7);
    expect(id).toBe(`${tenant.id}_${e3}`);
    const answer = waitingPage(await tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).get());
    expect(answer['@odata.context']).toBe(
      `${service.graphRoot}/$metadata#subscribedSkus('${id}')/waitingPrincipals`,
    );
    expect(answer['@odata.count']).toBe(4);
    expect(answer['@odata.nextLink']).toBeUndefined();
    expect(answer.value.map((w) => w.position)).toEqual([1, 2, 3, 4]);
    expect(answer.value.map((w) => w.id).sort()).toEqual(await inCountViolation(tenant, users, e3));
    for (const waiter of answer.value) {
      expect(waiter).toMatchObject({
        principalType: 'user',
        displayName: expect.stringMatching(/^User \d{5}$/),
        userPrincipalName: expect.stringMatching(/@contoso\.test$/),
      });
    }
    // First come first served: by waitingSince (ties by id).
    const order = answer.value.map((w) => `${w.waitingSince}|${w.id}`);
    expect(order).toEqual([...order].sort());
    // The bare skuId names the same waiting room.
    expect(
      waitingPage(await tenant.graph.api(`/subscribedSkus/${e3}/waitingPrincipals`).get()).value,
    ).toEqual(answer.value);
    // $select keeps id and what it names.
    const selected = items(
      await tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).select('position').get(),
    );
    expect(selected[0]).toEqual({ id: answer.value[0]?.id, position: 1 });
  });

  it('pages with $top and $skiptoken, the count on every page; $top=1 is the count and who is next', async () => {
    const { tenant, e3, id } = await shortOfSeats(2, 7);
    const everyone = waitingPage(await tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).get());
    expect(everyone['@odata.count']).toBe(5);
    const seen: string[] = [];
    const positions: number[] = [];
    let page = waitingPage(await tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).top(2).get());
    for (let guard = 0; guard < 10; guard++) {
      expect(page['@odata.count']).toBe(5);
      expect(page.value.length).toBeLessThanOrEqual(2);
      seen.push(...page.value.map((w) => w.id));
      positions.push(...page.value.map((w) => w.position));
      const next = page['@odata.nextLink'];
      if (next === undefined) break;
      page = waitingPage(await tenant.graph.api(next).get());
    }
    expect(seen).toEqual(everyone.value.map((w) => w.id));
    expect(positions).toEqual([1, 2, 3, 4, 5]);

    // Place 1 is the next one healing seats: buy one more seat and it moves, the others move up.
    const next = waitingPage(await tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).top(1).get());
    expect(next['@odata.count']).toBe(5);
    const first = str(next.value[0]?.id);
    await tenant.buy('ENTERPRISEPACK', 3);
    await tenant.waitIdle();
    const after = waitingPage(await tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).get());
    expect(after['@odata.count']).toBe(4);
    expect(after.value.map((w) => w.id)).toEqual(everyone.value.slice(1).map((w) => w.id));
    expect(after.value.map((w) => w.position)).toEqual([1, 2, 3, 4]);
    const promoted = (await tenant.licenses(first)).licenseAssignmentStates.find((s) => s.skuId === e3);
    expect(promoted).toMatchObject({ state: 'Active', error: 'None' });

    // Bad $top and a skip token of another query are refused as on other lists.
    await expectGraphError(
      tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).top(1000).get(),
      400,
      'Request_BadRequest',
    );
    const link = obj(await tenant.graph.api('/users').top(1).get())['@odata.nextLink'];
    const token = new URL(str(link), 'http://x').searchParams.get('$skiptoken');
    expectRawError(
      await service.graphRaw('GET', `/subscribedSkus/${id}/waitingPrincipals?$skiptoken=${token}`, {
        token: tenant.token,
      }),
      400,
      'Request_BadRequest',
    );
  });

  it('answers an empty waiting room, and 404 for a SKU the tenant lacks, another tenant’s id or no SKU at all', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 5 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const empty = waitingPage(await tenant.graph.api(`/subscribedSkus/${e3}/waitingPrincipals`).get());
    expect(empty).toMatchObject({ '@odata.count': 0, value: [] });
    const other = await service.newTenant({ buy: { ENTERPRISEPACK: 5 } });
    for (const id of [
      service.catalog.skuId('EMS'),
      `${other.id}_${e3}`,
      `${tenant.id}_${service.catalog.skuId('EMS')}`,
      '00000000-0000-0000-0000-000000000000',
      'ENTERPRISEPACK',
      `${tenant.id}_`,
    ]) {
      await expectGraphError(
        tenant.graph.api(`/subscribedSkus/${id}/waitingPrincipals`).get(),
        404,
        'Request_ResourceNotFound',
      );
    }
    // No $filter form is understood here: refused, not ignored.
    const filtered = await service.graphRaw(
      'GET',
      `/subscribedSkus/${e3}/waitingPrincipals?$filter=${encodeURIComponent("principalType eq 'user'")}`,
      { token: tenant.token },
    );
    expectRawError(filtered, 400, 'Request_UnsupportedQuery');
  });

  it('needs subscribedSkus’ permission and the right to read who waits', async () => {
    const { tenant, id } = await shortOfSeats(1, 2);
    const as = async (roles: readonly string[]) =>
      graphClient(service, await tenant.tokenWith(roles))
        .api(`/subscribedSkus/${id}/waitingPrincipals`)
        .get();
    for (const roles of [['Organization.Read.All'], ['User.Read.All'], ['Group.Read.All']]) {
      await expectGraphError(as(roles), 403, 'Authorization_RequestDenied');
    }
    for (const roles of [
      ['Organization.Read.All', 'User.Read.All'],
      ['LicenseAssignment.ReadWrite.All', 'User.ReadWrite.All'],
      ['Directory.Read.All'],
    ]) {
      expect(waitingPage(await as(roles))['@odata.count']).toBe(1);
    }
  });

  it('lists waiting devices for a device SKU, which needs device read', async () => {
    const tenant = await service.newTenant({ buy: { OFFICE_PROPLUS_DEVICE1: 1 } });
    const apps = service.catalog.skuId('OFFICE_PROPLUS_DEVICE1');
    const lab = await tenant.createGroup('Lab');
    await tenant.importLines(
      ['lab-a', 'lab-b', 'lab-c'].map((displayName) => ({ type: 'device', displayName, memberOf: [lab] })),
    );
    await tenant.graph
      .api(`/groups/${lab}/assignLicense`)
      .post({ addLicenses: [{ skuId: apps }], removeLicenses: [] });
    await tenant.waitIdle();
    const answer = waitingPage(await tenant.graph.api(`/subscribedSkus/${apps}/waitingPrincipals`).get());
    expect(answer['@odata.count']).toBe(2);
    for (const waiter of answer.value) {
      expect(waiter.principalType).toBe('device');
      expect(waiter.displayName).toMatch(/^lab-[abc]$/);
      expect(Object.keys(waiter)).not.toContain('userPrincipalName');
    }
    const devices = ids(await tenant.graph.api('/devices').get());
    for (const waiter of answer.value) expect(devices).toContain(waiter.id);
    const as = async (roles: readonly string[]) =>
      graphClient(service, await tenant.tokenWith(roles))
        .api(`/subscribedSkus/${apps}/waitingPrincipals`)
        .get();
    await expectGraphError(
      as(['Organization.Read.All', 'User.Read.All']),
      403,
      'Authorization_RequestDenied',
    );
    expect(waitingPage(await as(['Organization.Read.All', 'Device.ReadWrite.All']))['@odata.count']).toBe(2);
  });
});
