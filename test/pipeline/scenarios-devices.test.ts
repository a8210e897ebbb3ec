import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StorageContext } from '../../src/application/context.js';
import { addMember, createDevice, createGroup } from '../../src/application/directory.js';
import { LicensingRefusedError } from '../../src/application/errors.js';
import { assignGroupLicenses } from '../../src/application/group-licensing.js';
import { listSubscriptions } from '../../src/application/tenants.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import { buy, importUsers, invariantViolations, newTenant, usePipeline, waitIdle } from './support.js';

const pipeline = usePipeline();

async function devices(ctx: StorageContext, tenantId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const device = await createDevice(ctx, tenantId, {
      displayName: `LAB-${i}`,
      accountEnabled: true,
      device: {
        deviceId: randomUUID(),
        operatingSystem: 'Windows',
        operatingSystemVersion: '10.0.19045',
        alternativeSecurityIds: [],
      },
    });
    ids.push(device.id);
  }
  return ids;
}

async function state(ctx: StorageContext, tenantId: string, id: string): Promise<string> {
  const record = await readPrincipal(ctx.tables, tenantId, id);
  return (record?.entries ?? [])
    .map((e) => `${e.state}/${e.error}@${e.assignedByGroup?.slice(0, 8)}`)
    .join(',');
}

describe('S7 — device licenses (seed 000)', () => {
  it('licenses devices through nested groups, one group per SKU, moves and unassigns', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const sku = await buy(ctx, tenantId, 'OFFICE_PROPLUS_DEVICE1', 50);
    const lab = await createGroup(ctx, tenantId, {
      displayName: 'Lab devices',
      mailNickname: 'lab',
      securityEnabled: true,
      mailEnabled: false,
    });
    const nested = await createGroup(ctx, tenantId, {
      displayName: 'Lab annex',
      mailNickname: 'annex',
      securityEnabled: true,
      mailEnabled: false,
    });
    const kiosks = await createGroup(ctx, tenantId, {
      displayName: 'Kiosks',
      mailNickname: 'kiosks',
      securityEnabled: true,
      mailEnabled: false,
    });
    const direct = await devices(ctx, tenantId, 40);
    const annex = await devices(ctx, tenantId, 20);
    const users = await importUsers(ctx, tenantId, 10, { memberOf: [lab.id] });
    for (const id of direct) await addMember(ctx, tenantId, lab.id, id);
    for (const id of annex) await addMember(ctx, tenantId, nested.id, id);
    await addMember(ctx, tenantId, lab.id, nested.id);
    await waitIdle(ctx, tenantId);

    await assignGroupLicenses(ctx, tenantId, lab.id, {
      addLicenses: [{ skuId: sku, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    const all = [...direct, ...annex];
    const outcomes = await Promise.all(all.map((id) => state(ctx, tenantId, id)));
    expect(outcomes.filter((s) => s.startsWith('Active/None')).length).toBe(50);
    expect(outcomes.filter((s) => s.startsWith('Error/CountViolation')).length).toBe(10);
    for (const id of users) expect(await state(ctx, tenantId, id)).toBe('');
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);

    await expect(
      assignGroupLicenses(ctx, tenantId, kiosks.id, {
        addLicenses: [{ skuId: sku, disabledPlans: [] }],
        removeLicenses: [],
      }),
    ).rejects.toBeInstanceOf(LicensingRefusedError);

    // Move: unassign from Lab devices, assign to Kiosks (which holds 5 of the lab devices and 3 of its own).
    const own = await devices(ctx, tenantId, 3);
    for (const id of [...direct.slice(0, 5), ...own]) await addMember(ctx, tenantId, kiosks.id, id);
    await waitIdle(ctx, tenantId);
    await assignGroupLicenses(ctx, tenantId, lab.id, { addLicenses: [], removeLicenses: [sku] });
    await assignGroupLicenses(ctx, tenantId, kiosks.id, {
      addLicenses: [{ skuId: sku, disabledPlans: [] }],
      removeLicenses: [],
    });
    await waitIdle(ctx, tenantId);
    for (const id of [...direct.slice(0, 5), ...own])
      expect(await state(ctx, tenantId, id)).toMatch(/^Active\/None/);
    for (const id of [...direct.slice(5), ...annex]) expect(await state(ctx, tenantId, id)).toBe('');
    expect((await listSubscriptions(ctx, tenantId)).find((s) => s.skuId === sku)?.consumedUnits).toBe(8);

    await assignGroupLicenses(ctx, tenantId, kiosks.id, { addLicenses: [], removeLicenses: [sku] });
    await waitIdle(ctx, tenantId);
    expect((await listSubscriptions(ctx, tenantId)).find((s) => s.skuId === sku)?.consumedUnits).toBe(0);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});
