import { describe, expect, it } from 'vitest';
import { effectiveLicenses } from '../../src/engine/effective.js';
import type { Subscription, SubscriptionLifecycle } from '../../src/engine/model.js';
import {
  advanceLifecycle,
  isSubscriptionUsable,
  licenseSummary,
  nextStage,
  STAGE_DAYS,
  skuCapabilityStatus,
  suspendedSkuIds,
  unitsBought,
  unitsInStage,
} from '../../src/engine/subscriptions.js';
import { entry } from './support/builders.js';
import { SKU, testCatalog } from './support/catalog.js';

// Issue 20: a subscription's lifecycle, Active → Warning (30 days) → Suspended (90 days) → LockedOut.

const START = '2026-01-01T00:00:00.000Z';
const END = '2027-01-01T00:00:00.000Z';
const day = (iso: string, days: number) => new Date(Date.parse(iso) + days * 86_400_000).toISOString();
const active: SubscriptionLifecycle = { state: 'Active', startDate: START, nextLifecycleDate: END };
const sub = (lifecycle: SubscriptionLifecycle | undefined, units = 10, consumedUnits = 4): Subscription => ({
  skuId: SKU.BASIC,
  prepaidUnits: lifecycle ? unitsInStage(units, lifecycle.state) : unitsInStage(units, 'Active'),
  consumedUnits,
  ...(lifecycle ? { lifecycle } : {}),
});

describe('advanceLifecycle', () => {
  it('stays put before the date, and for ever without one', () => {
    expect(advanceLifecycle(active, day(END, -1))).toEqual(active);
    const open = { ...active, nextLifecycleDate: null };
    expect(advanceLifecycle(open, day(END, 10_000))).toEqual(open);
  });

  it('walks every stage with Microsoft’s default lengths', () => {
    expect(STAGE_DAYS).toEqual({ Warning: 30, Suspended: 90 });
    const warning = advanceLifecycle(active, END);
    expect(warning).toEqual({ state: 'Warning', startDate: START, nextLifecycleDate: day(END, 30) });
    expect(advanceLifecycle(warning, day(END, 29))).toEqual(warning);
    const suspended = advanceLifecycle(warning, day(END, 30));
    expect(suspended).toEqual({ state: 'Suspended', startDate: START, nextLifecycleDate: day(END, 120) });
    const lockedOut = advanceLifecycle(suspended, day(END, 120));
    expect(lockedOut).toEqual({ state: 'LockedOut', startDate: START, nextLifecycleDate: null });
    expect(advanceLifecycle(lockedOut, day(END, 999))).toEqual(lockedOut);
  });

  it('lands where the calendar says after a long gap, and is idempotent', () => {
    const late = day(END, 45);
    const advanced = advanceLifecycle(active, late);
    expect(advanced.state).toBe('Suspended');
    expect(advanced.nextLifecycleDate).toBe(day(END, 120));
    expect(advanceLifecycle(advanced, late)).toEqual(advanced);
    expect(advanceLifecycle(active, day(END, 500)).state).toBe('LockedOut');
  });

  it('a LockedOut subscription given a date stays LockedOut (no stage after it)', () => {
    const stuck: SubscriptionLifecycle = { state: 'LockedOut', startDate: START, nextLifecycleDate: END };
    expect(advanceLifecycle(stuck, day(END, 1))).toEqual(stuck);
    expect(nextStage('LockedOut')).toBeUndefined();
    expect(nextStage('Active')).toBe('Warning');
  });
});

describe('what each stage shows', () => {
  it('puts every unit in the stage’s bucket', () => {
    expect(unitsInStage(7, 'Active')).toEqual({ enabled: 7, warning: 0, suspended: 0, lockedOut: 0 });
    expect(unitsInStage(7, 'Warning')).toEqual({ enabled: 0, warning: 7, suspended: 0, lockedOut: 0 });
    expect(unitsInStage(7, 'Suspended')).toEqual({ enabled: 0, warning: 0, suspended: 7, lockedOut: 0 });
    expect(unitsInStage(7, 'LockedOut')).toEqual({ enabled: 0, warning: 0, suspended: 0, lockedOut: 7 });
    expect(unitsBought({ enabled: 1, warning: 2, suspended: 3, lockedOut: 4 })).toBe(10);
  });

  it('gives Graph’s capabilityStatus and the Licenses page’s numbers', () => {
    const at = (state: SubscriptionLifecycle['state']) => sub({ ...active, state });
    expect(skuCapabilityStatus(at('Active'))).toBe('Enabled');
    expect(skuCapabilityStatus(at('Warning'))).toBe('Warning');
    expect(skuCapabilityStatus(at('Suspended'))).toBe('Suspended');
    expect(skuCapabilityStatus(at('LockedOut'))).toBe('LockedOut');
    expect(licenseSummary(at('Active'))).toEqual({ total: 10, assigned: 4, available: 6, expiringSoon: 0 });
    expect(licenseSummary(at('Warning'))).toEqual({ total: 10, assigned: 4, available: 6, expiringSoon: 10 });
    // Suspended: seats still counted, none to give.
    expect(licenseSummary(at('Suspended'))).toEqual({ total: 0, assigned: 4, available: 0, expiringSoon: 0 });
    expect(licenseSummary(at('LockedOut'))).toEqual({ total: 0, assigned: 4, available: 0, expiringSoon: 0 });
  });

  it('keeps units set by hand as they were', () => {
    expect(skuCapabilityStatus(sub(undefined))).toBe('Enabled');
    expect(skuCapabilityStatus(sub(undefined, 0, 0))).toBe('Suspended');
    expect(isSubscriptionUsable(sub(undefined))).toBe(true);
  });

  it('keeps holders in every stage but LockedOut', () => {
    expect(isSubscriptionUsable(undefined)).toBe(false);
    expect(isSubscriptionUsable(sub({ ...active, state: 'Suspended' }))).toBe(true);
    expect(isSubscriptionUsable(sub({ ...active, state: 'LockedOut' }))).toBe(false);
  });

  it('suspends the plans of a Suspended subscription’s holders', () => {
    const subs = [sub({ ...active, state: 'Suspended' }), { ...sub(active), skuId: SKU.SECURITY }];
    const suspended = suspendedSkuIds(subs);
    expect([...suspended]).toEqual([SKU.BASIC]);
    const entries = [entry(SKU.BASIC, null, 'Active'), entry(SKU.SECURITY, null, 'Active')];
    const plans = effectiveLicenses(testCatalog, entries, suspended).assignedPlans;
    expect(new Set(plans.filter((p) => p.skuId === SKU.BASIC).map((p) => p.capabilityStatus))).toEqual(
      new Set(['Suspended']),
    );
    expect(new Set(plans.filter((p) => p.skuId === SKU.SECURITY).map((p) => p.capabilityStatus))).toEqual(
      new Set(['Enabled']),
    );
  });
});
