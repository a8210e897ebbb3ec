// The what-if of a group license change through the official Graph client: POST /groups/{id}/previewLicenseAssignment
// (an extension, body as assignLicense) predicts seats and errors without writing anything, and the real
// assignment then ends as predicted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseAssignmentPreviewSchema } from '../../src/contract/graph.js';
import { exactly, expectGraphError, type Service, startService, type Tenant } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

async function preview(tenant: Tenant, groupId: string, skuIds: readonly string[]) {
  return licenseAssignmentPreviewSchema.parse(
    await tenant.graph
      .api(`/groups/${groupId}/previewLicenseAssignment`)
      .post({ addLicenses: skuIds.map((skuId) => ({ skuId })), removeLicenses: [] }),
  );
}

/** Each user's state of one SKU from the group: `Active/None`, `Error/CountViolation`, … */
async function outcomes(tenant: Tenant, users: readonly string[], skuId: string, groupId: string) {
  const found = new Map<string, string>();
  for (const id of users) {
    const entry = (await tenant.licenses(id)).licenseAssignmentStates.find(
      (s) => s.skuId === skuId && s.assignedByGroup === groupId,
    );
    found.set(id, entry ? `${entry.state}/${entry.error}` : 'none');
  }
  return found;
}

describe('previewLicenseAssignment', () => {
  it('predicts the seats short and who waits, writes nothing, and the assignment ends as predicted', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 10 } });
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const group = await tenant.createGroup('Everyone');
    const users = await tenant.importUsers(12, { memberOf: [group] });

    const predicted = await preview(tenant, group, [e3]);
    expect(predicted.membersEvaluated).toBe(12);
    expect(predicted.skus).toEqual([
      {
        skuId: e3,
        skuPartNumber: 'ENTERPRISEPACK',
        seatsNeeded: 12,
        seatsReleased: 0,
        seatsAvailable: 10,
        seatsShort: 2,
      },
    ]);
    expect(predicted.errors.CountViolation?.count).toBe(2);
    expect(predicted.otherLicensesChanged.count).toBe(0);
    // Nothing was written: no license on the group, none on its members, no seat taken.
    const shown = await tenant.graph.api(`/groups/${group}`).select('assignedLicenses').get();
    expect(shown).toMatchObject({ assignedLicenses: [] });
    expect(await tenant.consumed(e3)).toBe(0);
    for (const state of (await outcomes(tenant, users, e3, group)).values()) expect(state).toBe('none');

    await tenant.graph
      .api(`/groups/${group}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    const after = [...(await outcomes(tenant, users, e3, group)).values()];
    expect(after.filter((s) => s === 'Error/CountViolation')).toHaveLength(2);
    expect(after.filter((s) => s === 'Active/None')).toHaveLength(10);
  });

  it('predicts the members a conflicting SKU puts in MutuallyExclusiveViolation, by name', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 100, STANDARDPACK: 100 } });
    const [e3, e1] = exactly(
      ['ENTERPRISEPACK', 'STANDARDPACK'].map((p) => service.catalog.skuId(p)),
      2,
    );
    const kiosk = await tenant.createGroup('Kiosk');
    const hr = await tenant.createGroup('HR');
    const users = await tenant.importUsers(8, (i) => ({ memberOf: i < 3 ? [hr, kiosk] : [hr] }));
    const both = users.slice(0, 3);
    await tenant.graph
      .api(`/groups/${kiosk}/assignLicense`)
      .post({ addLicenses: [{ skuId: e1 }], removeLicenses: [] });
    await tenant.waitIdle();

    const predicted = await preview(tenant, hr, [e3]);
    expect(predicted.membersEvaluated).toBe(8);
    expect(predicted.errors.MutuallyExclusiveViolation?.count).toBe(3);
    expect([...(predicted.errors.MutuallyExclusiveViolation?.sample ?? [])].sort()).toEqual([...both].sort());
    expect(predicted.skus.find((s) => s.skuId === e3)).toMatchObject({ seatsNeeded: 5, seatsShort: 0 });

    await tenant.graph
      .api(`/groups/${hr}/assignLicense`)
      .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
    await tenant.waitIdle();
    const after = await outcomes(tenant, users, e3, hr);
    const refused = [...after].filter(([, s]) => s === 'Error/MutuallyExclusiveViolation').map(([id]) => id);
    expect(refused.sort()).toEqual([...both].sort());
  });

  it('refuses what assignLicense refuses', async () => {
    const tenant = await service.newTenant();
    const group = await tenant.createGroup('Nobody');
    await expectGraphError(
      tenant.graph
        .api(`/groups/${group}/previewLicenseAssignment`)
        .post({ addLicenses: [{ skuId: service.catalog.skuId('ENTERPRISEPACK') }], removeLicenses: [] }),
      400,
      'Request_BadRequest',
    );
  });
});
