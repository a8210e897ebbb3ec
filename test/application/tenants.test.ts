// The tenant use cases (src/application/tenants.ts) on the in-memory ports: no Azurite, so every branch — healing
// wake-ups, refusals, optimistic retries — is checked in milliseconds. The Table adapter keeps the same contract
// (test/storage/tenant-store.test.ts).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NotFoundError, RefusedError } from '../../src/application/errors.js';
import {
  createTenant,
  getTenant,
  listSubscriptions,
  listTenants,
  setSubscription,
  type TenantPorts,
  tenantExists,
  updateTenant,
} from '../../src/application/tenants.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { InMemoryTenantStore, RecordingQueues } from '../support/in-memory-stores.js';

const catalog = loadCatalog();
const [e3, ems] = catalog.skus;
if (!e3 || !ems) throw new Error('the catalog needs two SKUs');
const units = (enabled: number) => ({ enabled, warning: 0, suspended: 0, lockedOut: 0 });

function ports(): TenantPorts & { queues: RecordingQueues; tenants: InMemoryTenantStore } {
  let now = Date.parse('2026-03-01T10:00:00.000Z');
  const tick = (): Date => {
    now += 1000;
    return new Date(now);
  };
  return {
    tenants: new InMemoryTenantStore(),
    queues: new RecordingQueues(),
    catalog,
    // Each reading a second later: records show the order things happened in.
    now: tick,
  };
}

const healedSkus = (queues: RecordingQueues) =>
  queues
    .to('heal')
    .map((m) => (m as { skuId: string }).skuId)
    .sort();

describe('tenants', () => {
  it('creates a tenant with the country upper-cased, automatic healing by default and its own client state', async () => {
    const ctx = ports();
    const one = await createTenant(ctx, { displayName: 'Contoso', countryLetterCode: 'us' });
    const two = await createTenant(ctx, {
      displayName: 'Fabrikam',
      countryLetterCode: 'GB',
      licenseErrorHealing: 'manual',
    });
    expect(one).toMatchObject({
      displayName: 'Contoso',
      countryLetterCode: 'US',
      licenseErrorHealing: 'automatic',
    });
    expect(two.licenseErrorHealing).toBe('manual');
    expect(one.clientState).not.toBe(two.clientState);
    expect(one.clientState.length).toBeGreaterThanOrEqual(32);
    expect(await tenantExists(ctx, one.id)).toBe(true);
    expect(await tenantExists(ctx, randomUUID())).toBe(false);
    await expect(getTenant(ctx, randomUUID())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('wakes every SKU’s waiting room when healing is switched to automatic, and only then', async () => {
    const ctx = ports();
    const tenant = await createTenant(ctx, {
      displayName: 'Contoso',
      countryLetterCode: 'US',
      licenseErrorHealing: 'manual',
    });
    await setSubscription(ctx, tenant.id, e3.skuId, units(5));
    await setSubscription(ctx, tenant.id, ems.skuPartNumber, units(5));
    expect(ctx.queues.to('heal')).toEqual([]); // manual healing: buying wakes nobody

    const renamed = await updateTenant(ctx, tenant.id, {
      displayName: 'Contoso Ltd',
      countryLetterCode: 'gb',
    });
    expect(renamed).toMatchObject({
      displayName: 'Contoso Ltd',
      countryLetterCode: 'GB',
      licenseErrorHealing: 'manual',
    });
    expect(ctx.queues.to('heal')).toEqual([]);

    await updateTenant(ctx, tenant.id, { licenseErrorHealing: 'automatic' });
    expect(healedSkus(ctx.queues)).toEqual([e3.skuId, ems.skuId].sort());
    await updateTenant(ctx, tenant.id, { licenseErrorHealing: 'automatic' });
    expect(ctx.queues.to('heal')).toHaveLength(2); // already automatic: nothing new to wake
  });

  it('buys units by SKU id or part number, keeps what is consumed, and wakes waiters only for more units', async () => {
    const ctx = ports();
    const tenant = await createTenant(ctx, { displayName: 'Contoso', countryLetterCode: 'US' });
    const bought = await setSubscription(ctx, tenant.id, e3.skuId.toUpperCase(), units(10));
    expect(bought).toMatchObject({ skuId: e3.skuId, prepaidUnits: units(10), consumedUnits: 0 });
    expect(healedSkus(ctx.queues)).toEqual([e3.skuId]);

    // Seats consumed meanwhile (the seat ledger's business) are kept when units change.
    const partition = await ctx.tenants.partition(tenant.id);
    const current = partition?.subscriptions.get(e3.skuId);
    if (!current) throw new Error('not bought');
    await ctx.tenants.saveSubscription(tenant.id, { ...current, consumedUnits: 7 });

    const lowered = await setSubscription(ctx, tenant.id, e3.skuPartNumber, units(4));
    expect(lowered).toMatchObject({
      prepaidUnits: units(4),
      consumedUnits: 7,
      createdDateTime: bought.createdDateTime,
    });
    expect(ctx.queues.to('heal')).toHaveLength(1); // fewer units revoke nothing and wake nobody (rules.md §1)
    await setSubscription(ctx, tenant.id, e3.skuId, units(20));
    expect(ctx.queues.to('heal')).toHaveLength(2);
    expect((await listSubscriptions(ctx, tenant.id)).map((s) => s.prepaidUnits.enabled)).toEqual([20]);
  });

  it('refuses a SKU the catalog does not know, and a tenant that does not exist', async () => {
    const ctx = ports();
    const tenant = await createTenant(ctx, { displayName: 'Contoso', countryLetterCode: 'US' });
    const refusal = await setSubscription(ctx, tenant.id, 'NOT_A_SKU', units(1)).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(RefusedError);
    expect((refusal as RefusedError).refusal).toEqual({ code: 'SkuNotInCatalog', sku: 'NOT_A_SKU' });
    await expect(setSubscription(ctx, randomUUID(), e3.skuId, units(1))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(listSubscriptions(ctx, randomUUID())).rejects.toBeInstanceOf(NotFoundError);
    expect(await listSubscriptions(ctx, tenant.id)).toEqual([]);
  });

  it('lists subscriptions in SKU id order', async () => {
    const ctx = ports();
    const tenant = await createTenant(ctx, { displayName: 'Contoso', countryLetterCode: 'US' });
    for (const sku of [...catalog.skus].reverse()) await setSubscription(ctx, tenant.id, sku.skuId, units(1));
    const ids = (await listSubscriptions(ctx, tenant.id)).map((s) => s.skuId);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toHaveLength(catalog.skus.length);
  });

  it('loses no concurrent change: racing renames and purchases retry on the ETag and all land', async () => {
    const ctx = ports();
    const tenant = await createTenant(ctx, { displayName: 'Contoso', countryLetterCode: 'US' });
    await Promise.all([
      updateTenant(ctx, tenant.id, { displayName: 'Renamed' }),
      updateTenant(ctx, tenant.id, { licenseErrorHealing: 'manual' }),
      setSubscription(ctx, tenant.id, e3.skuId, units(3)),
      setSubscription(ctx, tenant.id, ems.skuId, units(4)),
    ]);
    const after = await getTenant(ctx, tenant.id);
    expect(after).toMatchObject({ displayName: 'Renamed', licenseErrorHealing: 'manual' });
    expect((await listSubscriptions(ctx, tenant.id)).map((s) => s.prepaidUnits.enabled).sort()).toEqual([
      3, 4,
    ]);
  });

  it('lists tenants by displayName, and says when the cap left some out', async () => {
    const ctx = ports();
    for (const displayName of ['b', 'C', 'a', 'B 10', 'B 9']) {
      await createTenant(ctx, { displayName, countryLetterCode: 'US' });
    }
    const all = await listTenants(ctx);
    expect(all.truncated).toBe(false);
    expect(all.tenants.map((t) => t.displayName)).toEqual(['a', 'b', 'B 9', 'B 10', 'C']);
    const capped = await listTenants(ctx, 3);
    expect(capped.truncated).toBe(true);
    expect(capped.tenants).toHaveLength(3);
    expect(await listTenants(ctx, 5)).toMatchObject({ truncated: false });
  });
});
