import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import {
  availableUnits,
  CountingSeatBudget,
  GivenHoldersSeatBudget,
  totalUnits,
} from '../../src/engine/seats.js';
import { PLAN, SKU, testCatalog } from './support/catalog.js';
import { userId } from './support/ids.js';
import { units } from './support/tenant.js';

// rules.md §1 (subscriptions and their numbers) and the catalog rules that §3 reads.

describe('the catalog index', () => {
  it('finds SKUs by id and by part number in any case, and names plans', () => {
    expect(testCatalog.sku(SKU.BASIC)?.skuPartNumber).toBe('BASIC');
    expect(testCatalog.skuByPartNumber('premium')?.skuId).toBe(SKU.PREMIUM);
    expect(testCatalog.sku('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(testCatalog.planName(PLAN.MEET)).toBe('MEET');
  });

  it('knows mailbox plans, exclusions both ways, prerequisites and prohibitions', () => {
    expect(testCatalog.isMailboxPlan(PLAN.MAIL_ENT)).toBe(true);
    expect(testCatalog.isMailboxPlan(PLAN.DOCS)).toBe(false);
    expect([...testCatalog.exclusionsOf(PLAN.MAIL_STD)]).toEqual([PLAN.MAIL_ENT]);
    expect([...testCatalog.exclusionsOf(PLAN.MAIL_ENT)]).toEqual([PLAN.MAIL_STD]);
    expect([...testCatalog.exclusionsOf(PLAN.DOCS)]).toEqual([]);
    expect(testCatalog.prerequisitesOf(PLAN.MEET)).toEqual([PLAN.CHAT]);
    expect(testCatalog.prerequisitesOf(PLAN.CHAT)).toBeUndefined();
  });

  it.each([
    { plan: PLAN.DOCS, country: 'IR', prohibited: true },
    { plan: PLAN.DOCS, country: 'kp', prohibited: true },
    { plan: PLAN.DOCS, country: 'CN', prohibited: false },
    { plan: PLAN.GUARD, country: 'cn', prohibited: true },
    { plan: PLAN.GUARD, country: 'RU', prohibited: true },
    { plan: PLAN.GUARD, country: 'US', prohibited: false },
  ])('plan $plan in $country is prohibited: $prohibited', (row) => {
    expect(testCatalog.isProhibitedIn(row.plan, row.country)).toBe(row.prohibited);
  });

  it('a SKU’s enabled plans are its plans minus the disabled ones, in catalog order', () => {
    expect(testCatalog.enabledPlans(SKU.BASIC, [])).toEqual([
      PLAN.MAIL_STD,
      PLAN.DOCS,
      PLAN.CHAT,
      PLAN.SITES_STD,
    ]);
    expect(testCatalog.enabledPlans(SKU.BASIC, [PLAN.CHAT, PLAN.MAIL_STD])).toEqual([
      PLAN.DOCS,
      PLAN.SITES_STD,
    ]);
    expect(testCatalog.enabledPlans('00000000-0000-0000-0000-000000000000', [])).toEqual([]);
  });

  it('the shipped catalog loads and states the rules the scenarios rely on', () => {
    const catalog = loadCatalog();
    const e3 = catalog.skuByPartNumber('ENTERPRISEPACK');
    const audio = catalog.skuByPartNumber('MCOMEETADV');
    expect(e3?.skuId).toBe('6fd2c87f-b296-42f0-b197-1e91e994b900');
    expect(catalog.skuByPartNumber('OFFICE_PROPLUS_DEVICE1')?.assignableTo).toBe('device');
    // MCOMEETADV needs MCOSTANDARD (S5); EXCHANGE_S_STANDARD and EXCHANGE_S_ENTERPRISE exclude each other (S2).
    expect(catalog.prerequisitesOf(audio?.planIds[0] ?? '')).toEqual([
      '0feaeb32-d00e-4d66-bd5a-43b5b83db82c',
    ]);
    expect(
      catalog
        .exclusionsOf('9aaf7827-d63c-4b61-89c3-182f06f82e5c')
        .has('efb87545-963c-4e0d-99df-69c6916d9eb0'),
    ).toBe(true);
  });
});

describe('subscription numbers (rules.md §1)', () => {
  it('Total is enabled plus warning units; suspended and locked-out units do not count', () => {
    expect(totalUnits({ enabled: 10, warning: 5, suspended: 7, lockedOut: 3 })).toBe(15);
  });

  it.each([
    { enabled: 10, warning: 0, consumed: 4, available: 6 },
    { enabled: 10, warning: 2, consumed: 12, available: 0 },
    { enabled: 5, warning: 0, consumed: 8, available: 0 },
  ])('Available of $enabled+$warning units with $consumed consumed is $available', (row) => {
    const subscription = {
      skuId: SKU.BASIC,
      prepaidUnits: units(row.enabled, row.warning),
      consumedUnits: row.consumed,
    };
    expect(availableUnits(subscription)).toBe(row.available);
  });
});

describe('seat budgets', () => {
  it('a counting budget takes all of a source’s seats or none', () => {
    const budget = CountingSeatBudget.fromSubscriptions([
      { skuId: SKU.BASIC, prepaidUnits: units(2), consumedUnits: 1 },
      { skuId: SKU.SECURITY, prepaidUnits: units(1), consumedUnits: 1 },
    ]);
    expect(budget.tryTake([SKU.BASIC, SKU.SECURITY], userId(1))).toBe(false);
    expect(budget.available(SKU.BASIC)).toBe(1);
    expect(budget.tryTake([SKU.BASIC], userId(1))).toBe(true);
    expect(budget.available(SKU.BASIC)).toBe(0);
    expect(budget.netTaken().get(SKU.BASIC)).toBe(1);
    expect(budget.available(SKU.CHATONLY)).toBe(0);
  });

  it('a given-holders budget grants exactly the known holders of every SKU asked for', () => {
    const budget = new GivenHoldersSeatBudget(
      new Map([
        [SKU.BASIC, new Set([userId(1), userId(2)])],
        [SKU.SECURITY, new Set([userId(2)])],
      ]),
    );
    expect(budget.tryTake([SKU.BASIC], userId(1))).toBe(true);
    expect(budget.tryTake([SKU.BASIC, SKU.SECURITY], userId(1))).toBe(false);
    expect(budget.tryTake([SKU.BASIC, SKU.SECURITY], userId(2))).toBe(true);
    expect(budget.tryTake([SKU.CHATONLY], userId(2))).toBe(false);
    budget.release();
    expect(budget.tryTake([SKU.BASIC], userId(1))).toBe(true);
  });
});
