import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../src/engine/invariants.js';
import { expectEntry, observe, user, view } from './support/builders.js';
import { PLAN, SKU } from './support/catalog.js';
import { groupId, userId } from './support/ids.js';
import { add, distributionList, newTenant, remove, securityGroup } from './support/tenant.js';

// rules.md §4 "Group assignLicense": add, change disabled plans, remove, all in one request, applied together.

const G = groupId(1);
const U1 = userId(1);
const U2 = userId(2);

function group(seats: Record<string, number>) {
  const t = newTenant({ seats });
  t.tenant.addGroup(securityGroup(G));
  for (const id of [U1, U2]) {
    t.tenant.addPrincipal(user(id));
    t.tenant.addMember(G, id, 'user');
  }
  t.clock.advance();
  return t;
}

describe('changing a group’s licenses', () => {
  it('changing the disabled plans updates every member’s entry and keeps the seats', () => {
    const t = group({ [SKU.BASIC]: 2 });
    t.tenant.assignGroupLicenses(G, add([SKU.BASIC]));
    t.tenant.assignGroupLicenses(G, add([SKU.BASIC, PLAN.SITES_STD]));
    expect(view(t.tenant.entriesOf(U1))).toEqual([
      expectEntry(SKU.BASIC, G, 'Active', 'None', [PLAN.SITES_STD]),
    ]);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(2);
  });

  it('swapping a SKU for one that excludes it, in one request, leaves the members with the new one and no conflict', () => {
    const t = group({ [SKU.BASIC]: 2, [SKU.PREMIUM]: 2 });
    t.tenant.assignGroupLicenses(G, add([SKU.BASIC]));
    const swapped = t.tenant.assignGroupLicenses(G, {
      addLicenses: [{ skuId: SKU.PREMIUM, disabledPlans: [] }],
      removeLicenses: [SKU.BASIC],
    });
    expect(swapped.ok && swapped.value).toEqual([{ skuId: SKU.PREMIUM, disabledPlans: [] }]);
    expect(view(t.tenant.entriesOf(U1))).toEqual([expectEntry(SKU.PREMIUM, G, 'Active')]);
    expect([t.tenant.consumedUnits(SKU.BASIC), t.tenant.consumedUnits(SKU.PREMIUM)]).toEqual([0, 2]);
  });

  it('removing the group’s last license frees every member’s seat and leaves no entry', () => {
    const t = group({ [SKU.BASIC]: 2 });
    t.tenant.assignGroupLicenses(G, add([SKU.BASIC]));
    t.tenant.assignGroupLicenses(G, remove(SKU.BASIC));
    expect(t.tenant.entriesOf(U1)).toEqual([]);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(0);
    expect(t.tenant.groupLicenses(G)).toEqual([]);
  });

  it('adding a SKU without enough seats puts the whole source in error for those it cannot serve (all or nothing)', () => {
    const t = group({ [SKU.BASIC]: 2, [SKU.SECURITY]: 1 });
    t.tenant.assignGroupLicenses(G, add([SKU.BASIC]));
    t.clock.advance();
    t.tenant.assignGroupLicenses(G, add([SKU.SECURITY]));
    expect(view(t.tenant.entriesOf(U1))).toEqual([
      expectEntry(SKU.BASIC, G, 'Active'),
      expectEntry(SKU.SECURITY, G, 'Active'),
    ]);
    expect(view(t.tenant.entriesOf(U2))).toEqual([
      expectEntry(SKU.BASIC, G, 'Error', 'CountViolation'),
      expectEntry(SKU.SECURITY, G, 'Error', 'CountViolation'),
    ]);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(1);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('a refused request changes nothing', () => {
    const t = group({ [SKU.BASIC]: 2 });
    t.tenant.assignGroupLicenses(G, add([SKU.BASIC]));
    const refused = t.tenant.assignGroupLicenses(G, add([SKU.MEETING], [SKU.BASIC, PLAN.CHAT]));
    expect(refused.ok).toBe(false);
    expect(t.tenant.groupLicenses(G)).toEqual([{ skuId: SKU.BASIC, disabledPlans: [] }]);
    expect(view(t.tenant.entriesOf(U1))).toEqual([expectEntry(SKU.BASIC, G, 'Active')]);
  });

  it('a distribution list cannot carry a user SKU', () => {
    const t = newTenant({ seats: { [SKU.BASIC]: 2 } });
    t.tenant.addGroup(distributionList(G));
    const refused = t.tenant.assignGroupLicenses(G, add([SKU.BASIC]));
    expect(refused.ok ? 'ok' : refused.failure.code).toBe('GroupNotLicensable');
  });
});
