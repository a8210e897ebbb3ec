// Devices (create, list, get, delete, license states on $select, moving a device license between groups) and
// deleted items (soft-deleted users listed, read with their suspended licenses, restored, hard-deleted).
import { randomUUID } from 'node:crypto';
import { ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseAssignmentStateSchema } from '../../src/contract/graph.js';
import {
  expectGraphError,
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

function newDevice(displayName = `PC-${randomUUID().slice(0, 6)}`) {
  return {
    accountEnabled: true,
    alternativeSecurityIds: [{ type: 2, identityProvider: null, key: 'Y3YxN2E1MWFlYw==' }],
    deviceId: randomUUID(),
    displayName,
    operatingSystem: 'Windows',
    operatingSystemVersion: '10.0.22631',
  };
}

async function deviceStates(tenant: Tenant, id: string) {
  const device = obj(await tenant.graph.api(`/devices/${id}`).select('licenseAssignmentStates').get());
  return licenseAssignmentStateSchema.array().parse(device.licenseAssignmentStates);
}

describe('devices', () => {
  it('creates a device with Graph’s required properties (201), lists, reads and deletes it (204)', async () => {
    const tenant = await service.newTenant();
    const input = newDevice('Front desk');
    const raw: unknown = await tenant.graph.api('/devices').responseType(ResponseType.RAW).post(input);
    expect(raw instanceof Response && raw.status).toBe(201);
    if (!(raw instanceof Response)) return;
    const created = obj(await raw.json());
    expect(created['@odata.context']).toBe(`${service.graphRoot}/$metadata#devices/$entity`);
    expect(created).toMatchObject({
      accountEnabled: true,
      deviceId: input.deviceId,
      displayName: 'Front desk',
      operatingSystem: 'Windows',
      operatingSystemVersion: '10.0.22631',
      alternativeSecurityIds: input.alternativeSecurityIds,
    });
    expect(Object.keys(created)).not.toContain('licenseAssignmentStates');
    const id = str(created.id);
    expect(id).not.toBe(input.deviceId);

    const list = obj(await tenant.graph.api('/devices').get());
    expect(list['@odata.context']).toBe(`${service.graphRoot}/$metadata#devices`);
    expect(ids(list)).toEqual([id]);
    const one = obj(await tenant.graph.api(`/devices/${id}`).get());
    expect(one).toMatchObject({ id, displayName: 'Front desk' });
    expect(await deviceStates(tenant, id)).toEqual([]);

    const deleted: unknown = await tenant.graph.api(`/devices/${id}`).responseType(ResponseType.RAW).delete();
    expect(deleted instanceof Response && deleted.status).toBe(204);
    await expectGraphError(tenant.graph.api(`/devices/${id}`).get(), 404, 'Request_ResourceNotFound');
    expect(obj(await tenant.graph.api('/devices').get()).value).toEqual([]);
  });

  it('refuses a device without one of Graph’s required properties (400) and creates nothing', async () => {
    const tenant = await service.newTenant();
    for (const missing of [
      'accountEnabled',
      'alternativeSecurityIds',
      'deviceId',
      'displayName',
      'operatingSystem',
      'operatingSystemVersion',
    ]) {
      const body: Record<string, unknown> = { ...newDevice() };
      delete body[missing];
      await expectGraphError(
        tenant.graph.api('/devices').post(body),
        400,
        'Request_BadRequest',
        `Required property '${missing}' is missing on the Device.`,
      );
    }
    expect(obj(await tenant.graph.api('/devices').get()).value).toEqual([]);
  });

  it('filters devices on startswith(displayName,…), displayName eq and accountEnabled', async () => {
    const tenant = await service.newTenant();
    for (const name of ['Kiosk 1', 'Kiosk 2', 'Laptop'])
      await tenant.graph.api('/devices').post(newDevice(name));
    await tenant.graph.api('/devices').post({ ...newDevice('Kiosk off'), accountEnabled: false });
    const kiosks = items(await tenant.graph.api('/devices').filter("startswith(displayName,'kiosk')").get());
    expect(kiosks.map((d) => d.displayName).sort()).toEqual(['Kiosk 1', 'Kiosk 2', 'Kiosk off']);
    const off = items(await tenant.graph.api('/devices').filter('accountEnabled eq false').get());
    expect(off.map((d) => d.displayName)).toEqual(['Kiosk off']);
    const one = items(await tenant.graph.api('/devices').filter("displayName eq 'kiosk 2'").get());
    expect(one.map((d) => d.displayName)).toEqual(['Kiosk 2']);
  });

  it('licenses devices through a group (states on $select), moves the license to another group, frees seats on delete', async () => {
    const tenant = await service.newTenant({ buy: { OFFICE_PROPLUS_DEVICE1: 10 } });
    const apps = service.catalog.skuId('OFFICE_PROPLUS_DEVICE1');
    const lab = await tenant.createGroup('Lab devices');
    const kiosks = await tenant.createGroup('Kiosks');
    const labOnly = str(obj(await tenant.graph.api('/devices').post(newDevice('lab-only'))).id);
    const both = str(obj(await tenant.graph.api('/devices').post(newDevice('both'))).id);
    const kioskOnly = str(obj(await tenant.graph.api('/devices').post(newDevice('kiosk-only'))).id);
    const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });
    for (const d of [labOnly, both]) await tenant.graph.api(`/groups/${lab}/members/$ref`).post(ref(d));
    for (const d of [both, kioskOnly]) await tenant.graph.api(`/groups/${kiosks}/members/$ref`).post(ref(d));

    await tenant.graph
      .api(`/groups/${lab}/assignLicense`)
      .post({ addLicenses: [{ skuId: apps }], removeLicenses: [] });
    await tenant.waitIdle();
    expect(await deviceStates(tenant, labOnly)).toMatchObject([
      { skuId: apps, assignedByGroup: lab, state: 'Active' },
    ]);
    expect(await deviceStates(tenant, kioskOnly)).toEqual([]);
    const device = obj(await tenant.graph.api(`/devices/${both}`).select('assignedLicenses').get());
    expect(device.assignedLicenses).toEqual([{ skuId: apps, disabledPlans: [] }]);
    expect(await tenant.consumed(apps)).toBe(2);

    // One group per device license: the second group is refused, and nothing changes.
    await expectGraphError(
      tenant.graph
        .api(`/groups/${kiosks}/assignLicense`)
        .post({ addLicenses: [{ skuId: apps }], removeLicenses: [] }),
      400,
      'Request_BadRequest',
      `License ${apps} is a device license and is already assigned to group ${lab}. A device license can be assigned to one group only; move it with moveLicense.`,
    );
    expect(
      obj(await tenant.graph.api(`/groups/${kiosks}`).select('assignedLicenses').get()).assignedLicenses,
    ).toEqual([]);

    const raw: unknown = await tenant.graph
      .api(`/groups/${lab}/moveLicense`)
      .responseType(ResponseType.RAW)
      .post({ skuId: apps, targetGroupId: kiosks });
    expect(raw instanceof Response && raw.status).toBe(202);
    if (!(raw instanceof Response)) return;
    expect(raw.headers.get('location')).toBe(`${service.graphRoot}/groups/${kiosks}`);
    expect(obj(await raw.json())).toMatchObject({ id: kiosks });
    await tenant.waitIdle();
    expect(await deviceStates(tenant, labOnly)).toEqual([]);
    expect(await deviceStates(tenant, both)).toMatchObject([{ assignedByGroup: kiosks, state: 'Active' }]);
    expect(await deviceStates(tenant, kioskOnly)).toMatchObject([
      { assignedByGroup: kiosks, state: 'Active' },
    ]);
    expect(await tenant.consumed(apps)).toBe(2);

    // A user license cannot be moved.
    await expectGraphError(
      tenant.graph
        .api(`/groups/${kiosks}/moveLicense`)
        .post({ skuId: service.catalog.skuId('EMS'), targetGroupId: lab }),
      400,
      'Request_BadRequest',
    );

    await tenant.graph.api(`/devices/${kioskOnly}`).delete();
    await tenant.waitIdle();
    expect(await tenant.consumed(apps)).toBe(1);
  });
});

describe('deleted items', () => {
  it('lists soft-deleted users, shows their suspended licenses on $select, restores them (200)', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 3 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const id = await tenant.createUser({ displayName: 'Deleted Dana' });
    const keeper = await tenant.createUser();
    await tenant.graph
      .api(`/users/${id}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    expect(await tenant.consumed(e3)).toBe(1);
    await tenant.graph.api(`/users/${id}`).delete();
    await tenant.waitIdle();
    expect(await tenant.consumed(e3)).toBe(0);

    const list = obj(await tenant.graph.api('/directory/deletedItems/microsoft.graph.user').get());
    expect(list['@odata.context']).toBe(`${service.graphRoot}/$metadata#directoryObjects`);
    expect(ids(list)).toEqual([id]);
    expect(items(list)[0]).toMatchObject({
      displayName: 'Deleted Dana',
      deletedDateTime: expect.any(String),
    });
    expect(ids(list)).not.toContain(keeper);

    const item = obj(await tenant.graph.api(`/directory/deletedItems/${id}`).get());
    expect(item['@odata.context']).toBe(`${service.graphRoot}/$metadata#directoryObjects/$entity`);
    expect(item['@odata.type']).toBe('#microsoft.graph.user');
    expect(Object.keys(item)).not.toContain('licenseAssignmentStates');
    const selected = obj(
      await tenant.graph
        .api(`/directory/deletedItems/${id}`)
        .select('licenseAssignmentStates,assignedPlans')
        .get(),
    );
    expect(licenseAssignmentStateSchema.array().parse(selected.licenseAssignmentStates)).toMatchObject([
      { skuId: e3, assignedByGroup: null, state: 'Disabled' },
    ]);
    const plans = Array.isArray(selected.assignedPlans) ? selected.assignedPlans.map((p) => obj(p)) : [];
    expect(plans.length).toBeGreaterThan(0);
    expect(new Set(plans.map((p) => p.capabilityStatus))).toEqual(new Set(['Suspended']));
    // A live user is not a deleted item.
    await expectGraphError(
      tenant.graph.api(`/directory/deletedItems/${keeper}`).get(),
      404,
      'Request_ResourceNotFound',
    );

    const raw: unknown = await tenant.graph
      .api(`/directory/deletedItems/${id}/restore`)
      .responseType(ResponseType.RAW)
      .post({});
    expect(raw instanceof Response && raw.status).toBe(200);
    if (!(raw instanceof Response)) return;
    const restored = obj(await raw.json());
    expect(restored).toMatchObject({
      id,
      displayName: 'Deleted Dana',
      '@odata.type': '#microsoft.graph.user',
    });
    expect(restored['@odata.context']).toBe(`${service.graphRoot}/$metadata#directoryObjects/$entity`);
    await tenant.waitIdle();
    expect((await tenant.licenses(id)).licenseAssignmentStates).toMatchObject([
      { skuId: e3, state: 'Active' },
    ]);
    expect(await tenant.consumed(e3)).toBe(1);
    expect(obj(await tenant.graph.api('/directory/deletedItems/microsoft.graph.user').get()).value).toEqual(
      [],
    );
    await expectGraphError(
      tenant.graph.api(`/directory/deletedItems/${id}/restore`).post({}),
      404,
      'Request_ResourceNotFound',
    );
  });

  it('hard-deletes a soft-deleted user (204): gone for good, its seat free for someone else', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 1 } });
    const ems = service.catalog.skuId('EMS');
    const id = await tenant.createUser({ userPrincipalName: 'gone@contoso.test' });
    await tenant.graph
      .api(`/users/${id}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    // Only soft-deleted users can be hard-deleted.
    await expectGraphError(
      tenant.graph.api(`/directory/deletedItems/${id}`).delete(),
      404,
      'Request_ResourceNotFound',
    );
    await tenant.graph.api(`/users/${id}`).delete();
    const raw: unknown = await tenant.graph
      .api(`/directory/deletedItems/${id}`)
      .responseType(ResponseType.RAW)
      .delete();
    expect(raw instanceof Response && raw.status).toBe(204);
    await tenant.waitIdle();
    await expectGraphError(
      tenant.graph.api(`/directory/deletedItems/${id}`).get(),
      404,
      'Request_ResourceNotFound',
    );
    await expectGraphError(tenant.graph.api(`/users/${id}`).get(), 404, 'Request_ResourceNotFound');
    await expectGraphError(
      tenant.graph.api(`/directory/deletedItems/${id}/restore`).post({}),
      404,
      'Request_ResourceNotFound',
    );
    expect(await tenant.consumed(ems)).toBe(0);

    // The name and the seat are free again.
    const next = await tenant.createUser({ userPrincipalName: 'gone@contoso.test' });
    await tenant.graph
      .api(`/users/${next}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    expect(await tenant.consumed(ems)).toBe(1);
  });
});
