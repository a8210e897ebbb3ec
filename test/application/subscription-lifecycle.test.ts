// The subscription lifecycle (issue 20) on the in-memory ports, driven by an injected clock and the timer sweep:
// Active → Warning (units expiring soon) → Suspended (plans suspended, seats kept) → LockedOut (licenses removed
// through group jobs and principal evaluations, audited), then a renewal that brings everyone back and heals.
import { describe, expect, it } from 'vitest';
import { addMember } from '../../src/application/directory.js';
import { putSubscription } from '../../src/application/subscription-lifecycle.js';
import { sweep } from '../../src/application/sweep.js';
import { suspendedSkus } from '../../src/application/tenants.js';
import { assignUserLicenses } from '../../src/application/user-licensing.js';
import { effectiveLicenses, licenseSummary, skuCapabilityStatus } from '../../src/engine/index.js';
import { inMemoryContext, licensingTenant } from '../support/in-memory-context.js';

const END = '2027-01-01T00:00:00.000Z';
const day = (iso: string, days: number) => new Date(Date.parse(iso) + days * 86_400_000);

async function setUp() {
  let clock = new Date('2026-03-01T10:00:00.000Z');
  const ctx = inMemoryContext({ now: () => clock });
  const tenant = await licensingTenant(ctx, { seats: 3 });
  const [adele, alex] = [await tenant.user('Adele'), await tenant.user('Alex')];
  await tenant.license();
  const diego = await tenant.user('Diego', false);
  await assignUserLicenses(ctx, tenant.tenantId, diego, {
    addLicenses: [{ skuId: tenant.skuId, disabledPlans: [] }],
    removeLicenses: [],
  });
  clock = new Date('2026-03-01T11:00:00.000Z');
  const megan = await tenant.user('Megan', false);
  await addMember(ctx, tenant.tenantId, tenant.group.id, megan);
  await ctx.work();
  const subscription = async () => {
    const sub = (await ctx.tenants.partition(tenant.tenantId))?.subscriptions.get(tenant.skuId);
    if (!sub) throw new Error('no subscription');
    return sub;
  };
  const plans = async (id: string) => {
    const row = (await ctx.directory.principals(tenant.tenantId, [id])).get(id);
    const suspended = await suspendedSkus(ctx, tenant.tenantId);
    return [
      ...new Set(
        effectiveLicenses(ctx.catalog, row?.entries ?? [], suspended).assignedPlans.map(
          (p) => p.capabilityStatus,
        ),
      ),
    ];
  };
  const updates = async () =>
    (await ctx.queries.audits(tenant.tenantId, [], { top: 100 })).items.filter(
      (a) => a.activityDisplayName === 'Update subscription',
    );
  return {
    ctx,
    tenant,
    people: { adele, alex, diego, megan },
    setClock: (at: Date) => {
      clock = at;
    },
    subscription,
    plans,
    updates,
  };
}

describe('a subscription through its lifecycle', () => {
  it('goes Active → Warning → Suspended → LockedOut with the sweep’s clock, and comes back on renewal', async () => {
    const { ctx, tenant, people, setClock, subscription, plans, updates } = await setUp();
    const { adele, alex, diego, megan } = people;
    const everyone = [adele, alex, diego, megan];
    expect(await tenant.states(everyone)).toEqual([
      [adele, 'Active', 'None'],
      [alex, 'Active', 'None'],
      [diego, 'Active', 'None'],
      [megan, 'Error', 'CountViolation'],
    ]);

    // The operator gives the subscription its end date: Active, units enabled.
    await putSubscription(ctx, tenant.tenantId, tenant.skuId, { nextLifecycleDate: END });
    let sub = await subscription();
    expect(sub.lifecycle).toMatchObject({ state: 'Active', nextLifecycleDate: END });
    expect(sub.prepaidUnits).toEqual({ enabled: 3, warning: 0, suspended: 0, lockedOut: 0 });
    expect((await sweep(ctx)).subscriptionsAdvanced).toBe(0);

    // Expired: a 30-day grace, every unit "expiring soon", nothing changes for holders.
    setClock(day(END, 0));
    const [first, second] = await Promise.all([sweep(ctx), sweep(ctx)]);
    expect(first.subscriptionsAdvanced + second.subscriptionsAdvanced).toBe(1);
    sub = await subscription();
    expect(sub.lifecycle).toMatchObject({ state: 'Warning', nextLifecycleDate: day(END, 30).toISOString() });
    expect(skuCapabilityStatus(sub)).toBe('Warning');
    expect(licenseSummary(sub)).toEqual({ total: 3, assigned: 3, available: 0, expiringSoon: 3 });
    expect(await plans(adele)).toEqual(['Enabled']);
    expect(sub.lifecycleOwed).toBeUndefined();

    // Disabled: plans suspended for every holder, seats still counted, nothing granted.
    setClock(day(END, 30));
    expect((await sweep(ctx)).subscriptionsAdvanced).toBe(1);
    await ctx.work();
    sub = await subscription();
    expect(skuCapabilityStatus(sub)).toBe('Suspended');
    expect(sub.prepaidUnits).toEqual({ enabled: 0, warning: 0, suspended: 3, lockedOut: 0 });
    expect(licenseSummary(sub)).toEqual({ total: 0, assigned: 3, available: 0, expiringSoon: 0 });
    for (const holder of [adele, alex, diego]) expect(await plans(holder)).toEqual(['Suspended']);
    expect(await tenant.states(everyone)).toEqual([
      [adele, 'Active', 'None'],
      [alex, 'Active', 'None'],
      [diego, 'Active', 'None'],
      [megan, 'Error', 'CountViolation'],
    ]);
    expect((await sweep(ctx)).subscriptionsAdvanced).toBe(0);

    // Deleted: LockedOut, licenses removed from every holder (group and direct), seats given back, audited.
    setClock(day(END, 120));
    expect((await sweep(ctx)).subscriptionsAdvanced).toBe(1);
    await ctx.work();
    sub = await subscription();
    expect(skuCapabilityStatus(sub)).toBe('LockedOut');
    expect(sub.prepaidUnits).toEqual({ enabled: 0, warning: 0, suspended: 0, lockedOut: 3 });
    expect(sub.lifecycle?.nextLifecycleDate).toBeNull();
    expect(await tenant.consumed()).toBe(0);
    expect(await tenant.states([adele, alex, diego])).toEqual([
      [adele, 'Error', 'Other'],
      [alex, 'Error', 'Other'],
      [diego, 'Error', 'Other'],
    ]);
    for (const holder of everyone) expect(await plans(holder)).toEqual([]);
    const audits = await updates();
    expect(
      audits.map((a) => JSON.parse(a.targetResources[0]?.modifiedProperties[0]?.newValue ?? '')),
    ).toEqual(['LockedOut', 'Suspended', 'Warning', 'Active']);
    expect(audits[0]?.resultReason).toMatch(/removed/);
    const finished = (await ctx.queries.audits(tenant.tenantId, [], { top: 100 })).items.filter(
      (a) => a.activityDisplayName === 'Finish applying group based license to users',
    );
    // The first job gave the group its licenses; the LockedOut stage's job took them away.
    expect(finished.length).toBeGreaterThanOrEqual(2);

    // Renewal: a new end date makes it Active; licenses come back, first come first served.
    const renewedUntil = '2028-01-01T00:00:00.000Z';
    await putSubscription(ctx, tenant.tenantId, tenant.skuId, { nextLifecycleDate: renewedUntil });
    await ctx.work();
    sub = await subscription();
    expect(sub.lifecycle).toMatchObject({ state: 'Active', nextLifecycleDate: renewedUntil });
    expect(await tenant.consumed()).toBe(3);
    expect(await tenant.states(everyone)).toEqual([
      [adele, 'Active', 'None'],
      [alex, 'Active', 'None'],
      [diego, 'Active', 'None'],
      [megan, 'Error', 'CountViolation'],
    ]);
    expect(await plans(adele)).toEqual(['Enabled']);

    // Buying a unit heals the waiter.
    await putSubscription(ctx, tenant.tenantId, tenant.skuId, {
      prepaidUnits: { enabled: 4, warning: 0, suspended: 0, lockedOut: 0 },
    });
    await ctx.work();
    expect(await tenant.states([megan])).toEqual([[megan, 'Active', 'None']]);
    expect((await subscription()).prepaidUnits.enabled).toBe(4);
  });

  it('renewing a Suspended subscription with more units gives seats back and heals the waiting room', async () => {
    const { ctx, tenant, people, setClock, subscription, plans } = await setUp();
    await putSubscription(ctx, tenant.tenantId, tenant.skuId, { nextLifecycleDate: END });
    setClock(day(END, 31));
    expect((await sweep(ctx)).subscriptionsAdvanced).toBe(1);
    expect((await subscription()).lifecycle?.state).toBe('Suspended');

    await putSubscription(ctx, tenant.tenantId, tenant.skuId, {
      state: 'Active',
      nextLifecycleDate: '2028-01-01T00:00:00.000Z',
      prepaidUnits: { enabled: 4, warning: 0, suspended: 0, lockedOut: 0 },
    });
    await ctx.work();
    expect(await tenant.states([people.megan])).toEqual([[people.megan, 'Active', 'None']]);
    expect(await plans(people.adele)).toEqual(['Enabled']);
    expect(licenseSummary(await subscription())).toEqual({
      total: 4,
      assigned: 4,
      available: 0,
      expiringSoon: 0,
    });
  });

  it('keeps hand-set units working, in the stage’s bucket once the subscription has a lifecycle', async () => {
    const ctx = inMemoryContext();
    const tenant = await licensingTenant(ctx, { seats: 2 });
    const sub = await putSubscription(ctx, tenant.tenantId, tenant.skuId, {
      prepaidUnits: { enabled: 2, warning: 1, suspended: 0, lockedOut: 0 },
    });
    expect(sub.lifecycle).toBeUndefined();
    expect(sub.prepaidUnits).toEqual({ enabled: 2, warning: 1, suspended: 0, lockedOut: 0 });
    const dated = await putSubscription(ctx, tenant.tenantId, tenant.skuId, { state: 'Warning' });
    expect(dated.prepaidUnits).toEqual({ enabled: 0, warning: 3, suspended: 0, lockedOut: 0 });
    const bought = await tenant.buy(5);
    expect(bought.prepaidUnits).toEqual({ enabled: 0, warning: 5, suspended: 0, lockedOut: 0 });
    await expect(putSubscription(ctx, tenant.tenantId, 'NOT_A_SKU', { state: 'Active' })).rejects.toThrow();
  });
});
