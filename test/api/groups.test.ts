// Groups and memberships through the official Graph client: create, list, get, delete (refused while the group
// carries licenses), members with $ref, group assignLicense (202 + Location), processing state and details, the
// group reprocess extension, membersWithLicenseErrors and the hasMembersWithLicenseErrors filter.
import { ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGraphError, ids, items, obj, type Service, startService, str } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

describe('groups', () => {
  it('creates a group with Graph’s required properties (201), lists it and reads it', async () => {
    const tenant = await service.newTenant();
    const raw: unknown = await tenant.graph.api('/groups').responseType(ResponseType.RAW).post({
      displayName: 'HR Department',
      mailEnabled: false,
      mailNickname: 'hr',
      securityEnabled: true,
      description: 'People people',
    });
    expect(raw instanceof Response && raw.status).toBe(201);
    if (!(raw instanceof Response)) return;
    const created = obj(await raw.json());
    expect(created['@odata.context']).toBe(`${service.graphRoot}/$metadata#groups/$entity`);
    expect(created).toMatchObject({
      displayName: 'HR Department',
      mailEnabled: false,
      mailNickname: 'hr',
      securityEnabled: true,
      description: 'People people',
      groupTypes: [],
    });
    // License properties appear only on $select.
    expect(Object.keys(created)).not.toContain('assignedLicenses');
    expect(Object.keys(created)).not.toContain('licenseProcessingState');
    const id = str(created.id);

    const list = obj(await tenant.graph.api('/groups').get());
    expect(list['@odata.context']).toBe(`${service.graphRoot}/$metadata#groups`);
    expect(ids(list)).toEqual([id]);
    await tenant.createGroup('HR Department (old)');
    expect(ids(await tenant.graph.api('/groups').filter("displayName eq 'hr department'").get())).toEqual([
      id,
    ]);
    const one = obj(await tenant.graph.api(`/groups/${id}`).get());
    expect(one).toMatchObject({ id, displayName: 'HR Department' });
    expect(one['@odata.context']).toBe(`${service.graphRoot}/$metadata#groups/$entity`);
  });

  it('creates a group with members@odata.bind', async () => {
    const tenant = await service.newTenant();
    const [a, b] = [await tenant.createUser(), await tenant.createUser()];
    const group = obj(
      await tenant.graph.api('/groups').post({
        displayName: 'Bound',
        mailEnabled: false,
        mailNickname: 'bound',
        securityEnabled: true,
        'members@odata.bind': [
          `https://graph.microsoft.com/v1.0/users/${a}`,
          `https://graph.microsoft.com/v1.0/directoryObjects/${b}`,
        ],
      }),
    );
    expect(await tenant.memberIds(str(group.id))).toEqual([a, b].sort());
  });

  it('adds members with $ref (204), lists them with their types, removes them with $ref (204)', async () => {
    const tenant = await service.newTenant();
    const group = await tenant.createGroup('Team');
    const nested = await tenant.createGroup('Nested');
    const user = await tenant.createUser();
    const device = str(
      obj(
        await tenant.graph.api('/devices').post({
          accountEnabled: true,
          alternativeSecurityIds: [{ type: 2, key: 'Y3YxN2E1MWFlYw==' }],
          deviceId: '4c299165-6e8f-4b45-a5ba-c5d250a707ff',
          displayName: 'Laptop',
          operatingSystem: 'Windows',
          operatingSystemVersion: '10.0.19043',
        }),
      ).id,
    );
    for (const member of [user, device, nested]) {
      const raw: unknown = await tenant.graph
        .api(`/groups/${group}/members/$ref`)
        .responseType(ResponseType.RAW)
        .post(ref(member));
      expect(raw instanceof Response && raw.status).toBe(204);
    }
    const members = obj(await tenant.graph.api(`/groups/${group}/members`).get());
    expect(members['@odata.context']).toBe(`${service.graphRoot}/$metadata#directoryObjects`);
    const types = new Map(items(members).map((m) => [str(m.id), m['@odata.type']]));
    expect(types).toEqual(
      new Map([
        [user, '#microsoft.graph.user'],
        [device, '#microsoft.graph.device'],
        [nested, '#microsoft.graph.group'],
      ]),
    );

    const raw: unknown = await tenant.graph
      .api(`/groups/${group}/members/${user}/$ref`)
      .responseType(ResponseType.RAW)
      .delete();
    expect(raw instanceof Response && raw.status).toBe(204);
    expect(await tenant.memberIds(group)).toEqual([device, nested].sort());
    await expectGraphError(
      tenant.graph.api(`/groups/${group}/members/${user}/$ref`).delete(),
      404,
      'Request_ResourceNotFound',
    );
  });

  it('keeps a member removed right after being added removed, licenses included', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 10 } });
    const ems = service.catalog.skuId('EMS');
    const group = await tenant.createGroup('Flicker');
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    const users = await tenant.importUsers(6);
    await Promise.all(
      users.map(async (user) => {
        await tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(user));
        await tenant.graph.api(`/groups/${group}/members/${user}/$ref`).delete();
      }),
    );
    expect(await tenant.memberIds(group)).toEqual([]);
    await tenant.waitIdle();
    expect(await tenant.memberIds(group)).toEqual([]);
    for (const user of users) expect((await tenant.licenses(user)).licenseAssignmentStates).toEqual([]);
    expect(await tenant.consumed(ems)).toBe(0);
  });

  it('refuses to add a member twice (400) and keeps one membership', async () => {
    const tenant = await service.newTenant();
    const group = await tenant.createGroup('Once');
    const user = await tenant.createUser();
    await tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(user));
    await expectGraphError(
      tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(user)),
      400,
      'Request_BadRequest',
      "One or more added object references already exist for the following modified properties: 'members'.",
    );
    expect(await tenant.memberIds(group)).toEqual([user]);
  });

  it('refuses members that do not exist (404) and a group inside itself (400)', async () => {
    const tenant = await service.newTenant();
    const group = await tenant.createGroup('Lonely');
    const ghost = '0b4c7c5a-4f2d-4c59-9a3e-2f1e8f0e0a11';
    await expectGraphError(
      tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(ghost)),
      404,
      'Request_ResourceNotFound',
    );
    await expectGraphError(
      tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(group)),
      400,
      'Request_BadRequest',
    );
    expect(await tenant.memberIds(group)).toEqual([]);
  });

  it('deletes a group (204); refuses while it carries licenses (400) and allows it once they are removed', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 5 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const plain = await tenant.createGroup('Plain');
    const raw: unknown = await tenant.graph.api(`/groups/${plain}`).responseType(ResponseType.RAW).delete();
    expect(raw instanceof Response && raw.status).toBe(204);
    await expectGraphError(tenant.graph.api(`/groups/${plain}`).get(), 404, 'Request_ResourceNotFound');

    const licensed = await tenant.createGroup('Licensed');
    const [member] = await tenant.importUsers(1, { memberOf: [licensed] });
    await tenant.graph
      .api(`/groups/${licensed}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3, disabledPlans: [] }], removeLicenses: [] });
    await tenant.waitIdle();
    await expectGraphError(
      tenant.graph.api(`/groups/${licensed}`).delete(),
      400,
      'Request_BadRequest',
      /cannot be deleted while it has licenses assigned/,
    );
    // Nothing changed: the group, its members and their licenses are still there.
    expect(obj(await tenant.graph.api(`/groups/${licensed}`).get()).id).toBe(licensed);
    expect(await tenant.memberIds(licensed)).toEqual([member]);
    expect((await tenant.licenses(str(member))).assignedLicenses).toEqual([{ skuId: e3, disabledPlans: [] }]);

    await tenant.graph
      .api(`/groups/${licensed}/assignLicense`)
      .post({ addLicenses: [], removeLicenses: [e3] });
    await tenant.waitIdle();
    await tenant.graph.api(`/groups/${licensed}`).delete();
    await tenant.waitIdle();
    expect((await tenant.licenses(str(member))).assignedLicenses).toEqual([]);
    expect(await tenant.consumed(e3)).toBe(0);
  });

  it('assigns licenses to a group: 202, the group as body, Location naming the group; members follow', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 10, EMS: 10 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const ems = service.catalog.skuId('EMS');
    const group = await tenant.createGroup('Licensed users');
    const members = await tenant.importUsers(3, { memberOf: [group] });

    const raw: unknown = await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .responseType(ResponseType.RAW)
      .post({
        addLicenses: [
          { skuId: e3, disabledPlans: [] },
          { skuId: ems, disabledPlans: [] },
        ],
        removeLicenses: [],
      });
    expect(raw instanceof Response).toBe(true);
    if (!(raw instanceof Response)) return;
    expect(raw.status).toBe(202);
    expect(raw.headers.get('location')).toBe(`${service.graphRoot}/groups/${group}`);
    const body = obj(await raw.json());
    expect(body['@odata.context']).toBe(`${service.graphRoot}/$metadata#groups/$entity`);
    expect(body).toMatchObject({ id: group, displayName: 'Licensed users' });

    await tenant.waitIdle();
    const selected = obj(
      await tenant.graph.api(`/groups/${group}`).select('assignedLicenses,licenseProcessingState').get(),
    );
    expect(selected).toEqual({
      '@odata.context': expect.stringContaining('$metadata#groups'),
      id: group,
      assignedLicenses: expect.arrayContaining([
        { skuId: e3, disabledPlans: [] },
        { skuId: ems, disabledPlans: [] },
      ]),
      licenseProcessingState: { state: 'ProcessingComplete' },
    });
    expect(await tenant.details(group)).toEqual({
      '@odata.context': `${service.graphRoot}/$metadata#groups('${group}')/licenseProcessingDetails`,
      state: 'ProcessingComplete',
      status: 'allLicensesAssigned',
      membersTotal: 3,
      membersProcessed: 3,
      membersSucceeded: 3,
      membersFailed: 0,
      errorsByType: {},
      failedPages: 0,
      lastFailure: null,
    });
    for (const member of members) {
      const user = await tenant.licenses(member);
      expect(user.licenseAssignmentStates.map((s) => [s.skuId, s.assignedByGroup, s.state]).sort()).toEqual(
        [
          [e3, group, 'Active'],
          [ems, group, 'Active'],
        ].sort(),
      );
    }
    expect(await tenant.consumed(e3)).toBe(3);
    expect(await tenant.consumed(ems)).toBe(3);
  });

  it('licenses a member added later through $ref, and unlicenses it when removed', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 5 } });
    const ems = service.catalog.skuId('EMS');
    const group = await tenant.createGroup('Late joiners');
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    await tenant.waitIdle();
    const user = await tenant.createUser();
    await tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(user));
    await tenant.waitIdle();
    expect((await tenant.licenses(user)).licenseAssignmentStates).toMatchObject([
      { skuId: ems, assignedByGroup: group, state: 'Active' },
    ]);
    await tenant.graph.api(`/groups/${group}/members/${user}/$ref`).delete();
    await tenant.waitIdle();
    expect((await tenant.licenses(user)).licenseAssignmentStates).toEqual([]);
    expect(await tenant.consumed(ems)).toBe(0);
  });

  it('reports members in error: membersWithLicenseErrors, the hasMembersWithLicenseErrors filter, details', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 2 }, healing: 'manual' });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const fine = await tenant.createGroup('Fine');
    const crowded = await tenant.createGroup('Crowded');
    await tenant.importUsers(4, { memberOf: [crowded] });
    await tenant.graph
      .api(`/groups/${crowded}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();

    const details = await tenant.details(crowded);
    expect(details).toMatchObject({
      state: 'ProcessingComplete',
      status: 'errorsAndIssues',
      membersTotal: 4,
      membersSucceeded: 2,
      membersFailed: 2,
      errorsByType: { CountViolation: 2 },
    });
    const inError = obj(await tenant.graph.api(`/groups/${crowded}/membersWithLicenseErrors`).get());
    expect(inError['@odata.context']).toBe(`${service.graphRoot}/$metadata#directoryObjects`);
    expect(items(inError)).toHaveLength(2);
    for (const member of items(inError)) {
      expect(member['@odata.type']).toBe('#microsoft.graph.user');
      const user = await tenant.licenses(str(member.id));
      expect(user.licenseAssignmentStates).toMatchObject([{ state: 'Error', error: 'CountViolation' }]);
    }
    expect(obj(await tenant.graph.api(`/groups/${fine}/membersWithLicenseErrors`).get()).value).toEqual([]);

    const withErrors = obj(
      await tenant.graph.api('/groups').filter('hasMembersWithLicenseErrors eq true').get(),
    );
    expect(withErrors['@odata.context']).toBe(`${service.graphRoot}/$metadata#groups`);
    expect(ids(withErrors)).toEqual([crowded]);
  });

  it('reprocesses a group (202 extension): members re-evaluated, errors that no longer apply cleared', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1 }, healing: 'manual' });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Waiting');
    await tenant.importUsers(3, { memberOf: [group] });
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    await tenant.buy('ENTERPRISEPACK', 3);
    await tenant.waitIdle();
    expect((await tenant.details(group)).membersFailed).toBe(2);

    const raw: unknown = await tenant.graph
      .api(`/groups/${group}/reprocessLicenseAssignment`)
      .responseType(ResponseType.RAW)
      .post({});
    expect(raw instanceof Response && raw.status).toBe(202);
    if (!(raw instanceof Response)) return;
    expect(obj(await raw.json())).toMatchObject({ id: group, '@odata.context': expect.any(String) });
    await tenant.waitIdle();
    expect(await tenant.details(group)).toMatchObject({
      state: 'ProcessingComplete',
      status: 'allLicensesAssigned',
      membersSucceeded: 3,
      membersFailed: 0,
    });
    expect(await tenant.consumed(e3)).toBe(3);
    expect(
      obj(await tenant.graph.api('/groups').filter('hasMembersWithLicenseErrors eq true').get()).value,
    ).toEqual([]);
  });

  it('shows licenseProcessingState moving to ProcessingComplete', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 300 } });
    const ems = service.catalog.skuId('EMS');
    const group = await tenant.createGroup('Watched');
    await tenant.importUsers(300, { memberOf: [group] });
    const answer = obj(
      await tenant.graph
        .api(`/groups/${group}/assignLicense`)
        .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] }),
    );
    expect(answer.id).toBe(group);
    const seen = new Set<string>();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = obj(
        obj(await tenant.graph.api(`/groups/${group}`).select('licenseProcessingState').get())
          .licenseProcessingState,
      ).state;
      seen.add(str(state));
      if (state === 'ProcessingComplete' || Date.now() > deadline) break;
    }
    expect(seen.has('ProcessingComplete')).toBe(true);
    for (const state of seen) {
      expect(['QueuedForProcessing', 'ProcessingInProgress', 'ProcessingComplete']).toContain(state);
    }
    await tenant.waitIdle();
    expect(await tenant.consumed(ems)).toBe(300);
  });
});
