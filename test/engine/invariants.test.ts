import { describe, expect, it } from 'vitest';
import {
  checkInvariants,
  describe as describeEntries,
  type ObservedTenant,
} from '../../src/engine/invariants.js';
import type { LicenseEntry } from '../../src/engine/model.js';
import { entry, observe, user } from './support/builders.js';
import { PLAN, SKU } from './support/catalog.js';
import { groupId, userId } from './support/ids.js';
import { add, newTenant, securityGroup, units } from './support/tenant.js';

// checkInvariants (rules.md §7): each invariant is reported when the observed tenant breaks it.

const G1 = groupId(1);
const U1 = userId(1);
const U2 = userId(2);
const U3 = userId(3);

/** Users 1–3 in G1 carrying BASIC, with 2 seats (by default): users 1 and 2 Active, user 3 waiting. */
function healthy(healing: 'automatic' | 'manual' = 'automatic', seats = 2) {
  const t = newTenant({ healing, seats: { [SKU.BASIC]: seats } });
  t.tenant.addGroup(securityGroup(G1));
  for (const id of [U1, U2, U3]) {
    t.tenant.addPrincipal(user(id, 'US', [`smtp:${id}@contoso.com`]));
    t.tenant.addMember(G1, id, 'user');
  }
  t.tenant.assignGroupLicenses(G1, add([SKU.BASIC]));
  return t;
}

function withEntries(observed: ObservedTenant, id: string, entries: readonly LicenseEntry[]): ObservedTenant {
  const all = new Map(observed.entries);
  all.set(id, entries);
  return { ...observed, entries: all };
}

function invariantsOf(t: ReturnType<typeof healthy>, observed: ObservedTenant) {
  return checkInvariants(t.catalog, observed, t.clock.now()).map((v) => [
    v.invariant,
    v.principalId ?? v.skuId,
  ]);
}

describe('checkInvariants', () => {
  it('finds nothing wrong with a tenant the reference model produced', () => {
    const t = healthy();
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('reports consumedUnits that differ from the number of seat holders', () => {
    const t = healthy();
    const observed = { ...observe(t.tenant), consumedUnits: new Map([[SKU.BASIC, 1]]) };
    expect(invariantsOf(t, observed)).toEqual([['seats', SKU.BASIC]]);
  });

  it('reports more holders than Total unless the units were lowered', () => {
    const t = healthy();
    t.tenant.setUnits(SKU.BASIC, units(1));
    expect(invariantsOf(t, observe(t.tenant))).toEqual([['seats', SKU.BASIC]]);
    expect(
      checkInvariants(t.catalog, observe(t.tenant), t.clock.now(), { lowered: new Set([SKU.BASIC]) }),
    ).toEqual([]);
  });

  it('reports a waiter beside a free seat with automatic healing, but not with manual', () => {
    for (const healing of ['automatic', 'manual'] as const) {
      const t = healthy(healing);
      t.tenant.setUnits(SKU.BASIC, units(3));
      const observed = {
        ...withEntries(observe(t.tenant), U3, [entry(SKU.BASIC, G1, 'Error', 'CountViolation')]),
        consumedUnits: new Map([[SKU.BASIC, 2]]),
      };
      expect(invariantsOf(t, observed)).toEqual(healing === 'automatic' ? [['idleSeat', U3]] : []);
    }
  });

  it('reports a user refused a mailbox whose addresses nobody holds, with automatic healing', () => {
    const t = healthy('automatic', 3);
    const observed = {
      ...withEntries(observe(t.tenant), U2, [entry(SKU.BASIC, G1, 'Error', 'UniquenessViolation')]),
      consumedUnits: new Map([[SKU.BASIC, 2]]),
    };
    expect(invariantsOf(t, observed)).toEqual([['idleAddress', U2]]);
  });

  it('reports entries that differ from the from-scratch evaluation', () => {
    const t = healthy();
    const observed = withEntries(observe(t.tenant), U1, [
      entry(SKU.BASIC, G1, 'Active', 'None', { disabledPlans: [PLAN.DOCS] }),
    ]);
    expect(invariantsOf(t, observed)).toEqual([['consistency', U1]]);
    const missing = withEntries(observe(t.tenant), U3, []);
    expect(invariantsOf(t, missing)).toEqual([['consistency', U3]]);
  });

  it('reports two working mailboxes on one proxy address', () => {
    const t = newTenant({ seats: { [SKU.BASIC]: 5 } });
    t.tenant.addPrincipal(user(U1, 'US', ['smtp:alex@contoso.com']));
    t.tenant.addPrincipal(user(U2, 'US', ['SMTP:ALEX@contoso.com']));
    const observed = withEntries(withEntries(observe(t.tenant), U1, [entry(SKU.BASIC, null, 'Active')]), U2, [
      entry(SKU.BASIC, null, 'Active'),
    ]);
    const found = checkInvariants(
      t.catalog,
      { ...observed, consumedUnits: new Map([[SKU.BASIC, 2]]) },
      t.clock.now(),
    );
    expect(found.map((v) => v.invariant)).toContain('uniqueness');
  });

  it('reports a soft-deleted user with an entry that is not Disabled', () => {
    const t = healthy();
    t.tenant.softDelete(U1);
    const observed = withEntries(observe(t.tenant), U1, [entry(SKU.BASIC, G1, 'Error', 'CountViolation')]);
    expect(invariantsOf(t, observed)).toEqual([['suspended', U1]]);
  });

  it('counts a SKU missing from consumedUnits as 0, and a principal missing from the entries as having none', () => {
    const t = newTenant({ seats: { [SKU.BASIC]: 2 } });
    t.tenant.addPrincipal(user(U1));
    expect(
      checkInvariants(
        t.catalog,
        { ...observe(t.tenant), consumedUnits: new Map(), entries: new Map() },
        t.clock.now(),
      ),
    ).toEqual([]);
  });

  it('reports a seat of a SKU the tenant does not subscribe to, and entries of a principal it does not know', () => {
    const t = healthy('automatic', 3);
    const observed = withEntries(observe(t.tenant), userId(9), [
      entry(SKU.SECURITY, null, 'Active'),
      entry(SKU.CHATONLY, null, 'Error', 'CountViolation'),
    ]);
    const found = checkInvariants(
      t.catalog,
      { ...observed, consumedUnits: new Map([...observed.consumedUnits, [SKU.SECURITY, 1]]) },
      t.clock.now(),
    );
    expect(found.map((v) => [v.invariant, v.skuId ?? v.principalId])).toEqual([['seats', SKU.SECURITY]]);
  });

  it('describes entries compactly for difference reports', () => {
    expect(describeEntries([])).toBe('[]');
    expect(
      describeEntries([
        entry(SKU.BASIC, G1, 'Error', 'CountViolation', { disabledPlans: [PLAN.DOCS, PLAN.CHAT] }),
        entry(SKU.SECURITY, null, 'Active'),
      ]),
    ).toBe('[5c000000@direct:Active, 5c000000@a0000000:Error/CountViolation -2plans]');
  });
});
