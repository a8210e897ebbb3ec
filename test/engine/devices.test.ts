import { describe, expect, it } from 'vitest';
import { licensingFailureText } from '../../src/api/wording.js';
import { checkInvariants } from '../../src/engine/invariants.js';
import { device, expectEntry, observe, user, view } from './support/builders.js';
import { SKU } from './support/catalog.js';
import { deviceId, groupId, userId } from './support/ids.js';
import { add, microsoft365Group, newTenant, remove, securityGroup } from './support/tenant.js';

// rules.md §2 (device SKUs follow nesting), §4 (one group per device SKU; moving it), §5 (device seats).

const OUTER = groupId(1);
const NESTED = groupId(2);
const OTHER = groupId(3);
const DEEP = groupId(4);

/** OUTER holds devices 1–3, user 1 and NESTED; NESTED holds devices 4–5; OTHER holds devices 3 and 6. */
function lab(seats = 10) {
  const t = newTenant({ seats: { [SKU.DEVICE_APPS]: seats, [SKU.DEVICE_KIOSK]: 10, [SKU.BASIC]: 10 } });
  for (const g of [OUTER, NESTED, OTHER, DEEP]) t.tenant.addGroup(securityGroup(g));
  for (let i = 1; i <= 6; i++) t.tenant.addPrincipal(device(deviceId(i)));
  t.tenant.addPrincipal(user(userId(1)));
  for (const i of [1, 2, 3]) t.tenant.addMember(OUTER, deviceId(i), 'device');
  t.tenant.addMember(OUTER, userId(1), 'user');
  t.tenant.addMember(OUTER, NESTED, 'group');
  for (const i of [4, 5]) t.tenant.addMember(NESTED, deviceId(i), 'device');
  for (const i of [3, 6]) t.tenant.addMember(OTHER, deviceId(i), 'device');
  t.clock.advance();
  return t;
}

function licensedDevices(t: ReturnType<typeof lab>): number[] {
  return [1, 2, 3, 4, 5, 6].filter((i) =>
    t.tenant.entriesOf(deviceId(i)).some((e) => e.skuId === SKU.DEVICE_APPS && e.state === 'Active'),
  );
}

describe('device licenses through a group', () => {
  it('every device in the group or in a nested group gets the device SKU; users get nothing', () => {
    const t = lab();
    expect(t.tenant.assignGroupLicenses(OUTER, add([SKU.DEVICE_APPS])).ok).toBe(true);
    expect(licensedDevices(t)).toEqual([1, 2, 3, 4, 5]);
    expect(view(t.tenant.entriesOf(deviceId(4)))).toEqual([expectEntry(SKU.DEVICE_APPS, OUTER, 'Active')]);
    expect(t.tenant.entriesOf(userId(1))).toEqual([]);
    expect(t.tenant.consumedUnits(SKU.DEVICE_APPS)).toBe(5);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('a group’s user SKU goes to its users and its device SKU to its devices', () => {
    const t = lab();
    t.tenant.assignGroupLicenses(OUTER, add([SKU.DEVICE_APPS], [SKU.BASIC]));
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([expectEntry(SKU.BASIC, OUTER, 'Active')]);
    expect(view(t.tenant.entriesOf(deviceId(1)))).toEqual([expectEntry(SKU.DEVICE_APPS, OUTER, 'Active')]);
  });

  it('when seats run short, devices reached at the same moment are served by id', () => {
    const t = lab(3);
    t.tenant.assignGroupLicenses(OUTER, add([SKU.DEVICE_APPS]));
    expect(licensedDevices(t)).toEqual([1, 2, 3]);
    expect(view(t.tenant.entriesOf(deviceId(5)))).toEqual([
      expectEntry(SKU.DEVICE_APPS, OUTER, 'Error', 'CountViolation'),
    ]);
  });

  it('a nested group added later brings its devices in, and removing it takes them out', () => {
    const t = lab();
    t.tenant.assignGroupLicenses(OUTER, add([SKU.DEVICE_APPS]));
    t.tenant.addMember(DEEP, deviceId(6), 'device');
    t.tenant.addMember(NESTED, DEEP, 'group');
    expect(licensedDevices(t)).toEqual([1, 2, 3, 4, 5, 6]);
    t.tenant.removeMember(OUTER, NESTED);
    expect(licensedDevices(t)).toEqual([1, 2, 3]);
    expect(t.tenant.consumedUnits(SKU.DEVICE_APPS)).toBe(3);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('nested groups that form a cycle license their devices once', () => {
    const t = lab();
    t.tenant.addMember(NESTED, OUTER, 'group');
    t.tenant.assignGroupLicenses(NESTED, add([SKU.DEVICE_APPS]));
    expect(licensedDevices(t)).toEqual([1, 2, 3, 4, 5]);
    expect(t.tenant.entriesOf(deviceId(1))).toHaveLength(1);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('a device SKU already assigned to one group cannot be assigned to a second', () => {
    const t = lab();
    t.tenant.assignGroupLicenses(OUTER, add([SKU.DEVICE_APPS]));
    const second = t.tenant.assignGroupLicenses(OTHER, add([SKU.DEVICE_APPS]));
    expect(second.ok ? 'ok' : second.failure.code).toBe('DeviceLicenseAlreadyAssigned');
    expect(t.tenant.groupLicenses(OTHER)).toEqual([]);
    expect(licensedDevices(t)).toEqual([1, 2, 3, 4, 5]);
  });

  it('moving the device SKU to another group: devices only in the old group lose it, those in the new gain it', () => {
    const t = lab();
    t.tenant.assignGroupLicenses(OUTER, add([SKU.DEVICE_APPS]));
    expect(t.tenant.moveDeviceLicense(OUTER, SKU.DEVICE_APPS, OTHER).ok).toBe(true);
    expect(licensedDevices(t)).toEqual([3, 6]);
    expect(view(t.tenant.entriesOf(deviceId(3)))).toEqual([expectEntry(SKU.DEVICE_APPS, OTHER, 'Active')]);
    expect(t.tenant.groupLicenses(OUTER)).toEqual([]);
    expect(t.tenant.consumedUnits(SKU.DEVICE_APPS)).toBe(2);
    expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  });

  it('a move to a group that may not carry the SKU fails and leaves it where it was', () => {
    const t = lab();
    t.tenant.addGroup(microsoft365Group(groupId(9), true));
    t.tenant.assignGroupLicenses(OUTER, add([SKU.DEVICE_APPS]));
    const moved = t.tenant.moveDeviceLicense(OUTER, SKU.DEVICE_APPS, groupId(9));
    expect(moved.ok ? 'ok' : moved.failure.code).toBe('GroupNotLicensable');
    expect(t.tenant.groupLicenses(OUTER)).toEqual([{ skuId: SKU.DEVICE_APPS, disabledPlans: [] }]);
    expect(licensedDevices(t)).toEqual([1, 2, 3, 4, 5]);
  });

  it('moving a SKU the group does not carry is refused', () => {
    const t = lab();
    const moved = t.tenant.moveDeviceLicense(OUTER, SKU.DEVICE_APPS, OTHER);
    expect(moved.ok ? 'ok' : moved.failure).toEqual({
      code: 'NotADeviceLicenseOfGroup',
      skuId: SKU.DEVICE_APPS,
      groupId: OUTER,
    });
    expect(moved.ok ? 'ok' : licensingFailureText(moved.failure)).toBe(
      `License ${SKU.DEVICE_APPS} is not a device license assigned to group ${OUTER}; only device licenses can be moved.`,
    );
  });

  it('unassigning leaves every device unlicensed and the seats back at zero', () => {
    const t = lab();
    t.tenant.assignGroupLicenses(OUTER, add([SKU.DEVICE_APPS]));
    t.tenant.assignGroupLicenses(OUTER, remove(SKU.DEVICE_APPS));
    expect(licensedDevices(t)).toEqual([]);
    expect([1, 2, 3, 4, 5].every((i) => t.tenant.entriesOf(deviceId(i)).length === 0)).toBe(true);
    expect(t.tenant.consumedUnits(SKU.DEVICE_APPS)).toBe(0);
  });

  it('reads about unknown SKUs, groups and principals answer with nothing', () => {
    const t = lab();
    expect(t.tenant.available(SKU.INSIGHTS)).toBe(0);
    expect(t.tenant.consumedUnits(SKU.INSIGHTS)).toBe(0);
    expect(t.tenant.groupLicenses(groupId(99))).toEqual([]);
    expect(t.tenant.entriesOf(deviceId(99))).toEqual([]);
  });

  it('membership calls that change nothing report so', () => {
    const t = lab();
    expect(t.tenant.addMember(OUTER, deviceId(1), 'device')).toBe(false);
    expect(t.tenant.removeMember(OUTER, deviceId(6))).toBe(false);
    expect(() => t.tenant.addMember(groupId(99), deviceId(1), 'device')).toThrow();
    expect(() => t.tenant.addGroup(securityGroup(OUTER))).toThrow();
    expect(() => t.tenant.addPrincipal(device(deviceId(1)))).toThrow();
  });
});
