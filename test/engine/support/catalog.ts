import { parseCatalog } from '../../../src/catalog/load.js';
import { Catalog, type CatalogData } from '../../../src/engine/catalog.js';
import { planGuid, skuGuid } from './ids.js';

/**
 * A small synthetic catalog for rule tables: few plans with readable names, each rule of rules.md represented once
 * or twice, so a test can say which plan triggers which rule without reading 500 GUIDs.
 */
export const PLAN = {
  /** Mailbox plan (uniqueness), mutually exclusive with MAIL_ENT. */
  MAIL_STD: planGuid(1),
  /** Mailbox plan, mutually exclusive with MAIL_STD. */
  MAIL_ENT: planGuid(2),
  DOCS: planGuid(3),
  /** Prerequisite of MEET. */
  CHAT: planGuid(4),
  /** Needs CHAT. */
  MEET: planGuid(5),
  /** Prohibited in CN and RU (on top of the all-plan prohibitions IR and KP). */
  GUARD: planGuid(6),
  /** Mutually exclusive with SITES_ENT. */
  SITES_STD: planGuid(7),
  SITES_ENT: planGuid(8),
  /** Device plan. */
  APPS: planGuid(9),
  /** Second device plan. */
  KIOSK_APPS: planGuid(10),
  /** Needs MAIL_STD or MAIL_ENT. */
  ANALYTICS: planGuid(11),
} as const;

export const SKU = {
  /** MAIL_STD, DOCS, CHAT, SITES_STD. */
  BASIC: skuGuid(1),
  /** MAIL_ENT, DOCS, CHAT, SITES_ENT, MEET, GUARD: carries MEET together with its prerequisite. */
  PREMIUM: skuGuid(2),
  /** MEET alone: needs CHAT from elsewhere. */
  MEETING: skuGuid(3),
  /** GUARD, DOCS. */
  SECURITY: skuGuid(4),
  /** CHAT alone. */
  CHATONLY: skuGuid(5),
  /** ANALYTICS alone: needs a mailbox plan. */
  INSIGHTS: skuGuid(6),
  /** Device SKU: APPS. */
  DEVICE_APPS: skuGuid(7),
  /** Second device SKU: KIOSK_APPS. */
  DEVICE_KIOSK: skuGuid(8),
} as const;

const plan = (name: keyof typeof PLAN) => ({ servicePlanId: PLAN[name], servicePlanName: name });

export const TEST_CATALOG_DATA: CatalogData = parseCatalog({
  skus: [
    {
      skuId: SKU.BASIC,
      skuPartNumber: 'BASIC',
      displayName: 'Basic',
      assignableTo: 'user',
      servicePlans: [plan('MAIL_STD'), plan('DOCS'), plan('CHAT'), plan('SITES_STD')],
    },
    {
      skuId: SKU.PREMIUM,
      skuPartNumber: 'PREMIUM',
      displayName: 'Premium',
      assignableTo: 'user',
      servicePlans: [
        plan('MAIL_ENT'),
        plan('DOCS'),
        plan('CHAT'),
        plan('SITES_ENT'),
        plan('MEET'),
        plan('GUARD'),
      ],
    },
    {
      skuId: SKU.MEETING,
      skuPartNumber: 'MEETING',
      displayName: 'Meeting',
      assignableTo: 'user',
      servicePlans: [plan('MEET')],
    },
    {
      skuId: SKU.SECURITY,
      skuPartNumber: 'SECURITY',
      displayName: 'Security',
      assignableTo: 'user',
      servicePlans: [plan('GUARD'), plan('DOCS')],
    },
    {
      skuId: SKU.CHATONLY,
      skuPartNumber: 'CHATONLY',
      displayName: 'Chat only',
      assignableTo: 'user',
      servicePlans: [plan('CHAT')],
    },
    {
      skuId: SKU.INSIGHTS,
      skuPartNumber: 'INSIGHTS',
      displayName: 'Insights',
      assignableTo: 'user',
      servicePlans: [plan('ANALYTICS')],
    },
    {
      skuId: SKU.DEVICE_APPS,
      skuPartNumber: 'DEVICE_APPS',
      displayName: 'Apps (device)',
      assignableTo: 'device',
      servicePlans: [plan('APPS')],
    },
    {
      skuId: SKU.DEVICE_KIOSK,
      skuPartNumber: 'DEVICE_KIOSK',
      displayName: 'Kiosk apps (device)',
      assignableTo: 'device',
      servicePlans: [plan('KIOSK_APPS')],
    },
  ],
  rules: {
    mailboxPlans: [PLAN.MAIL_STD, PLAN.MAIL_ENT],
    mutuallyExclusive: [
      [PLAN.MAIL_STD, PLAN.MAIL_ENT],
      [PLAN.SITES_STD, PLAN.SITES_ENT],
    ],
    dependencies: [
      { servicePlanId: PLAN.MEET, requiresAnyOf: [PLAN.CHAT] },
      { servicePlanId: PLAN.ANALYTICS, requiresAnyOf: [PLAN.MAIL_STD, PLAN.MAIL_ENT] },
    ],
    prohibitedUsageLocations: {
      allPlans: ['IR', 'KP'],
      byPlan: [{ servicePlanId: PLAN.GUARD, countries: ['CN', 'RU'] }],
    },
  },
});

export const testCatalog = new Catalog(TEST_CATALOG_DATA);

/** The plans of a SKU of the test catalog, minus the given ones, in catalog order. */
export function plansOf(skuId: string, ...without: string[]): string[] {
  const sku = testCatalog.sku(skuId);
  if (!sku) throw new Error(`no SKU ${skuId} in the test catalog`);
  return sku.planIds.filter((p) => !without.includes(p));
}
