// The Graph wire contract (src/contract/graph.ts) against what is served: each resource read with every property
// selected has exactly the contract's properties, each of the contract's shape, and every collection, the
// extension's details and the error envelope parse with it. The builders are typed by the contract; this checks the
// paths the compiler cannot see (projection, stored values, the HTTP adapter).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  collectionSchema,
  deviceSchema,
  directoryAuditSchema,
  directoryObjectSchema,
  graphErrorSchema,
  groupSchema,
  licenseDetailsSchema,
  licenseProcessingDetailsSchema,
  subscribedSkuSchema,
  userSchema,
} from '../../src/contract/graph.js';
import { type HttpResult, type Service, startService } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

/** A single entity carries the resource's properties and its `@odata.context`, nothing else. */
const context = { '@odata.context': z.string() };

const all = (schema: z.ZodObject) => Object.keys(schema.shape).join(',');

describe('the Graph wire contract', () => {
  it('describes every resource the service sends, property for property', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 5, OFFICE_PROPLUS_DEVICE1: 5 } });
    const get = async (path: string): Promise<unknown> => tenant.graph.api(path).get();

    const userId = await tenant.createUser();
    const groupId = await tenant.createGroup(`Contract ${randomUUID().slice(0, 6)}`);
    const devicesGroupId = await tenant.createGroup(`Contract devices ${randomUUID().slice(0, 6)}`);
    const device = userSchema.pick({ id: true }).parse(
      await tenant.graph.api('/devices').post({
        accountEnabled: true,
        alternativeSecurityIds: [{ type: 2, identityProvider: null, key: 'Y3YxN2E1MWFlYw==' }],
        deviceId: randomUUID(),
        displayName: 'Contract PC',
        operatingSystem: 'Windows',
        operatingSystemVersion: '10.0.22631',
      }),
    );
    for (const [group, member] of [
      [groupId, userId],
      [groupId, device.id],
      [devicesGroupId, device.id],
    ] as const) {
      await tenant.graph
        .api(`/groups/${group}/members/$ref`)
        .post({ '@odata.id': `${service.graphRoot}/directoryObjects/${member}` });
    }
    const skus = collectionSchema(subscribedSkuSchema).parse(await get('/subscribedSkus')).value;
    for (const [group, partNumber] of [
      [groupId, 'ENTERPRISEPACK'],
      [devicesGroupId, 'OFFICE_PROPLUS_DEVICE1'],
    ] as const) {
      const sku = skus.find((s) => s.skuPartNumber === partNumber);
      if (!sku) throw new Error(`no subscription of ${partNumber}`);
      await tenant.graph
        .api(`/groups/${group}/assignLicense`)
        .post({ addLicenses: [{ skuId: sku.skuId, disabledPlans: [] }], removeLicenses: [] });
    }
    await tenant.waitIdle();

    const user = userSchema
      .extend(context)
      .strict()
      .parse(await get(`/users/${userId}?$select=${all(userSchema)}`));
    expect(user.licenseAssignmentStates.length).toBeGreaterThan(0);
    expect(user.assignedPlans.length).toBeGreaterThan(0);
    const group = groupSchema
      .extend(context)
      .strict()
      .parse(await get(`/groups/${groupId}?$select=${all(groupSchema)}`));
    expect(group.assignedLicenses).toHaveLength(1);
    const read = deviceSchema
      .extend(context)
      .strict()
      .parse(await get(`/devices/${device.id}?$select=${all(deviceSchema)}`));
    expect(read.licenseAssignmentStates.length).toBeGreaterThan(0);
    expect(read.alternativeSecurityIds).toEqual([
      { type: 2, identityProvider: null, key: 'Y3YxN2E1MWFlYw==' },
    ]);

    // Collections: the defaults, every page annotation, and items of mixed types.
    collectionSchema(userSchema.strict()).parse(await get(`/users?$select=${all(userSchema)}`));
    collectionSchema(groupSchema.strict()).parse(await get(`/groups?$select=${all(groupSchema)}`));
    collectionSchema(deviceSchema.strict()).parse(await get(`/devices?$select=${all(deviceSchema)}`));
    const members = collectionSchema(directoryObjectSchema).parse(await get(`/groups/${groupId}/members`));
    expect(members.value.map((m) => m['@odata.type']).sort()).toEqual([
      '#microsoft.graph.device',
      '#microsoft.graph.user',
    ]);
    const details = collectionSchema(licenseDetailsSchema.strict()).parse(
      await get(`/users/${userId}/licenseDetails`),
    );
    expect(details.value.length).toBeGreaterThan(0);
    const audits = collectionSchema(directoryAuditSchema.strict()).parse(
      await get('/auditLogs/directoryAudits'),
    );
    expect(audits.value.length).toBeGreaterThan(0);
    collectionSchema(subscribedSkuSchema.strict()).parse(await get('/subscribedSkus'));
    licenseProcessingDetailsSchema
      .extend(context)
      .strict()
      .parse(await get(`/groups/${groupId}/licenseProcessingDetails`));

    const missing: HttpResult = await service.graphRaw('GET', `/users/${randomUUID()}`, {
      headers: { authorization: `Bearer ${tenant.token}` },
    });
    expect(missing.status).toBe(404);
    graphErrorSchema.strict().parse(missing.json);
  });
});
