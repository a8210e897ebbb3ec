import { describe, expect, it } from 'vitest';
import { compareWaiters, type Waiter, waitersToPromote, waitingFor } from '../../src/engine/healing.js';
import { checkInvariants } from '../../src/engine/invariants.js';
import type { TenantSettings } from '../../src/engine/model.js';
import { entry, expectEntry, observe, user, view } from './support/builders.js';
import { SKU } from './support/catalog.js';
import { at, groupId, userId } from './support/ids.js';
import { add, newTenant, remove, securityGroup, units } from './support/tenant.js';

// rules.md §6: the waiting room, and what healing re-evaluates.

const G1 = groupId(1);
const G2 = groupId(2);
const automatic: TenantSettings = { countryLetterCode: 'US', licenseErrorHealing: 'automatic' };
const manual: TenantSettings = { countryLetterCode: 'US', licenseErrorHealing: 'manual' };

describe('who waits for which seat', () => {
  it('a principal waits for each SKU of its CountViolation entries, from the earliest time it started waiting', () => {
    const waiters = waitingFor(userId(1), [
      entry(SKU.BASIC, G1, 'Error', 'CountViolation', { waitingSince: at(5) }),
      entry(SKU.BASIC, G2, 'Error', 'CountViolation', { waitingSince: at(3) }),
      entry(SKU.SECURITY, G2, 'Error', 'CountViolation', { waitingSince: at(3) }),
    ]);
    expect(waiters).toEqual<Waiter[]>([
      { principalId: userId(1), skuId: SKU.BASIC, waitingSince: at(3) },
      { principalId: userId(1), skuId: SKU.SECURITY, waitingSince: at(3) },
    ]);
  });

  it('a principal does not wait for a SKU it already holds through another source', () => {
    const waiters = waitingFor(userId(1), [
      entry(SKU.BASIC, null, 'Active'),
      entry(SKU.BASIC, G1, 'Error', 'CountViolation'),
      entry(SKU.SECURITY, G1, 'Error', 'CountViolation'),
    ]);
    expect(waiters.map((w) => w.skuId)).toEqual([SKU.SECURITY]);
  });

  it('errors other than CountViolation do not wait for seats', () => {
    expect(
      waitingFor(userId(1), [
        entry(SKU.BASIC, G1, 'Error', 'MutuallyExclusiveViolation'),
        entry(SKU.SECURITY, G2, 'Error', 'ProhibitedInUsageLocationViolation'),
      ]),
    ).toEqual([]);
  });

  it('an entry without a waiting time waits from its last update', () => {
    const waiting = {
      ...entry(SKU.BASIC, G1, 'Error', 'CountViolation'),
      waitingSince: null,
      lastUpdatedDateTime: at(7),
    };
    expect(waitingFor(userId(1), [waiting])).toEqual([
      { principalId: userId(1), skuId: SKU.BASIC, waitingSince: at(7) },
    ]);
  });

  it('first come first served: by waiting time, then by principal id', () => {
    const waiters: Waiter[] = [
      { principalId: userId(3), skuId: SKU.BASIC, waitingSince: at(2) },
      { principalId: userId(2), skuId: SKU.BASIC, waitingSince: at(1) },
      { principalId: userId(1), skuId: SKU.BASIC, waitingSince: at(2) },
      { principalId: userId(1), skuId: SKU.BASIC, waitingSince: at(2) },
    ];
    expect([...waiters].sort(compareWaiters).map((w) => w.principalId)).toEqual([
      userId(2),
      userId(1),
      userId(1),
      userId(3),
    ]);
  });

  it.each([
    { settings: automatic, freed: 2, promoted: [userId(2), userId(1)] },
    { settings: automatic, freed: 5, promoted: [userId(2), userId(1), userId(3)] },
    { settings: automatic, freed: 0, promoted: [] },
    { settings: manual, freed: 2, promoted: [] },
  ])('with $settings.licenseErrorHealing healing and $freed seats freed, $promoted are promoted', (row) => {
    const waiters: Waiter[] = [
      { principalId: userId(3), skuId: SKU.BASIC, waitingSince: at(3) },
      { principalId: userId(1), skuId: SKU.BASIC, waitingSince: at(2) },
      { principalId: userId(2), skuId: SKU.BASIC, waitingSince: at(1) },
    ];
    expect(waitersToPromote(row.settings, waiters, row.freed).map((w) => w.principalId)).toEqual(
      row.promoted,
    );
  });
});

/** Users 1..n created, then joined to G1 in reverse id order, then G1 assigned BASIC with `seats` seats. */
function contested(n: number, seats: number, healing: TenantSettings['licenseErrorHealing']) {
  const t = newTenant({ healing, seats: { [SKU.BASIC]: seats, [SKU.SECURITY]: 10 } });
  t.tenant.addGroup(securityGroup(G1));
  t.tenant.addGroup(securityGroup(G2));
  for (let i = 1; i <= n; i++) t.tenant.addPrincipal(user(userId(i)));
  for (let i = n; i >= 1; i--) {
    t.clock.advance();
    t.tenant.addMember(G1, userId(i), 'user');
  }
  t.clock.advance();
  expect(t.tenant.assignGroupLicenses(G1, add([SKU.BASIC])).ok).toBe(true);
  t.clock.advance();
  return t;
}

function states(t: ReturnType<typeof contested>, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const e = t.tenant.entriesOf(userId(i + 1)).find((x) => x.assignedByGroup === G1);
    return e ? (e.state === 'Active' ? 'Active' : e.error) : 'none';
  });
}

describe('who gets contested seats (rules.md §3) and who gets freed ones (§6)', () => {
  it('members who all joined before the assignment are reached at the same moment and served by principal id', () => {
    const t = contested(4, 2, 'automatic');
    expect(states(t, 4)).toEqual(['Active', 'Active', 'CountViolation', 'CountViolation']);
    expect(t.tenant.available(SKU.BASIC)).toBe(0);
  });

  it('members who join after the assignment are served in the order they joined', () => {
    const t = contested(2, 3, 'automatic');
    t.tenant.addPrincipal(user(userId(9)));
    t.tenant.addPrincipal(user(userId(8)));
    t.tenant.addMember(G1, userId(9), 'user');
    t.clock.advance();
    t.tenant.addMember(G1, userId(8), 'user');
    expect(view(t.tenant.entriesOf(userId(9)))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
    expect(view(t.tenant.entriesOf(userId(8)))).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation'),
    ]);
  });

  it('with automatic healing, buying more units promotes the waiters in the order they started waiting', () => {
    const t = contested(4, 2, 'automatic');
    t.tenant.addPrincipal(user(userId(0)));
    t.tenant.addMember(G1, userId(0), 'user'); // waits from a later time than users 3 and 4
    t.clock.advance();
    t.tenant.setUnits(SKU.BASIC, units(4));
    expect(states(t, 4)).toEqual(['Active', 'Active', 'Active', 'Active']);
    expect(view(t.tenant.entriesOf(userId(0)))).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation'),
    ]);
    t.tenant.setUnits(SKU.BASIC, units(5));
    expect(view(t.tenant.entriesOf(userId(0)))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('with automatic healing, a member leaving hands its seat to the first waiter', () => {
    const t = contested(4, 2, 'automatic');
    t.tenant.removeMember(G1, userId(1));
    expect(states(t, 4)).toEqual(['none', 'Active', 'Active', 'CountViolation']);
  });

  it('with automatic healing, a waiter who started waiting earlier goes before one who started later', () => {
    const t = contested(3, 2, 'automatic');
    t.tenant.addPrincipal(user(userId(0)));
    t.tenant.addMember(G2, userId(0), 'user');
    t.tenant.assignGroupLicenses(G2, add([SKU.BASIC]));
    expect(states(t, 3)).toEqual(['Active', 'Active', 'CountViolation']);
    t.tenant.setUnits(SKU.BASIC, units(3));
    expect(view(t.tenant.entriesOf(userId(0)))).toEqual([
      expectEntry(SKU.BASIC, G2, 'Error', 'CountViolation'),
    ]);
    expect(states(t, 3)).toEqual(['Active', 'Active', 'Active']);
  });

  it('with automatic healing, removing another group’s assignment frees seats for the waiters', () => {
    const t = newTenant({ seats: { [SKU.BASIC]: 2 } });
    t.tenant.addGroup(securityGroup(G1));
    t.tenant.addGroup(securityGroup(G2));
    for (const n of [1, 2, 7]) t.tenant.addPrincipal(user(userId(n)));
    t.tenant.addMember(G2, userId(7), 'user');
    t.tenant.assignGroupLicenses(G2, add([SKU.BASIC]));
    t.clock.advance();
    t.tenant.addMember(G1, userId(1), 'user');
    t.tenant.addMember(G1, userId(2), 'user');
    t.tenant.assignGroupLicenses(G1, add([SKU.BASIC]));
    expect(view(t.tenant.entriesOf(userId(2)))).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation'),
    ]);
    t.clock.advance();
    t.tenant.assignGroupLicenses(G2, remove(SKU.BASIC));
    expect(t.tenant.entriesOf(userId(7))).toEqual([]);
    expect(view(t.tenant.entriesOf(userId(2)))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
  });

  it('a waiter that needs two SKUs of which one has no seat keeps waiting, and the freed seat goes to the next', () => {
    const t = contested(2, 1, 'automatic');
    t.tenant.setUnits(SKU.SECURITY, units(0));
    t.tenant.addPrincipal(user(userId(5)));
    t.tenant.addMember(G2, userId(5), 'user');
    t.tenant.assignGroupLicenses(G2, add([SKU.BASIC], [SKU.SECURITY]));
    t.clock.advance();
    // user 5 now waits for BASIC and SECURITY; user 2 waits for BASIC since before.
    t.tenant.setUnits(SKU.BASIC, units(2));
    expect(states(t, 2)).toEqual(['Active', 'Active']);
    expect(view(t.tenant.entriesOf(userId(5)))).toEqual([
      expectEntry(SKU.BASIC, G2, 'Error', 'CountViolation'),
      expectEntry(SKU.SECURITY, G2, 'Error', 'CountViolation'),
    ]);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('with manual healing, freed seats stay free until a user or its group is reprocessed', () => {
    const t = contested(4, 2, 'manual');
    t.tenant.setUnits(SKU.BASIC, units(4));
    expect(states(t, 4)).toEqual(['Active', 'Active', 'CountViolation', 'CountViolation']);
    expect(t.tenant.available(SKU.BASIC)).toBe(2);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
    t.tenant.reprocessUser(userId(4));
    expect(states(t, 4)).toEqual(['Active', 'Active', 'CountViolation', 'Active']);
    t.tenant.reprocessGroup(G1);
    expect(states(t, 4)).toEqual(['Active', 'Active', 'Active', 'Active']);
  });

  it('switching a manual tenant to automatic healing promotes the waiters at once', () => {
    const t = contested(4, 2, 'manual');
    t.tenant.setUnits(SKU.BASIC, units(3));
    t.tenant.setHealing('automatic');
    expect(states(t, 4)).toEqual(['Active', 'Active', 'Active', 'CountViolation']);
  });

  it('with manual healing a change to the user itself still re-evaluates it (a new usage location)', () => {
    const t = newTenant({ healing: 'manual', seats: { [SKU.BASIC]: 5 } });
    t.tenant.addPrincipal(user(userId(1), 'IR'));
    t.tenant.addGroup(securityGroup(G1));
    t.tenant.assignGroupLicenses(G1, add([SKU.BASIC]));
    t.tenant.addMember(G1, userId(1), 'user');
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'ProhibitedInUsageLocationViolation'),
    ]);
    t.tenant.updateUser(userId(1), { usageLocation: 'US' });
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([expectEntry(SKU.BASIC, G1, 'Active')]);
  });

  it('with manual healing, leaving the conflicting group lets the other group’s licenses through', () => {
    const t = newTenant({ healing: 'manual', seats: { [SKU.BASIC]: 5, [SKU.PREMIUM]: 5 } });
    t.tenant.addPrincipal(user(userId(1)));
    t.tenant.addGroup(securityGroup(G1));
    t.tenant.addGroup(securityGroup(G2));
    t.tenant.assignGroupLicenses(G1, add([SKU.BASIC]));
    t.tenant.assignGroupLicenses(G2, add([SKU.PREMIUM]));
    t.tenant.addMember(G1, userId(1), 'user');
    t.clock.advance();
    t.tenant.addMember(G2, userId(1), 'user');
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([
      expectEntry(SKU.BASIC, G1, 'Active'),
      expectEntry(SKU.PREMIUM, G2, 'Error', 'MutuallyExclusiveViolation'),
    ]);
    t.tenant.removeMember(G1, userId(1));
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([expectEntry(SKU.PREMIUM, G2, 'Active')]);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(0);
  });

  it('lowering units below consumption revokes nothing and blocks new grants until usage drops', () => {
    const t = contested(3, 3, 'automatic');
    t.tenant.setUnits(SKU.BASIC, units(1));
    expect(states(t, 3)).toEqual(['Active', 'Active', 'Active']);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(3);
    expect(t.tenant.available(SKU.BASIC)).toBe(0);
    expect(
      checkInvariants(t.catalog, observe(t.tenant), t.clock.now(), { lowered: new Set([SKU.BASIC]) }),
    ).toEqual([]);
    t.tenant.addPrincipal(user(userId(4)));
    t.tenant.addMember(G1, userId(4), 'user');
    t.tenant.removeMember(G1, userId(1));
    expect(view(t.tenant.entriesOf(userId(4)))).toEqual([
      expectEntry(SKU.BASIC, G1, 'Error', 'CountViolation'),
    ]);
    t.tenant.assignGroupLicenses(G1, remove(SKU.BASIC));
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(0);
  });
});
