// Acceptance scenario S7 (scenarios.md) end to end through HTTP: device licenses through nested groups, one group
// per device SKU, moving the license, unassigning it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseAssignmentStateSchema } from '../../src/contract/graph.js';
import { expectGraphError, items, obj, type Service, startService, type Tenant } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

/** Every device with its license states. */
async function devices(tenant: Tenant) {
  const page = obj(
    await tenant.graph.api('/devices').select('displayName,licenseAssignmentStates').top(999).get(),
  );
  return items(page).map((d) => ({
    id: String(d.id),
    name: String(d.displayName),
    states: licenseAssignmentStateSchema.array().parse(d.licenseAssignmentStates),
  }));
}

describe('S7 — device licenses', () => {
  it('licenses devices through nested groups, one group per SKU, moves and unassigns', async () => {
    const tenant = await service.newTenant({ buy: { OFFICE_PROPLUS_DEVICE1: 50 } });
    const apps = service.catalog.skuId('OFFICE_PROPLUS_DEVICE1');
    const lab = randomUUID();
    const nested = randomUUID();
    const kiosks = randomUUID();
    const lines = [
      { type: 'group', id: lab, displayName: 'Lab devices' },
      { type: 'group', id: nested, displayName: 'Lab devices (more)' },
      { type: 'group', id: kiosks, displayName: 'Kiosks' },
      { type: 'member', groupId: lab, memberId: nested },
      ...Array.from({ length: 40 }, (_, i) => ({
        type: 'device',
        displayName: `lab-${String(i).padStart(2, '0')}`,
        memberOf: i < 5 ? [lab, kiosks] : [lab],
      })),
      ...Array.from({ length: 20 }, (_, i) => ({
        type: 'device',
        displayName: `nested-${i}`,
        memberOf: [nested],
      })),
      ...Array.from({ length: 3 }, (_, i) => ({
        type: 'device',
        displayName: `kiosk-${i}`,
        memberOf: [kiosks],
      })),
    ];
    const imported = await tenant.importLines(lines);
    expect(imported).toMatchObject({ groups: 3, devices: 63, errors: [] });
    const users = await tenant.importUsers(10, { memberOf: [lab] });

    await tenant.graph
      .api(`/groups/${lab}/assignLicense`)
      .post({ addLicenses: [{ skuId: apps }], removeLicenses: [] });
    await tenant.waitIdle();
    const inLab = (await devices(tenant)).filter((d) => !d.name.startsWith('kiosk-'));
    expect(inLab).toHaveLength(60);
    const states = inLab.map((d) => d.states.map((s) => `${s.assignedByGroup}/${s.state}/${s.error}`).join());
    expect(states.filter((s) => s === `${lab}/Active/None`)).toHaveLength(50);
    expect(states.filter((s) => s === `${lab}/Error/CountViolation`)).toHaveLength(10);
    expect(await tenant.consumed(apps)).toBe(50);
    for (const user of users) expect((await tenant.licenses(user)).licenseAssignmentStates).toEqual([]);
    // The devices in error are listed as devices, with a device's properties.
    const inError = items(await tenant.graph.api(`/groups/${lab}/membersWithLicenseErrors`).top(999).get());
    expect(inError).toHaveLength(10);
    for (const device of inError) {
      expect(device['@odata.type']).toBe('#microsoft.graph.device');
      expect(device).toMatchObject({ operatingSystem: 'Windows', deviceId: expect.any(String) });
      expect(Object.keys(device)).not.toContain('userPrincipalName');
    }
    const selected = items(
      await tenant.graph
        .api(`/groups/${lab}/membersWithLicenseErrors`)
        .select('licenseAssignmentStates')
        .get(),
    );
    expect(
      selected.map((d) => licenseAssignmentStateSchema.array().parse(d.licenseAssignmentStates)[0]?.error),
    ).toEqual(Array(10).fill('CountViolation'));

    await expectGraphError(
      tenant.graph
        .api(`/groups/${kiosks}/assignLicense`)
        .post({ addLicenses: [{ skuId: apps }], removeLicenses: [] }),
      400,
      'Request_BadRequest',
    );

    await tenant.graph.api(`/groups/${lab}/moveLicense`).post({ skuId: apps, targetGroupId: kiosks });
    await tenant.waitIdle();
    const moved = await devices(tenant);
    for (const device of moved) {
      const inKiosks =
        device.name.startsWith('kiosk-') ||
        ['lab-00', 'lab-01', 'lab-02', 'lab-03', 'lab-04'].includes(device.name);
      expect(
        device.states.map((s) => `${s.assignedByGroup}/${s.state}`),
        device.name,
      ).toEqual(inKiosks ? [`${kiosks}/Active`] : []);
    }
    expect(await tenant.consumed(apps)).toBe(8);

    await tenant.graph
      .api(`/groups/${kiosks}/assignLicense`)
      .post({ addLicenses: [], removeLicenses: [apps] });
    await tenant.waitIdle();
    for (const device of await devices(tenant)) expect(device.states, device.name).toEqual([]);
    expect(await tenant.consumed(apps)).toBe(0);
    expect(await tenant.seatViolations()).toEqual([]);
  });
});
