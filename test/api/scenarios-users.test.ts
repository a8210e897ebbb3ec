// Acceptance scenarios S4, S5, S6, S8 and S9 (scenarios.md) end to end through HTTP: usage locations, dependencies,
// duplicate proxy addresses, soft delete / restore / hard delete, direct and inherited licenses together.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseAssignmentStateSchema } from '../../src/contract/graph.js';
import { exactly, expectGraphError, obj, type Service, startService, type Tenant } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

/** `skuId/assignedByGroup/state/error` of each entry, sorted. */
async function entries(tenant: Tenant, userId: string): Promise<string[]> {
  return (await tenant.licenses(userId)).licenseAssignmentStates
    .map((s) => `${s.skuId}/${s.assignedByGroup}/${s.state}/${s.error}`)
    .sort();
}

describe('S4 — usage location', () => {
  it('inherits the tenant location for group licenses, refuses a prohibited country, heals after the user moves', async () => {
    const tenant = await service.newTenant({ country: 'GB', buy: { ENTERPRISEPACK: 10 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Everyone');
    const [nowhere, iran] = exactly(
      await tenant.importUsers(2, (i) => ({ usageLocation: i === 0 ? null : 'IR', memberOf: [group] })),
      2,
    );
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();

    const inherited = await tenant.licenses(nowhere);
    expect(inherited.usageLocation).toBeNull();
    expect(await entries(tenant, nowhere)).toEqual([`${e3}/${group}/Active/None`]);
    expect(await entries(tenant, iran)).toEqual([`${e3}/${group}/Error/ProhibitedInUsageLocationViolation`]);

    await tenant.graph.api(`/users/${iran}`).patch({ usageLocation: 'US' });
    await tenant.waitIdle();
    expect(await entries(tenant, iran)).toEqual([`${e3}/${group}/Active/None`]);
    expect((await tenant.licenses(iran)).usageLocation).toBe('US');

    // Direct assignment needs the user's own location.
    await expectGraphError(
      tenant.graph.api(`/users/${nowhere}/assignLicense`).post({
        addLicenses: [{ skuId: e3 }],
        removeLicenses: [],
      }),
      400,
      'Request_BadRequest',
      'License assignment cannot be done for user with invalid usage location.',
    );
    expect(await entries(tenant, nowhere)).toEqual([`${e3}/${group}/Active/None`]);
    expect(await tenant.consumed(e3)).toBe(2);
  });
});

describe('S5 — dependencies', () => {
  it('refuses Audio Conferencing alone on a group and holds E5 in DependencyViolation when its user leaves', async () => {
    const tenant = await service.newTenant({ buy: { MCOMEETADV: 5, ENTERPRISEPREMIUM: 5 } });
    const audio = service.catalog.skuId('MCOMEETADV');
    const e5 = service.catalog.skuId('ENTERPRISEPREMIUM');
    const meet = service.catalog.planId('MCOMEETADV', 'MCOMEETADV');
    const phone = service.catalog.planId('ENTERPRISEPREMIUM', 'MCOSTANDARD');
    const conferencing = await tenant.createGroup('Conferencing');
    await expectGraphError(
      tenant.graph
        .api(`/groups/${conferencing}/assignLicense`)
        .post({ addLicenses: [{ skuId: audio }], removeLicenses: [] }),
      400,
      'Request_BadRequest',
      `License assignment failed because service plan ${meet} depends on the service plan(s) ${phone}.`,
    );

    const e5Users = await tenant.createGroup('E5 users');
    const [user] = exactly(await tenant.importUsers(1, { memberOf: [e5Users] }), 1);
    await tenant.graph
      .api(`/groups/${e5Users}/assignLicense`)
      .post({ addLicenses: [{ skuId: e5 }], removeLicenses: [] });
    await tenant.waitIdle();
    await tenant.graph
      .api(`/users/${user}/assignLicense`)
      .post({ addLicenses: [{ skuId: audio }], removeLicenses: [] });
    expect(await entries(tenant, user)).toEqual(
      [`${audio}/null/Active/None`, `${e5}/${e5Users}/Active/None`].sort(),
    );

    await tenant.graph.api(`/groups/${e5Users}/members/${user}/$ref`).delete();
    await tenant.waitIdle();
    // Kept, with its seat, until the dependent plan goes.
    expect(await entries(tenant, user)).toEqual(
      [`${audio}/null/Active/None`, `${e5}/${e5Users}/Error/DependencyViolation`].sort(),
    );
    expect(await tenant.consumed(e5)).toBe(1);

    await tenant.graph.api(`/users/${user}/assignLicense`).post({ addLicenses: [], removeLicenses: [audio] });
    await tenant.waitIdle();
    expect(await entries(tenant, user)).toEqual([]);
    expect(await tenant.consumed(e5)).toBe(0);
    expect(await tenant.consumed(audio)).toBe(0);
  });
});

describe('S6 — duplicate proxy address', () => {
  it('gives the second user UniquenessViolation and licenses it once its address changes', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 10 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Mailboxes');
    const alex = 'smtp:alex@contoso.com';
    const first = await tenant.createUser({ proxyAddresses: [alex] });
    const second = await tenant.createUser({ proxyAddresses: ['SMTP:Alex@Contoso.com'] });
    const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(first));
    await tenant.waitIdle();
    await tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(second));
    await tenant.waitIdle();
    expect(await entries(tenant, first)).toEqual([`${e3}/${group}/Active/None`]);
    expect(await entries(tenant, second)).toEqual([`${e3}/${group}/Error/UniquenessViolation`]);

    await tenant.graph.api(`/users/${second}`).patch({ proxyAddresses: ['smtp:alex.second@contoso.com'] });
    await tenant.waitIdle();
    expect(await entries(tenant, second)).toEqual([`${e3}/${group}/Active/None`]);
    expect(await tenant.consumed(e3)).toBe(2);
  });
});

describe('S8 — soft delete, restore, hard delete', () => {
  it('suspends and releases seats, restores them, and frees them for good on hard delete', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 1, EMS: 1 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const ems = service.catalog.skuId('EMS');
    const group = await tenant.createGroup('EMS users');
    const [user] = exactly(await tenant.importUsers(1, { memberOf: [group] }), 1);
    await tenant.graph
      .api(`/users/${user}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    await tenant.waitIdle();
    const before = await entries(tenant, user);
    expect(before).toEqual([`${e3}/null/Active/None`, `${ems}/${group}/Active/None`].sort());

    await tenant.graph.api(`/users/${user}`).delete();
    await tenant.waitIdle();
    const suspended = obj(
      await tenant.graph
        .api(`/directory/deletedItems/${user}`)
        .select('licenseAssignmentStates,assignedPlans')
        .get(),
    );
    expect(
      licenseAssignmentStateSchema
        .array()
        .parse(suspended.licenseAssignmentStates)
        .map((s) => `${s.skuId}/${s.assignedByGroup}/${s.state}`)
        .sort(),
    ).toEqual([`${e3}/null/Disabled`, `${ems}/${group}/Disabled`].sort());
    const plans = Array.isArray(suspended.assignedPlans)
      ? suspended.assignedPlans.map((p) => obj(p).capabilityStatus)
      : [];
    expect(plans.length).toBeGreaterThan(0);
    expect(new Set(plans)).toEqual(new Set(['Suspended']));
    expect([await tenant.consumed(e3), await tenant.consumed(ems)]).toEqual([0, 0]);

    await tenant.graph.api(`/directory/deletedItems/${user}/restore`).post({});
    await tenant.waitIdle();
    expect(await entries(tenant, user)).toEqual(before);
    expect([await tenant.consumed(e3), await tenant.consumed(ems)]).toEqual([1, 1]);

    await tenant.graph.api(`/users/${user}`).delete();
    await tenant.graph.api(`/directory/deletedItems/${user}`).delete();
    await tenant.waitIdle();
    await expectGraphError(
      tenant.graph.api(`/directory/deletedItems/${user}`).get(),
      404,
      'Request_ResourceNotFound',
    );
    expect([await tenant.consumed(e3), await tenant.consumed(ems)]).toEqual([0, 0]);
    const newcomer = await tenant.createUser();
    await tenant.graph
      .api(`/users/${newcomer}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    expect(await entries(tenant, newcomer)).toEqual([`${e3}/null/Active/None`]);
    expect(await tenant.seatViolations()).toEqual([]);
  });

  it('restores into CountViolation when its seat was taken meanwhile, and heals when one frees up', async () => {
    const tenant = await service.newTenant({ buy: { EMS: 1 } });
    const ems = service.catalog.skuId('EMS');
    const group = await tenant.createGroup('EMS users');
    const [user, other] = exactly(await tenant.importUsers(2), 2);
    const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });
    await tenant.graph.api(`/groups/${group}/members/$ref`).post(ref(user));
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    await tenant.waitIdle();
    await tenant.graph.api(`/users/${user}`).delete();
    await tenant.graph
      .api(`/users/${other}/assignLicense`)
      .post({ addLicenses: [{ skuId: ems }], removeLicenses: [] });
    await tenant.graph.api(`/directory/deletedItems/${user}/restore`).post({});
    await tenant.waitIdle();
    expect(await entries(tenant, user)).toEqual([`${ems}/${group}/Error/CountViolation`]);
    await tenant.graph.api(`/users/${other}/assignLicense`).post({ addLicenses: [], removeLicenses: [ems] });
    await tenant.waitIdle();
    expect(await entries(tenant, user)).toEqual([`${ems}/${group}/Active/None`]);
    expect(await tenant.seatViolations()).toEqual([]);
  });
});

describe('S9 — direct and inherited together', () => {
  it('counts one seat for two sources, keeps the group source when the direct one goes, refuses removing the inherited one', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 5 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Licensed');
    const [user] = exactly(await tenant.importUsers(1, { memberOf: [group] }), 1);
    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    await tenant.graph
      .api(`/users/${user}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    expect(await entries(tenant, user)).toEqual(
      [`${e3}/null/Active/None`, `${e3}/${group}/Active/None`].sort(),
    );
    expect((await tenant.licenses(user)).assignedLicenses).toEqual([{ skuId: e3, disabledPlans: [] }]);
    expect(await tenant.consumed(e3)).toBe(1);

    const answer = obj(
      await tenant.graph.api(`/users/${user}/assignLicense`).post({ addLicenses: [], removeLicenses: [e3] }),
    );
    expect(answer.id).toBe(user);
    expect(await entries(tenant, user)).toEqual([`${e3}/${group}/Active/None`]);
    expect(await tenant.consumed(e3)).toBe(1);

    await expectGraphError(
      tenant.graph.api(`/users/${user}/assignLicense`).post({ addLicenses: [], removeLicenses: [e3] }),
      400,
      'Request_BadRequest',
      'User license is inherited from a group membership and it cannot be removed directly from the user.',
    );
    expect(await entries(tenant, user)).toEqual([`${e3}/${group}/Active/None`]);
    expect(await tenant.consumed(e3)).toBe(1);
  });
});
