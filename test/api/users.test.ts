// Users through the official Graph client: create, read by id and by userPrincipalName, update, soft delete,
// direct licenses (assignLicense, reprocessLicenseAssignment, licenseDetails).
import { ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGraphError, obj, type Service, startService, str } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

const NOT_FOUND = (id: string) =>
  `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`;

describe('users', () => {
  it('creates a user with Graph’s required properties (201) and reads it by id and by userPrincipalName', async () => {
    const tenant = await service.newTenant();
    const raw: unknown = await tenant.graph
      .api('/users')
      .responseType(ResponseType.RAW)
      .post({
        accountEnabled: true,
        displayName: 'Adele Vance',
        mailNickname: 'AdeleV',
        userPrincipalName: 'AdeleV@contoso.test',
        passwordProfile: { forceChangePasswordNextSignIn: true, password: 'xWwvJ]6NMw+bWH-d' },
      });
    expect(raw).toBeInstanceOf(Response);
    if (!(raw instanceof Response)) return;
    expect(raw.status).toBe(201);
    expect(raw.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const created = obj(await raw.json());
    expect(created['@odata.context']).toBe(`${service.graphRoot}/$metadata#users/$entity`);
    expect(created).toMatchObject({
      displayName: 'Adele Vance',
      userPrincipalName: 'AdeleV@contoso.test',
      businessPhones: [],
      givenName: null,
      surname: null,
    });
    // Graph's default property set: no password, no licensing properties, no usageLocation.
    expect(Object.keys(created)).not.toContain('passwordProfile');
    expect(Object.keys(created)).not.toContain('usageLocation');
    expect(Object.keys(created)).not.toContain('licenseAssignmentStates');
    const id = str(created.id);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const byId = obj(await tenant.graph.api(`/users/${id}`).get());
    expect(byId['@odata.context']).toBe(`${service.graphRoot}/$metadata#users/$entity`);
    expect(byId).toMatchObject({ id, displayName: 'Adele Vance', userPrincipalName: 'AdeleV@contoso.test' });

    const byUpn = obj(await tenant.graph.api('/users/adelev@contoso.test').get());
    expect(byUpn.id).toBe(id);
    const selected = obj(
      await tenant.graph.api('/users/AdeleV@contoso.test').select('accountEnabled,mailNickname').get(),
    );
    expect(selected).toEqual({
      '@odata.context': expect.stringContaining('$metadata#users'),
      id,
      accountEnabled: true,
      mailNickname: 'AdeleV',
    });
  });

  it('refuses a second user with the same userPrincipalName', async () => {
    const tenant = await service.newTenant();
    await tenant.createUser({ userPrincipalName: 'same@contoso.test', mailNickname: 'same1' });
    await expectGraphError(
      tenant.graph.api('/users').post({
        accountEnabled: true,
        displayName: 'Second',
        mailNickname: 'same2',
        userPrincipalName: 'SAME@contoso.test',
        passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
      }),
      400,
      'Request_BadRequest',
      'Another object with the same value for property userPrincipalName already exists.',
    );
    const list = obj(await tenant.graph.api('/users').get());
    expect(list.value).toHaveLength(1);
  });

  it('updates writable properties with PATCH (204) and shows them on the next read', async () => {
    const tenant = await service.newTenant();
    const id = await tenant.createUser({ usageLocation: null });
    const raw: unknown = await tenant.graph
      .api(`/users/${id}`)
      .responseType(ResponseType.RAW)
      .patch({
        displayName: 'Renamed',
        usageLocation: 'gb',
        department: 'HR',
        jobTitle: 'Recruiter',
        proxyAddresses: ['SMTP:renamed@contoso.test'],
      });
    expect(raw instanceof Response && raw.status).toBe(204);
    const user = obj(
      await tenant.graph
        .api(`/users/${id}`)
        .select('displayName,usageLocation,department,jobTitle,proxyAddresses')
        .get(),
    );
    expect(user).toMatchObject({
      displayName: 'Renamed',
      usageLocation: 'GB',
      department: 'HR',
      jobTitle: 'Recruiter',
      proxyAddresses: ['SMTP:renamed@contoso.test'],
    });
  });

  it('renames the userPrincipalName: the new name finds the user, the old one no longer does', async () => {
    const tenant = await service.newTenant();
    const id = await tenant.createUser({ userPrincipalName: 'old.name@contoso.test' });
    await tenant.graph.api(`/users/${id}`).patch({ userPrincipalName: 'new.name@contoso.test' });
    expect(obj(await tenant.graph.api('/users/new.name@contoso.test').get()).id).toBe(id);
    await expectGraphError(
      tenant.graph.api('/users/old.name@contoso.test').get(),
      404,
      'Request_ResourceNotFound',
      NOT_FOUND('old.name@contoso.test'),
    );
  });

  it('soft-deletes a user with DELETE (204): gone from /users, found in deleted items', async () => {
    const tenant = await service.newTenant();
    const id = await tenant.createUser();
    const raw: unknown = await tenant.graph.api(`/users/${id}`).responseType(ResponseType.RAW).delete();
    expect(raw instanceof Response && raw.status).toBe(204);
    await expectGraphError(
      tenant.graph.api(`/users/${id}`).get(),
      404,
      'Request_ResourceNotFound',
      NOT_FOUND(id),
    );
    const list = obj(await tenant.graph.api('/users').get());
    expect(list.value).toEqual([]);
    const deleted = obj(await tenant.graph.api(`/directory/deletedItems/${id}`).get());
    expect(deleted.id).toBe(id);
    expect(typeof deleted.deletedDateTime).toBe('string');
    await expectGraphError(
      tenant.graph.api(`/users/${id}`).delete(),
      404,
      'Request_ResourceNotFound',
      NOT_FOUND(id),
    );
  });

  it('assigns a license directly (200 + the user) and lists it in licenseDetails', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 5 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const yammer = service.catalog.planId('ENTERPRISEPACK', 'YAMMER_ENTERPRISE');
    const id = await tenant.createUser();

    const answer = obj(
      await tenant.graph
        .api(`/users/${id}/assignLicense`)
        .post({ addLicenses: [{ skuId: e3, disabledPlans: [yammer] }], removeLicenses: [] }),
    );
    expect(answer['@odata.context']).toBe(`${service.graphRoot}/$metadata#users/$entity`);
    expect(answer.id).toBe(id);
    expect(answer.displayName).toEqual(expect.any(String));

    const user = await tenant.licenses(id);
    expect(user.assignedLicenses).toEqual([{ skuId: e3, disabledPlans: [yammer] }]);
    expect(user.licenseAssignmentStates).toEqual([
      {
        skuId: e3,
        assignedByGroup: null,
        disabledPlans: [yammer],
        state: 'Active',
        error: 'None',
        lastUpdatedDateTime: expect.any(String),
      },
    ]);
    expect(user.assignedPlans?.map((p) => p.servicePlanId)).not.toContain(yammer);
    expect(user.assignedPlans?.length).toBe(service.catalog.planIds('ENTERPRISEPACK').length - 1);
    expect(new Set(user.assignedPlans?.map((p) => p.capabilityStatus))).toEqual(new Set(['Enabled']));
    expect(await tenant.consumed(e3)).toBe(1);

    const details = obj(await tenant.graph.api(`/users/${id}/licenseDetails`).get());
    expect(details['@odata.context']).toBe(`${service.graphRoot}/$metadata#users('${id}')/licenseDetails`);
    const [detail, ...others] = Array.isArray(details.value) ? details.value : [];
    expect(others).toEqual([]);
    const first = obj(detail);
    expect(first).toMatchObject({ skuId: e3, skuPartNumber: 'ENTERPRISEPACK' });
    expect(typeof first.id).toBe('string');
    const plans = Array.isArray(first.servicePlans) ? first.servicePlans.map((p) => obj(p)) : [];
    expect(plans).toHaveLength(service.catalog.planIds('ENTERPRISEPACK').length);
    expect(plans.find((p) => p.servicePlanId === yammer)).toMatchObject({
      servicePlanName: 'YAMMER_ENTERPRISE',
      provisioningStatus: 'Disabled',
    });

    // Re-adding the SKU replaces its disabled plans.
    await tenant.graph
      .api(`/users/${id}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3, disabledPlans: [] }], removeLicenses: [] });
    expect((await tenant.licenses(id)).assignedLicenses).toEqual([{ skuId: e3, disabledPlans: [] }]);
    expect(await tenant.consumed(e3)).toBe(1);

    // Removing it frees the seat.
    await tenant.graph.api(`/users/${id}/assignLicense`).post({ addLicenses: [], removeLicenses: [e3] });
    const after = await tenant.licenses(id);
    expect(after.assignedLicenses).toEqual([]);
    expect(after.licenseAssignmentStates).toEqual([]);
    expect(await tenant.consumed(e3)).toBe(0);
    expect(obj(await tenant.graph.api(`/users/${id}/licenseDetails`).get()).value).toEqual([]);
  });

  it('assigns licenses by userPrincipalName too', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 1 } });
    const ems = service.catalog.skuId('EMS');
    const id = await tenant.createUser({ userPrincipalName: 'by.name@contoso.test' });
    await tenant.graph
      .api('/users/by.name@contoso.test/assignLicense')
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    expect((await tenant.licenses(id)).assignedLicenses).toEqual([{ skuId: ems, disabledPlans: [] }]);
  });

  it('reprocesses a user (200 + the user), granting a seat that came free', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1 }, healing: 'manual' });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Sales');
    const [first, second] = await tenant.importUsers(2, { memberOf: [group] });
    await tenant.graph.api(`/groups/${group}/assignLicense`).post({
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    await tenant.waitIdle();
    const states = await Promise.all([first, second].map((id) => tenant.licenses(str(id))));
    const waiting = states.find((s) => s.licenseAssignmentStates[0]?.error === 'CountViolation');
    const holder = states.find((s) => s.licenseAssignmentStates[0]?.state === 'Active');
    expect(waiting && holder).toBeTruthy();
    if (!waiting || !holder) return;

    await tenant.buy('ENTERPRISEPACK', 2);
    await tenant.waitIdle();
    // Manual healing: nothing moves until the user is reprocessed.
    expect((await tenant.licenses(waiting.id)).licenseAssignmentStates[0]?.error).toBe('CountViolation');

    const answer = obj(await tenant.graph.api(`/users/${waiting.id}/reprocessLicenseAssignment`).post({}));
    expect(answer['@odata.context']).toBe(`${service.graphRoot}/$metadata#users/$entity`);
    expect(answer.id).toBe(waiting.id);
    const after = await tenant.licenses(waiting.id);
    expect(after.licenseAssignmentStates).toMatchObject([
      { skuId: e3, assignedByGroup: group, state: 'Active', error: 'None' },
    ]);
    expect(await tenant.consumed(e3)).toBe(2);
  });

  it('finds nothing of another tenant, by id or by name', async () => {
    const owner = await service.newTenant();
    const stranger = await service.newTenant();
    const id = await owner.createUser({ userPrincipalName: 'private@contoso.test' });
    await expectGraphError(
      stranger.graph.api(`/users/${id}`).get(),
      404,
      'Request_ResourceNotFound',
      NOT_FOUND(id),
    );
    await expectGraphError(
      stranger.graph.api('/users/private@contoso.test').get(),
      404,
      'Request_ResourceNotFound',
    );
    await expectGraphError(
      stranger.graph.api(`/users/${id}`).patch({ displayName: 'Hijacked' }),
      404,
      'Request_ResourceNotFound',
    );
    await expectGraphError(stranger.graph.api(`/users/${id}`).delete(), 404, 'Request_ResourceNotFound');
    expect(obj(await stranger.graph.api('/users').get()).value).toEqual([]);
    expect(obj(await owner.graph.api(`/users/${id}`).get()).displayName).toMatch(/^User /);
  });
});
