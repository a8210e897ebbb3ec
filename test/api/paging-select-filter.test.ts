// OData on the Graph surface: $top and $skiptoken paging (followed by the client's PageIterator), $select
// (properties Graph returns only when selected), the $filter forms api.md lists (and 400 for the rest), $count with
// ConsistencyLevel: eventual, and the audit log's order and filters.
import { type PageCollection, PageIterator } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arr,
  expectGraphError,
  expectRawError,
  graphClient,
  ids,
  isObject,
  items,
  obj,
  resolveNextLink,
  type Service,
  startService,
  str,
  type Tenant,
} from './support.js';

let service: Service;
/** 130 users: 40 enabled "Alpha …" in US (10 of them licensed with EMS), 90 others split between GB and none. */
let tenant: Tenant;
let alphas: string[];
let licensed: string[];
let ems: string;

beforeAll(async () => {
  service = await startService();
  tenant = await service.newTenant({ buy: { EMS: 10 } });
  ems = service.catalog.skuId('EMS');
  const ids = await tenant.importUsers(130, (i) => ({
    displayName: i < 40 ? `Alpha ${String(i).padStart(3, '0')}` : `Beta ${String(i).padStart(3, '0')}`,
    usageLocation: i < 40 ? 'US' : i % 2 === 0 ? 'GB' : null,
    accountEnabled: i < 40 || i % 3 !== 0,
  }));
  alphas = ids.slice(0, 40);
  licensed = ids.slice(0, 10);
  for (const id of licensed) {
    await tenant.graph
      .api(`/users/${id}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
  }
});
afterAll(async () => {
  await service?.stop();
});

/** Every id of a listing, following nextLinks with the client. */
async function all(
  path: string,
  query: (r: ReturnType<Tenant['graph']['api']>) => ReturnType<Tenant['graph']['api']>,
) {
  const found: string[] = [];
  let page: unknown = await query(tenant.graph.api(path)).get();
  for (let guard = 0; guard < 100; guard++) {
    found.push(...ids(page));
    const next = obj(page)['@odata.nextLink'];
    if (typeof next !== 'string') return found;
    page = await tenant.graph.api(next).get();
  }
  throw new Error('too many pages');
}

describe('paging', () => {
  it('returns 100 users by default, then a nextLink with an opaque $skiptoken', async () => {
    const first = obj(await tenant.graph.api('/users').get());
    expect(first['@odata.context']).toBe(`${service.graphRoot}/$metadata#users`);
    expect(items(first)).toHaveLength(100);
    const next = str(first['@odata.nextLink']);
    const token = new URL(next, `${service.graphRoot}/`).searchParams.get('$skiptoken');
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = obj(await tenant.graph.api(next).get());
    expect(items(second)).toHaveLength(30);
    expect(second['@odata.nextLink']).toBeUndefined();
    const everyone = [...ids(first), ...ids(second)];
    expect(new Set(everyone).size).toBe(130);
  });

  it('is followed by the client’s PageIterator across several pages', async () => {
    const requests: string[] = [];
    const client = graphClient(service, tenant.token, (url) => requests.push(url));
    const first = obj(await client.api('/users').filter("startswith(displayName,'Alpha')").top(12).get());
    const collection: PageCollection = { ...first, value: arr(first.value) };
    const seen: string[] = [];
    const iterator = new PageIterator(client, collection, (user: unknown) => {
      if (isObject(user)) seen.push(str(user.id));
      return true;
    });
    await iterator.iterate();
    expect(seen.sort()).toEqual([...alphas].sort());
    // 40 users at 12 a page: 4 requests, the last three carrying the skiptoken and the same filter.
    expect(requests).toHaveLength(4);
    for (const url of requests.slice(1)) {
      const query = new URL(url).searchParams;
      expect(query.get('$skiptoken')).toBeTruthy();
      expect(query.get('$filter')).toBe("startswith(displayName,'Alpha')");
      expect(new URL(url).pathname).toBe('/api/v1.0/users');
    }
  });

  it('gives nextLinks that plain HTTP clients can follow, resolved against the service root', async () => {
    let path = '/users?$top=50';
    const found: string[] = [];
    for (let pages = 1; ; pages++) {
      const answer = await service.graphRaw('GET', path, { token: tenant.token });
      expect(answer.status).toBe(200);
      found.push(...ids(answer.json));
      const next = obj(answer.json)['@odata.nextLink'];
      if (typeof next !== 'string') {
        expect(pages).toBe(3);
        break;
      }
      path = resolveNextLink(service, next);
    }
    expect(new Set(found).size).toBe(130);
  });

  it('accepts $top up to 999 and refuses more, zero or garbage (400)', async () => {
    expect(items(await tenant.graph.api('/users').top(999).get())).toHaveLength(130);
    for (const top of ['1000', '0', '-1', 'ten', '1.5']) {
      await expectGraphError(
        tenant.graph.api(`/users?$top=${top}`).get(),
        400,
        'Request_BadRequest',
        `Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`,
      );
    }
  });

  it('refuses a tampered or foreign $skiptoken (400) and does not leak rows', async () => {
    const first = obj(await tenant.graph.api('/users').top(5).get());
    const next = new URL(str(first['@odata.nextLink']), `${service.graphRoot}/`);
    const token = next.searchParams.get('$skiptoken') ?? '';
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    const tampered = Buffer.from(decoded.replace(/"f":"[^"]+"/, '"f":"AAAAAAAAAAAAAAAA"')).toString(
      'base64url',
    );
    for (const bad of [
      tampered,
      `${token.slice(0, -3)}xyz`,
      'not-a-token',
      token.split('').reverse().join(''),
    ]) {
      await expectGraphError(
        tenant.graph.api(`/users?$top=5&$skiptoken=${bad}`).get(),
        400,
        'Request_BadRequest',
        /is not valid for this query/,
      );
    }
    // A token of one query is refused by another (other filter, other collection).
    await expectGraphError(
      tenant.graph.api(`/users?$filter=accountEnabled eq true&$skiptoken=${token}`).get(),
      400,
      'Request_BadRequest',
    );
    await expectGraphError(tenant.graph.api(`/groups?$skiptoken=${token}`).get(), 400, 'Request_BadRequest');
    // Another tenant cannot use it to read this tenant's users.
    const stranger = await service.newTenant();
    await expectGraphError(
      stranger.graph.api(`/users?$top=5&$skiptoken=${token}`).get(),
      400,
      'Request_BadRequest',
    );
  });

  it('pages a group of 2,500 members by $top=100: each once, in the same order every time, the token bound to its query', async () => {
    const big = await service.newTenant();
    const group = await big.createGroup('Big group');
    const users = await big.importUsers(2500, { memberOf: [group] });
    const nested = await big.createGroup('Nested');
    await big.graph
      .api(`/groups/${group}/members/$ref`)
      .post({ '@odata.id': `${service.graphRoot}/directoryObjects/${nested}` });
    const walk = async () => {
      const pages: Record<string, unknown>[][] = [];
      let page: unknown = await big.graph
        .api(`/groups/${group}/members`)
        .top(100)
        .select('id,displayName')
        .get();
      for (let guard = 0; guard < 100; guard++) {
        pages.push(items(page));
        const next = obj(page)['@odata.nextLink'];
        if (typeof next !== 'string') return pages;
        page = await big.graph.api(next).get();
      }
      throw new Error('too many pages');
    };
    const pages = await walk();
    expect(pages).toHaveLength(26);
    for (const page of pages.slice(0, -1)) expect(page).toHaveLength(100);
    const listed = pages.flat().map((m) => str(m.id));
    expect(new Set(listed).size).toBe(2501);
    expect([...listed].sort()).toEqual([...users, nested].sort());
    // $select holds on every page; the nested group is listed as a group.
    for (const m of pages.flat()) expect(Object.keys(m).sort()).toEqual(['@odata.type', 'displayName', 'id']);
    expect(pages.flat().find((m) => m.id === nested)?.['@odata.type']).toBe('#microsoft.graph.group');
    // A static group pages the same way every time.
    expect((await walk()).flat().map((m) => str(m.id))).toEqual(listed);

    // The token names a place in this group's listing only: another group's, or another listing, is a 400.
    const first = obj(await big.graph.api(`/groups/${group}/members`).top(100).get());
    const token = new URL(str(first['@odata.nextLink']), 'https://x/').searchParams.get('$skiptoken');
    await expectGraphError(
      big.graph.api(`/groups/${nested}/members?$top=100&$skiptoken=${token}`).get(),
      400,
      'Request_BadRequest',
    );
    await expectGraphError(
      big.graph.api(`/groups/${group}/membersWithLicenseErrors?$skiptoken=${token}`).get(),
      400,
      'Request_BadRequest',
    );
  }, 120_000);

  it('pages group members and deleted users too', async () => {
    const group = await tenant.createGroup('Paged members');
    const lines = alphas.map((id) => ({ type: 'member', groupId: group, memberId: id }));
    await tenant.importLines(lines);
    const members = await all(`/groups/${group}/members`, (r) => r.top(15));
    expect(members.sort()).toEqual([...alphas].sort());

    const other = await service.newTenant();
    const doomed = await other.importUsers(7);
    for (const id of doomed) await other.graph.api(`/users/${id}`).delete();
    const deleted: string[] = [];
    let page: unknown = await other.graph.api('/directory/deletedItems/microsoft.graph.user').top(3).get();
    for (let n = 0; n < 10; n++) {
      deleted.push(...ids(page));
      const next = obj(page)['@odata.nextLink'];
      if (typeof next !== 'string') break;
      page = await other.graph.api(next).get();
    }
    expect(deleted.sort()).toEqual([...doomed].sort());
  });
});

describe('$select', () => {
  it('shows licenseAssignmentStates, assignedLicenses and usageLocation of users only when selected', async () => {
    const id = str(licensed[0]);
    const plain = obj(await tenant.graph.api(`/users/${id}`).get());
    for (const hidden of ['licenseAssignmentStates', 'assignedLicenses', 'usageLocation', 'assignedPlans']) {
      expect(Object.keys(plain)).not.toContain(hidden);
    }
    const selected = obj(
      await tenant.graph.api(`/users/${id}`).select(['licenseAssignmentStates', 'usageLocation']).get(),
    );
    expect(Object.keys(selected).sort()).toEqual(
      ['@odata.context', 'id', 'licenseAssignmentStates', 'usageLocation'].sort(),
    );
    expect(selected.usageLocation).toBe('US');
    expect(selected.licenseAssignmentStates).toMatchObject([
      { skuId: ems, assignedByGroup: null, state: 'Active' },
    ]);

    const list = obj(await tenant.graph.api('/users').select('displayName,usageLocation').top(3).get());
    for (const user of items(list))
      expect(Object.keys(user).sort()).toEqual(['displayName', 'id', 'usageLocation']);
  });

  it('shows assignedLicenses and licenseProcessingState of groups only when selected', async () => {
    const group = await tenant.createGroup('Selected');
    const plain = obj(await tenant.graph.api(`/groups/${group}`).get());
    expect(Object.keys(plain)).not.toContain('assignedLicenses');
    expect(Object.keys(plain)).not.toContain('licenseProcessingState');
    const selected = obj(
      await tenant.graph.api(`/groups/${group}`).select('assignedLicenses,licenseProcessingState').get(),
    );
    expect(selected).toEqual({
      '@odata.context': expect.stringContaining('$metadata#groups'),
      id: group,
      assignedLicenses: [],
      licenseProcessingState: { state: 'ProcessingComplete' },
    });
    const list = obj(await tenant.graph.api('/groups').select('assignedLicenses').get());
    for (const item of items(list)) expect(Object.keys(item).sort()).toEqual(['assignedLicenses', 'id']);
  });

  it('refuses a property the type does not have (400), whatever the collection', async () => {
    await expectGraphError(
      tenant.graph
        .api(`/users/${str(alphas[0])}`)
        .select('displayName,shoeSize')
        .get(),
      400,
      'Request_BadRequest',
      "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.",
    );
    await expectGraphError(
      tenant.graph.api('/users').select('licenseProcessingState').get(),
      400,
      'Request_BadRequest',
      "Could not find a property named 'licenseProcessingState' on type 'microsoft.graph.user'.",
    );
    await expectGraphError(
      tenant.graph.api('/groups').select('usageLocation').get(),
      400,
      'Request_BadRequest',
      "Could not find a property named 'usageLocation' on type 'microsoft.graph.group'.",
    );
    await expectGraphError(
      tenant.graph.api('/devices').select('userPrincipalName').get(),
      400,
      'Request_BadRequest',
      "Could not find a property named 'userPrincipalName' on type 'microsoft.graph.device'.",
    );
  });
});

describe('$filter', () => {
  it('filters users on assignedLicenses/any(x:x/skuId eq {guid})', async () => {
    const found = await all('/users', (r) => r.filter(`assignedLicenses/any(x:x/skuId eq ${ems})`));
    expect(found.sort()).toEqual([...licensed].sort());
    const none = await all('/users', (r) =>
      r.filter(`assignedLicenses/any(s:s/skuId eq ${service.catalog.skuId('ENTERPRISEPACK')})`),
    );
    expect(none).toEqual([]);
  });

  it("filters users on usageLocation eq 'XX', accountEnabled eq, startswith(displayName,'…') and their conjunction", async () => {
    const us = await all('/users', (r) => r.filter("usageLocation eq 'US'"));
    expect(us.sort()).toEqual([...alphas].sort());
    const gb = await all('/users', (r) => r.filter("usageLocation eq 'GB'").top(999));
    expect(gb).toHaveLength(45);

    const disabled = await all('/users', (r) => r.filter('accountEnabled eq false'));
    expect(disabled).toHaveLength(30);
    const enabled = await all('/users', (r) => r.filter('accountEnabled eq true'));
    expect(enabled).toHaveLength(100);

    const alpha = await all('/users', (r) => r.filter("startswith(displayName,'alpha 01')"));
    expect(alpha).toHaveLength(10);
    // eq on displayName, case-insensitive as on Graph.
    expect(await all('/users', (r) => r.filter("displayName eq 'ALPHA 007'"))).toEqual([alphas[7]]);
    expect(await all('/users', (r) => r.filter("displayName eq 'Alpha 00'"))).toEqual([]);
    const both = await all('/users', (r) =>
      r.filter("startswith(displayName,'Beta') and usageLocation eq 'GB' and accountEnabled eq false"),
    );
    const expected = Array.from({ length: 130 }, (_, i) => i).filter(
      (i) => i >= 40 && i % 2 === 0 && i % 3 === 0,
    );
    expect(both).toHaveLength(expected.length);
  });

  it('filters groups on hasMembersWithLicenseErrors eq true (and nothing else about licenses)', async () => {
    const found = obj(await tenant.graph.api('/groups').filter('hasMembersWithLicenseErrors eq true').get());
    expect(found['@odata.context']).toBe(`${service.graphRoot}/$metadata#groups`);
    expect(found.value).toEqual([]);
  });

  it('answers 400 Request_UnsupportedQuery for a filter it cannot evaluate, never a wrong answer', async () => {
    const unsupported = [
      ['/users', "department eq 'HR'"],
      ['/users', "displayName ne 'Alpha 001'"],
      ['/users', "startswith(userPrincipalName,'user1')"],
      ['/users', "usageLocation ne 'US'"],
      ['/users', "usageLocation eq 'US' or accountEnabled eq false"],
      ['/users', 'usageLocation ge 2024-01-01T00:00:00Z'],
      ['/users', "assignedLicenses/any(x:x/skuId eq 'not-a-guid')"],
      ['/users', 'accountEnabled eq 1'],
      ['/groups', 'hasMembersWithLicenseErrors eq false'],
      ['/groups', "mail eq 'x@contoso.test'"],
      ['/groups', "startswith(mailNickname,'sel')"],
      ['/devices', "operatingSystem eq 'Windows'"],
      ['/auditLogs/directoryAudits', "category eq 'UserManagement'"],
      ['/auditLogs/directoryAudits', 'activityDisplayName eq true'],
      ['/directory/deletedItems/microsoft.graph.user', "department eq 'HR'"],
    ] as const;
    for (const [path, filter] of unsupported) {
      const answer = await service.graphRaw('GET', `${path}?$filter=${encodeURIComponent(filter)}`, {
        token: tenant.token,
      });
      expectRawError(answer, 400, 'Request_UnsupportedQuery');
    }
  });
});

describe('$count', () => {
  it('counts with ConsistencyLevel: eventual, across all pages', async () => {
    const counted = obj(
      await tenant.graph
        .api('/users')
        .header('ConsistencyLevel', 'eventual')
        .count(true)
        .filter("usageLocation eq 'US'")
        .top(5)
        .get(),
    );
    expect(counted['@odata.count']).toBe(40);
    expect(items(counted)).toHaveLength(5);
    const groups = obj(
      await tenant.graph.api('/groups').header('ConsistencyLevel', 'eventual').count(true).get(),
    );
    expect(groups['@odata.count']).toBe(items(groups).length);
    const devices = obj(
      await tenant.graph.api('/devices').header('ConsistencyLevel', 'eventual').count(true).get(),
    );
    expect(devices['@odata.count']).toBe(0);
  });

  it('refuses $count without ConsistencyLevel: eventual (400)', async () => {
    await expectGraphError(tenant.graph.api('/users').count(true).get(), 400, 'Request_BadRequest');
    const plain = obj(await tenant.graph.api('/users').top(1).get());
    expect(Object.keys(plain)).not.toContain('@odata.count');
  });
});

describe('auditLogs/directoryAudits', () => {
  it('lists records newest first, filters on activityDisplayName and activityDateTime, and pages', async () => {
    const audited = await service.newTenant({ buy: { ENTERPRISEPACK: 5 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const user = await audited.createUser();
    const group = await audited.createGroup('Audited');
    const before = new Date().toISOString();
    for (let i = 0; i < 3; i++) {
      await audited.graph.api(`/users/${user}/assignLicense`).post({
        addLicenses: i % 2 === 0 ? [{ skuId: e3 }] : [],
        removeLicenses: i % 2 === 0 ? [] : [e3],
      });
    }
    await audited.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await audited.waitIdle();

    const page = obj(await audited.graph.api('/auditLogs/directoryAudits').get());
    expect(page['@odata.context']).toBe(`${service.graphRoot}/$metadata#auditLogs/directoryAudits`);
    const records = items(page);
    const times = records.map((r) => str(r.activityDateTime));
    expect([...times].sort().reverse()).toEqual(times);
    expect(records.map((r) => r.activityDisplayName)).toEqual(
      expect.arrayContaining(['Change user license', 'Set group license']),
    );
    const record = obj(records.find((r) => r.activityDisplayName === 'Set group license'));
    expect(record).toMatchObject({
      category: 'GroupManagement',
      loggedByService: 'Core Directory',
      result: 'success',
      targetResources: [expect.objectContaining({ id: group, type: 'Group' })],
    });

    const changes = items(
      await audited.graph
        .api('/auditLogs/directoryAudits')
        .filter("activityDisplayName eq 'Change user license'")
        .get(),
    );
    expect(changes).toHaveLength(3);
    expect(new Set(changes.map((r) => r.activityDisplayName))).toEqual(new Set(['Change user license']));

    const since = items(
      await audited.graph
        .api('/auditLogs/directoryAudits')
        .filter(`activityDateTime ge ${before} and activityDisplayName eq 'Set group license'`)
        .get(),
    );
    expect(since).toHaveLength(1);
    const later = items(
      await audited.graph
        .api('/auditLogs/directoryAudits')
        .filter(`activityDateTime ge ${new Date(Date.now() + 60_000).toISOString()}`)
        .get(),
    );
    expect(later).toEqual([]);
    const earlier = items(
      await audited.graph.api('/auditLogs/directoryAudits').filter(`activityDateTime lt ${before}`).get(),
    );
    expect(earlier.every((r) => str(r.activityDateTime) < before)).toBe(true);

    const paged: string[] = [];
    let next: unknown = await audited.graph.api('/auditLogs/directoryAudits').top(2).get();
    for (let n = 0; n < 20; n++) {
      paged.push(...ids(next));
      const link = obj(next)['@odata.nextLink'];
      if (typeof link !== 'string') break;
      next = await audited.graph.api(link).get();
    }
    expect(paged).toEqual(ids(page));
  });
});

describe('@odata.context', () => {
  it('is on every JSON response of the Graph surface', async () => {
    const ctx = await service.newTenant({ buy: { ENTERPRISEPACK: 5, OFFICE_PROPLUS_DEVICE1: 5 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const apps = service.catalog.skuId('OFFICE_PROPLUS_DEVICE1');
    const user = await ctx.createUser();
    const gone = await ctx.createUser();
    await ctx.graph.api(`/users/${gone}`).delete();
    const group = await ctx.createGroup('Context');
    const other = await ctx.createGroup('Other');
    const device = str(
      obj(
        await ctx.graph.api('/devices').post({
          accountEnabled: true,
          alternativeSecurityIds: [],
          deviceId: '6a59ea83-02bd-468f-a40b-f2ba3b0b7e3a',
          displayName: 'D',
          operatingSystem: 'Windows',
          operatingSystemVersion: '10',
        }),
      ).id,
    );
    const calls: [string, string, unknown?][] = [
      ['GET', '/users'],
      ['GET', `/users/${user}`],
      ['PATCH', `/users/${user}`, { department: 'R&D' }],
      ['POST', `/users/${user}/assignLicense`, { addLicenses: [{ skuId: e3 }], removeLicenses: [] }],
      ['POST', `/users/${user}/reprocessLicenseAssignment`, {}],
      ['GET', `/users/${user}/licenseDetails`],
      ['GET', '/groups'],
      ['GET', `/groups/${group}`],
      ['POST', `/groups/${group}/assignLicense`, { addLicenses: [{ skuId: apps }], removeLicenses: [] }],
      ['GET', `/groups/${group}/members`],
      ['GET', `/groups/${group}/membersWithLicenseErrors`],
      ['GET', `/groups/${group}/licenseProcessingDetails`],
      ['POST', `/groups/${group}/reprocessLicenseAssignment`, {}],
      ['POST', `/groups/${group}/moveLicense`, { skuId: apps, targetGroupId: other }],
      ['GET', '/devices'],
      ['GET', `/devices/${device}`],
      ['GET', '/directory/deletedItems/microsoft.graph.user'],
      ['GET', `/directory/deletedItems/${gone}`],
      ['POST', `/directory/deletedItems/${gone}/restore`, {}],
      ['GET', '/subscribedSkus'],
      ['GET', '/auditLogs/directoryAudits'],
    ];
    for (const [method, path, body] of calls) {
      const answer = await service.graphRaw(method, path, {
        token: ctx.token,
        ...(body === undefined ? {} : { body }),
      });
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBeLessThan(300);
      if (answer.status === 204) continue;
      expect(str(obj(answer.json)['@odata.context']), `${method} ${path}`).toMatch(
        new RegExp(`^${service.graphRoot.replace(/[.]/g, '\\.')}/\\$metadata#\\w`),
      );
    }
    await ctx.waitIdle();
  });
});
