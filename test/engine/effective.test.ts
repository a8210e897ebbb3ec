import { describe, expect, it } from 'vitest';
import { effectiveLicenses, heldPlanIds, heldSkuIds, holdsSeat } from '../../src/engine/effective.js';
import type { EffectiveLicenses, LicenseEntry } from '../../src/engine/model.js';
import { entry } from './support/builders.js';
import { PLAN, plansOf, SKU, testCatalog } from './support/catalog.js';
import { groupId } from './support/ids.js';

// rules.md §3 "Effective licenses" and §5 (suspended plans).

const G1 = groupId(1);
const G2 = groupId(2);

describe('which entries hold a seat', () => {
  it.each([
    { state: 'Active', error: 'None', holds: true },
    { state: 'Error', error: 'DependencyViolation', holds: true },
    { state: 'Error', error: 'CountViolation', holds: false },
    { state: 'Error', error: 'MutuallyExclusiveViolation', holds: false },
    { state: 'Error', error: 'ProhibitedInUsageLocationViolation', holds: false },
    { state: 'Error', error: 'UniquenessViolation', holds: false },
    { state: 'Error', error: 'Other', holds: false },
    { state: 'Disabled', error: 'None', holds: false },
  ] as const)('a $state entry with error $error holds a seat: $holds', (row) => {
    expect(holdsSeat(entry(SKU.BASIC, G1, row.state, row.error))).toBe(row.holds);
  });

  it('a principal consumes one seat per SKU however many sources give it', () => {
    const entries = [
      entry(SKU.BASIC, null, 'Active'),
      entry(SKU.BASIC, G1, 'Active'),
      entry(SKU.SECURITY, G1, 'Active'),
      entry(SKU.CHATONLY, G2, 'Error', 'CountViolation'),
    ];
    expect([...heldSkuIds(entries)].sort()).toEqual([SKU.BASIC, SKU.SECURITY].sort());
  });
});

interface EffectiveCase {
  readonly name: string;
  readonly entries: readonly LicenseEntry[];
  readonly expected: EffectiveLicenses;
}

const enabled = (skuId: string, ...disabled: string[]) =>
  plansOf(skuId, ...disabled).map((servicePlanId) => ({
    servicePlanId,
    skuId,
    capabilityStatus: 'Enabled' as const,
  }));

describe('assignedLicenses and assignedPlans', () => {
  const cases: EffectiveCase[] = [
    {
      name: 'no entries, no licenses',
      entries: [],
      expected: { assignedLicenses: [], assignedPlans: [] },
    },
    {
      name: 'one granted source shows its SKU with its disabled plans, and its enabled plans Enabled',
      entries: [entry(SKU.BASIC, G1, 'Active', 'None', { disabledPlans: [PLAN.DOCS] })],
      expected: {
        assignedLicenses: [{ skuId: SKU.BASIC, disabledPlans: [PLAN.DOCS] }],
        assignedPlans: enabled(SKU.BASIC, PLAN.DOCS),
      },
    },
    {
      name: 'two sources of one SKU: disabled plans are the intersection, enabled plans the union',
      entries: [
        entry(SKU.BASIC, null, 'Active', 'None', { disabledPlans: [PLAN.DOCS, PLAN.CHAT] }),
        entry(SKU.BASIC, G1, 'Active', 'None', { disabledPlans: [PLAN.SITES_STD, PLAN.DOCS] }),
      ],
      expected: {
        assignedLicenses: [{ skuId: SKU.BASIC, disabledPlans: [PLAN.DOCS] }],
        assignedPlans: enabled(SKU.BASIC, PLAN.DOCS),
      },
    },
    {
      name: 'a source in error adds nothing',
      entries: [
        entry(SKU.BASIC, G1, 'Active', 'None', { disabledPlans: [PLAN.DOCS] }),
        entry(SKU.BASIC, G2, 'Error', 'MutuallyExclusiveViolation'),
        entry(SKU.SECURITY, G2, 'Error', 'MutuallyExclusiveViolation'),
      ],
      expected: {
        assignedLicenses: [{ skuId: SKU.BASIC, disabledPlans: [PLAN.DOCS] }],
        assignedPlans: enabled(SKU.BASIC, PLAN.DOCS),
      },
    },
    {
      name: 'a source held for a dependency keeps contributing its plans',
      entries: [entry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'), entry(SKU.MEETING, null, 'Active')],
      expected: {
        assignedLicenses: [
          { skuId: SKU.MEETING, disabledPlans: [] },
          { skuId: SKU.CHATONLY, disabledPlans: [] },
        ].sort((a, b) => (a.skuId < b.skuId ? -1 : 1)),
        assignedPlans: [...enabled(SKU.CHATONLY), ...enabled(SKU.MEETING)].sort((a, b) =>
          a.skuId < b.skuId ? -1 : 1,
        ),
      },
    },
    {
      name: 'a soft-deleted user’s Disabled entries show as licenses whose plans are Suspended',
      entries: [
        entry(SKU.SECURITY, null, 'Disabled', 'None', { disabledPlans: [PLAN.GUARD] }),
        entry(SKU.CHATONLY, G1, 'Disabled'),
      ],
      expected: {
        assignedLicenses: [
          { skuId: SKU.SECURITY, disabledPlans: [PLAN.GUARD] },
          { skuId: SKU.CHATONLY, disabledPlans: [] },
        ].sort((a, b) => (a.skuId < b.skuId ? -1 : 1)),
        assignedPlans: [
          { servicePlanId: PLAN.DOCS, skuId: SKU.SECURITY, capabilityStatus: 'Suspended' as const },
          { servicePlanId: PLAN.CHAT, skuId: SKU.CHATONLY, capabilityStatus: 'Suspended' as const },
        ].sort((a, b) => (a.skuId < b.skuId ? -1 : 1)),
      },
    },
  ];

  it.each(cases)('$name', (row) => {
    expect(effectiveLicenses(testCatalog, row.entries)).toEqual(row.expected);
  });

  it('a disabled plan stays absent from assignedPlans (S1: Yammer disabled in E3)', () => {
    const { assignedPlans } = effectiveLicenses(testCatalog, [
      entry(SKU.PREMIUM, G1, 'Active', 'None', { disabledPlans: [PLAN.MEET] }),
    ]);
    expect(assignedPlans.map((p) => p.servicePlanId)).not.toContain(PLAN.MEET);
    expect(assignedPlans.map((p) => p.servicePlanId)).toContain(PLAN.CHAT);
  });

  it('held plans are the enabled plans of every holding entry', () => {
    const plans = heldPlanIds(testCatalog, [
      entry(SKU.SECURITY, null, 'Active', 'None', { disabledPlans: [PLAN.GUARD] }),
      entry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
      entry(SKU.MEETING, G2, 'Error', 'CountViolation'),
    ]);
    expect([...plans].sort()).toEqual([PLAN.DOCS, PLAN.CHAT].sort());
  });
});
