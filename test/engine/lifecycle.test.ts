import { describe, expect, it } from 'vitest';
import { effectiveLicenses } from '../../src/engine/effective.js';
import { checkInvariants } from '../../src/engine/invariants.js';
import { isPastRetention, SOFT_DELETE_RETENTION_DAYS, suspendEntries } from '../../src/engine/lifecycle.js';
import { device, entry, expectEntry, observe, user, view } from './support/builders.js';
import { SKU } from './support/catalog.js';
import { at, deviceId, groupId, userId } from './support/ids.js';
import { add, newTenant, remove, securityGroup } from './support/tenant.js';

// rules.md §5: soft delete, restore, hard delete.

const U = userId(1);
const V = userId(2);
const G1 = groupId(1);
const G2 = groupId(2);

describe('suspending a soft-deleted user’s entries', () => {
  it('keeps every entry as Disabled with error None and releases one seat per SKU held', () => {
    const suspension = suspendEntries(
      [
        entry(SKU.BASIC, G1, 'Active'),
        entry(SKU.BASIC, null, 'Active'),
        entry(SKU.SECURITY, G2, 'Error', 'CountViolation'),
        entry(SKU.CHATONLY, G2, 'Error', 'DependencyViolation'),
      ],
      at(9),
    );
    expect(view(suspension.entries)).toEqual([
      expectEntry(SKU.BASIC, null, 'Disabled'),
      expectEntry(SKU.BASIC, G1, 'Disabled'),
      expectEntry(SKU.SECURITY, G2, 'Disabled'),
      expectEntry(SKU.CHATONLY, G2, 'Disabled'),
    ]);
    expect(suspension.entries.every((e) => e.waitingSince === null && e.lastUpdatedDateTime === at(9))).toBe(
      true,
    );
    expect(suspension.seatsReleased).toEqual([SKU.BASIC, SKU.CHATONLY].sort());
  });

  it('suspending twice changes nothing and releases nothing more', () => {
    const once = suspendEntries([entry(SKU.BASIC, G1, 'Active')], at(9));
    const twice = suspendEntries(once.entries, at(20));
    expect(twice.entries).toEqual(once.entries);
    expect(twice.seatsReleased).toEqual([]);
  });

  it.each([
    { deletedAt: at(0), now: at(SOFT_DELETE_RETENTION_DAYS * 24 * 60 - 1), due: false },
    { deletedAt: at(0), now: at(SOFT_DELETE_RETENTION_DAYS * 24 * 60), due: true },
    { deletedAt: at(0), now: at(SOFT_DELETE_RETENTION_DAYS * 24 * 60 + 5), due: true },
  ])('a user soft-deleted at $deletedAt is due for hard deletion at $now: $due', (row) => {
    expect(isPastRetention(row.deletedAt, row.now)).toBe(row.due);
  });

  it('the retention period is 30 days', () => {
    expect(SOFT_DELETE_RETENTION_DAYS).toBe(30);
  });
});

describe('soft delete, restore and hard delete in the reference tenant', () => {
  function licensedUser(seats: number) {
    const t = newTenant({ seats: { [SKU.BASIC]: seats, [SKU.SECURITY]: seats } });
    t.tenant.addPrincipal(user(U));
    t.tenant.addGroup(securityGroup(G1));
    t.tenant.assignGroupLicenses(G1, add([SKU.SECURITY]));
    t.tenant.addMember(G1, U, 'user');
    expect(t.tenant.assignUserLicenses(U, add([SKU.BASIC])).ok).toBe(true);
    t.clock.advance();
    return t;
  }

  it('soft delete keeps the entries Disabled, shows the plans Suspended and releases the seats', () => {
    const t = licensedUser(5);
    t.tenant.softDelete(U);
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.BASIC, null, 'Disabled'),
      expectEntry(SKU.SECURITY, G1, 'Disabled'),
    ]);
    const plans = effectiveLicenses(t.catalog, t.tenant.entriesOf(U)).assignedPlans;
    expect(plans.length).toBeGreaterThan(0);
    expect(plans.every((p) => p.capabilityStatus === 'Suspended')).toBe(true);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(0);
    expect(t.tenant.consumedUnits(SKU.SECURITY)).toBe(0);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('soft-deleting twice changes nothing', () => {
    const t = licensedUser(5);
    t.tenant.softDelete(U);
    const after = t.tenant.entriesOf(U);
    t.clock.advance();
    t.tenant.softDelete(U);
    expect(t.tenant.entriesOf(U)).toEqual(after);
  });

  it('restore brings the same entries back Active when seats allow', () => {
    const t = licensedUser(5);
    const before = view(t.tenant.entriesOf(U));
    t.tenant.softDelete(U);
    t.clock.advance();
    t.tenant.restore(U);
    expect(view(t.tenant.entriesOf(U))).toEqual(before);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(1);
    t.tenant.restore(U);
    expect(view(t.tenant.entriesOf(U))).toEqual(before);
  });

  it('restore after the seats were taken leaves the affected sources in CountViolation, and they heal when a seat frees', () => {
    const t = licensedUser(1);
    t.tenant.softDelete(U);
    t.tenant.addPrincipal(user(V));
    t.tenant.addMember(G1, V, 'user');
    expect(view(t.tenant.entriesOf(V))).toEqual([expectEntry(SKU.SECURITY, G1, 'Active')]);
    t.clock.advance();
    t.tenant.restore(U);
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.BASIC, null, 'Active'),
      expectEntry(SKU.SECURITY, G1, 'Error', 'CountViolation'),
    ]);
    t.clock.advance();
    t.tenant.removeMember(G1, V);
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.BASIC, null, 'Active'),
      expectEntry(SKU.SECURITY, G1, 'Active'),
    ]);
  });

  it('a membership added while soft-deleted counts on restore', () => {
    const t = licensedUser(5);
    t.tenant.addGroup(securityGroup(G2));
    t.tenant.assignGroupLicenses(G2, add([SKU.SECURITY]));
    t.tenant.softDelete(U);
    t.tenant.addMember(G2, U, 'user');
    expect(t.tenant.entriesOf(U).every((e) => e.state === 'Disabled')).toBe(true);
    t.clock.advance();
    t.tenant.restore(U);
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.BASIC, null, 'Active'),
      expectEntry(SKU.SECURITY, G1, 'Active'),
      expectEntry(SKU.SECURITY, G2, 'Active'),
    ]);
    expect(t.tenant.consumedUnits(SKU.SECURITY)).toBe(1);
  });

  it('changes to a soft-deleted user wait for its restore: leaving a group and a new usage location', () => {
    const t = licensedUser(5);
    t.tenant.softDelete(U);
    t.tenant.removeMember(G1, U);
    t.tenant.updateUser(U, { usageLocation: 'IR' });
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.BASIC, null, 'Disabled'),
      expectEntry(SKU.SECURITY, G1, 'Disabled'),
    ]);
    t.clock.advance();
    t.tenant.restore(U);
    expect(view(t.tenant.entriesOf(U))).toEqual([
      expectEntry(SKU.BASIC, null, 'Error', 'ProhibitedInUsageLocationViolation'),
    ]);
    expect(t.tenant.consumedUnits(SKU.SECURITY)).toBe(0);
  });

  it('a dependency hold survives soft delete and restore (rules.md §7.5)', () => {
    const t = newTenant({ seats: { [SKU.CHATONLY]: 5, [SKU.MEETING]: 5 } });
    t.tenant.addPrincipal(user(U));
    t.tenant.addGroup(securityGroup(G1));
    t.tenant.assignGroupLicenses(G1, add([SKU.CHATONLY]));
    t.tenant.addMember(G1, U, 'user');
    expect(t.tenant.assignUserLicenses(U, add([SKU.MEETING])).ok).toBe(true);
    t.tenant.removeMember(G1, U);
    const before = [
      expectEntry(SKU.MEETING, null, 'Active'),
      expectEntry(SKU.CHATONLY, G1, 'Error', 'DependencyViolation'),
    ];
    expect(view(t.tenant.entriesOf(U))).toEqual(before);
    t.clock.advance();
    t.tenant.softDelete(U);
    expect(t.tenant.consumedUnits(SKU.CHATONLY)).toBe(0);
    t.clock.advance();
    t.tenant.restore(U);
    expect(view(t.tenant.entriesOf(U))).toEqual(before);
    expect(t.tenant.consumedUnits(SKU.CHATONLY)).toBe(1);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('a dependency hold that finds no seat on restore is let go rather than kept without one', () => {
    const t = newTenant({ seats: { [SKU.CHATONLY]: 1, [SKU.MEETING]: 5 } });
    t.tenant.addPrincipal(user(U));
    t.tenant.addPrincipal(user(V));
    t.tenant.addGroup(securityGroup(G1));
    t.tenant.assignGroupLicenses(G1, add([SKU.CHATONLY]));
    t.tenant.addMember(G1, U, 'user');
    expect(t.tenant.assignUserLicenses(U, add([SKU.MEETING])).ok).toBe(true);
    t.tenant.removeMember(G1, U);
    t.tenant.softDelete(U);
    t.clock.advance();
    t.tenant.addMember(G1, V, 'user');
    expect(view(t.tenant.entriesOf(V))).toEqual([expectEntry(SKU.CHATONLY, G1, 'Active')]);
    t.clock.advance();
    t.tenant.restore(U);
    expect(view(t.tenant.entriesOf(U))).toEqual([expectEntry(SKU.MEETING, null, 'Active')]);
    expect(t.tenant.consumedUnits(SKU.CHATONLY)).toBe(1);
  });

  it('hard delete removes the user and its records, and a new user can take the seat', () => {
    const t = licensedUser(1);
    t.tenant.softDelete(U);
    t.tenant.hardDelete(U);
    expect(t.tenant.entriesOf(U)).toEqual([]);
    expect(t.tenant.snapshot().principals.map((p) => p.facts.id)).toEqual([]);
    t.tenant.addPrincipal(user(V));
    expect(t.tenant.assignUserLicenses(V, add([SKU.BASIC])).ok).toBe(true);
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(1);
    expect(() => t.tenant.restore(U)).toThrow();
  });

  it('hard-deleting a user that was never soft-deleted frees its seats; an unknown id is ignored', () => {
    const t = licensedUser(1);
    t.tenant.hardDelete(U);
    t.tenant.hardDelete(userId(77));
    expect(t.tenant.consumedUnits(SKU.BASIC)).toBe(0);
    expect(t.tenant.consumedUnits(SKU.SECURITY)).toBe(0);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('deleting a device releases its device seat to the next device waiting', () => {
    const t = newTenant({ seats: { [SKU.DEVICE_APPS]: 1 } });
    t.tenant.addGroup(securityGroup(G1));
    t.tenant.assignGroupLicenses(G1, add([SKU.DEVICE_APPS]));
    t.tenant.addPrincipal(device(deviceId(1)));
    t.tenant.addPrincipal(device(deviceId(2)));
    t.tenant.addMember(G1, deviceId(1), 'device');
    t.clock.advance();
    t.tenant.addMember(G1, deviceId(2), 'device');
    expect(view(t.tenant.entriesOf(deviceId(2)))).toEqual([
      expectEntry(SKU.DEVICE_APPS, G1, 'Error', 'CountViolation'),
    ]);
    t.tenant.hardDelete(deviceId(1));
    expect(view(t.tenant.entriesOf(deviceId(2)))).toEqual([expectEntry(SKU.DEVICE_APPS, G1, 'Active')]);
    expect(t.tenant.consumedUnits(SKU.DEVICE_APPS)).toBe(1);
  });

  it('a removed direct license stays gone after soft delete and restore', () => {
    const t = licensedUser(5);
    t.tenant.assignUserLicenses(U, remove(SKU.BASIC));
    t.tenant.softDelete(U);
    t.tenant.restore(U);
    expect(view(t.tenant.entriesOf(U))).toEqual([expectEntry(SKU.SECURITY, G1, 'Active')]);
  });
});
