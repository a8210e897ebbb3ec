// GET /groups?$filter=assignedLicenses/any(x:x/skuId eq {guid}): the groups carrying a SKU as a group license,
// answered from the tenant's license rows, joined with the other group filters by `and`, paged and counted like any
// group list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionSchema, selectedGroupSchema } from '../../src/contract/graph.js';
import {
  expectRawError,
  ids,
  obj,
  resolveNextLink,
  type Service,
  startService,
  str,
  type Tenant,
} from './support.js';

let service: Service;
let tenant: Tenant;
let e3: string;
let ems: string;
/** Group ids by name. */
const groups = new Map<string, string>();

const carrying = (sku: string) => `assignedLicenses/any(x:x/skuId eq ${sku})`;

function group(name: string): string {
  const id = groups.get(name);
  if (!id) throw new Error(`no group ${name}`);
  return id;
}

/** Every id of a group listing, following nextLinks with the Graph client. */
async function allGroups(filter: string, top?: number): Promise<string[]> {
  let request = tenant.graph.api('/groups').filter(filter);
  if (top !== undefined) request = request.top(top);
  let page: unknown = await request.get();
  const found: string[] = [];
  for (let guard = 0; guard < 50; guard++) {
    found.push(...ids(page));
    const next = obj(page)['@odata.nextLink'];
    if (typeof next !== 'string') return found;
    page = await tenant.graph.api(next).get();
  }
  throw new Error('too many pages');
}

const sorted = (names: readonly string[]) => names.map(group).sort();

beforeAll(async () => {
  service = await startService();
  // EMS has one seat: the two members of "Mobile" leave one in CountViolation, so that group has errors.
  tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 100, EMS: 1 } });
  e3 = service.catalog.skuId('ENTERPRISEPACK');
  ems = service.catalog.skuId('EMS');
  for (const name of ['Sales', 'Support', 'Both', 'Mobile', 'Unlicensed', 'Engineering', 'Finance']) {
    groups.set(name, await tenant.createGroup(name));
  }
  await tenant.importUsers(2, { memberOf: [group('Mobile')] });
  const assign = (name: string, skus: readonly string[]) =>
    tenant.graph
      .api(`/groups/${group(name)}/assignLicense`)
      .post({ addLicenses: skus.map((skuId) => ({ skuId })), removeLicenses: [] });
  for (const name of ['Sales', 'Support', 'Engineering', 'Finance']) await assign(name, [e3]);
  await assign('Both', [e3, ems]);
  await assign('Mobile', [ems]);
  await tenant.waitIdle();
});
afterAll(async () => {
  await service?.stop();
});

describe('groups $filter=assignedLicenses/any(x:x/skuId eq {guid})', () => {
  it('lists the groups carrying the SKU, in id order, shown as any group list shows them', async () => {
    const page = collectionSchema(selectedGroupSchema).parse(
      await tenant.graph.api('/groups').filter(carrying(e3)).select('displayName,assignedLicenses').get(),
    );
    expect(page['@odata.context']).toBe(`${service.graphRoot}/$metadata#groups`);
    expect(page.value.map((g) => g.id)).toEqual(
      sorted(['Sales', 'Support', 'Both', 'Engineering', 'Finance']),
    );
    for (const shown of page.value) expect(shown.assignedLicenses?.map((l) => l.skuId)).toContain(e3);
    expect(await allGroups(carrying(ems))).toEqual(sorted(['Both', 'Mobile']));
    // A SKU no group carries (and one the tenant does not even have): nothing, not an error.
    expect(await allGroups(carrying(service.catalog.skuId('STANDARDPACK')))).toEqual([]);
  });

  it('joins with the other group filters by and', async () => {
    expect(await allGroups(`${carrying(e3)} and ${carrying(ems)}`)).toEqual(sorted(['Both']));
    expect(await allGroups(`${carrying(e3)} and startswith(displayName,'s')`)).toEqual(
      sorted(['Sales', 'Support']),
    );
    expect(await allGroups(`displayName eq 'finance' and ${carrying(e3)}`)).toEqual(sorted(['Finance']));
    expect(await allGroups(`${carrying(e3)} and securityEnabled eq true`)).toHaveLength(5);
    expect(await allGroups(`${carrying(e3)} and mailEnabled eq true`)).toEqual([]);
    // With members in error: only Mobile has any (one of its two members waits for the one EMS seat).
    expect(await allGroups('hasMembersWithLicenseErrors eq true')).toEqual(sorted(['Mobile']));
    expect(await allGroups(`hasMembersWithLicenseErrors eq true and ${carrying(ems)}`)).toEqual(
      sorted(['Mobile']),
    );
    expect(await allGroups(`${carrying(e3)} and hasMembersWithLicenseErrors eq true`)).toEqual([]);
  });

  it('pages with $top and $skiptoken, counts with ConsistencyLevel: eventual', async () => {
    const everyE3 = sorted(['Sales', 'Support', 'Both', 'Engineering', 'Finance']);
    expect(await allGroups(carrying(e3), 2)).toEqual(everyE3);
    const first = obj(
      await tenant.graph
        .api('/groups')
        .header('ConsistencyLevel', 'eventual')
        .count(true)
        .filter(carrying(e3))
        .top(2)
        .get(),
    );
    expect(first['@odata.count']).toBe(5);
    expect(ids(first)).toEqual(everyE3.slice(0, 2));
    const next = str(first['@odata.nextLink']);
    // The skip token is bound to its query: with another SKU it is refused.
    const replayed = new URL(resolveNextLink(service, next), 'http://x');
    replayed.searchParams.set('$filter', carrying(ems));
    expectRawError(
      await service.graphRaw('GET', `${replayed.pathname}${replayed.search}`, {
        token: tenant.token,
        headers: { ConsistencyLevel: 'eventual' },
      }),
      400,
      'Request_BadRequest',
    );
    // $count without the header is refused as on every list.
    const uncounted = await service.graphRaw(
      'GET',
      `/groups?$count=true&$filter=${encodeURIComponent(carrying(e3))}`,
      { token: tenant.token },
    );
    expectRawError(uncounted, 400, 'Request_BadRequest');
  });

  it('follows license changes: a group whose SKU is removed leaves the list', async () => {
    const finance = group('Finance');
    await tenant.graph
      .api(`/groups/${finance}/assignLicense`)
      .post({ addLicenses: [], removeLicenses: [e3] });
    expect(await allGroups(carrying(e3))).not.toContain(finance);
    await tenant.waitIdle();
  });

  it('refuses what it cannot evaluate', async () => {
    for (const filter of [
      "assignedLicenses/any(x:x/skuId eq 'not-a-guid')",
      `assignedLicenses/any(x:x/skuId ne ${e3})`,
      `${carrying(e3)} or ${carrying(ems)}`,
    ]) {
      const answer = await service.graphRaw('GET', `/groups?$filter=${encodeURIComponent(filter)}`, {
        token: tenant.token,
      });
      expectRawError(answer, 400, 'Request_UnsupportedQuery');
    }
  });
});
