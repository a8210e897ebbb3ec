import { describe, expect, it } from 'vitest';
import { licensingFailureText } from '../../src/api/wording.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { effectiveLicenses } from '../../src/engine/effective.js';
import { checkInvariants } from '../../src/engine/invariants.js';
import type { LicenseEntry } from '../../src/engine/model.js';
import { finishApplyingResult, groupStatus, memberOutcome } from '../../src/engine/status.js';
import { evaluateTenant } from '../../src/engine/tenant.js';
import { device, type EntryView, expectEntry, observe, user, view } from './support/builders.js';
import { deviceId, groupId, userId } from './support/ids.js';
import { add, newTenant, remove, securityGroup, type TestTenant, units } from './support/tenant.js';

// scenarios.md S1–S10 played on the engine with the shipped catalog, at the sizes given or smaller.

const catalog = loadCatalog();

// SKU and plan ids from catalog.json (not looked up through the code under test).
const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const E1 = '18181a46-0d4e-45cd-891e-60aabd171b4e';
const E5 = 'c7df2760-2c81-4ef7-b578-5b5392b571df';
const EMS = 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e';
const AUDIO_CONFERENCING = '0c266dff-15dd-4b49-8397-2bb16070ed52';
const DEVICE_APPS = 'ea4c5ec8-50e3-4193-89b9-50da5bd4cdc7';
const YAMMER_ENTERPRISE = '7547a3fe-08ee-4ccb-b430-5077c5041653';
const MCOMEETADV = '3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40';
const MCOSTANDARD = '0feaeb32-d00e-4d66-bd5a-43b5b83db82c';

function shippedTenant(options: { country?: string; healing?: 'automatic' | 'manual' } = {}): TestTenant {
  return newTenant({ catalog, ...options });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** rules.md §7 holds, and (seats uncontested) the state is exactly the from-scratch evaluation. */
function expectConsistent(t: TestTenant, exact: boolean): void {
  expect(checkInvariants(t.catalog, observe(t.tenant), t.clock.now())).toEqual([]);
  if (!exact) return;
  const fromScratch = evaluateTenant(t.catalog, t.tenant.snapshot(), t.clock.now());
  for (const [id, outcome] of fromScratch.principals)
    expect(view(t.tenant.entriesOf(id))).toEqual(view(outcome.entries));
  for (const [skuId, consumed] of t.tenant.allConsumed())
    expect(fromScratch.consumedUnits.get(skuId) ?? 0).toBe(consumed);
}

function counts(t: TestTenant, members: readonly string[], group: string) {
  const outcomes = members.map((id) => memberOutcome(t.tenant.entriesOf(id), group));
  return {
    succeeded: outcomes.filter((o) => o === 'succeeded').length,
    failed: outcomes.filter((o) => o === 'failed').length,
  };
}

function summary(entries: readonly LicenseEntry[]): string[] {
  return entries.map(
    (e) =>
      `${e.skuId}@${e.assignedByGroup ?? 'direct'}:${e.state === 'Active' ? 'Active' : `${e.state}/${e.error}`}`,
  );
}

const HR = groupId(1);
const KIOSK = groupId(2);

/** S1's tenant: 1,000 HR users, 1,000 E3 and 1,000 EMS; optionally some users also in Kiosk users (E1). */
function hrDepartment(kioskUsers: readonly number[] = []) {
  const t = shippedTenant({ country: 'US' });
  t.tenant.setUnits(E3, units(1000));
  t.tenant.setUnits(EMS, units(1000));
  t.tenant.addGroup(securityGroup(HR));
  const members = range(1, 1000).map(userId);
  for (const id of members) t.tenant.addPrincipal(user(id, 'US'));
  if (kioskUsers.length > 0) {
    t.tenant.setUnits(E1, units(10));
    t.tenant.addGroup(securityGroup(KIOSK));
    for (const n of kioskUsers) t.tenant.addMember(KIOSK, userId(n), 'user');
    expect(t.tenant.assignGroupLicenses(KIOSK, add([E1])).ok).toBe(true);
    t.clock.advance();
  }
  for (const id of members) t.tenant.addMember(HR, id, 'user');
  t.clock.advance();
  expect(groupStatus('QueuedForProcessing', { succeeded: 0, failed: 0 })).toBe('inProgress');
  const assigned = t.tenant.assignGroupLicenses(HR, add([E3, YAMMER_ENTERPRISE], [EMS]));
  expect(assigned.ok && assigned.value).toEqual([
    { skuId: E3, disabledPlans: [YAMMER_ENTERPRISE] },
    { skuId: EMS, disabledPlans: [] },
  ]);
  t.clock.advance();
  return { t, members };
}

describe('S1 — HR Department (seed 004)', () => {
  it('every member gets E3 without Yammer and EMS from the group; 1,000 seats each; the audit counts match', () => {
    const { t, members } = hrDepartment();
    const hrEntries: EntryView[] = [
      expectEntry(E3, HR, 'Active', 'None', [YAMMER_ENTERPRISE]),
      expectEntry(EMS, HR, 'Active'),
    ];
    for (const id of members) {
      expect(view(t.tenant.entriesOf(id))).toEqual(hrEntries);
      const { assignedLicenses, assignedPlans } = effectiveLicenses(catalog, t.tenant.entriesOf(id));
      expect(assignedLicenses.find((l) => l.skuId === E3)?.disabledPlans).toEqual([YAMMER_ENTERPRISE]);
      expect(assignedPlans.some((p) => p.servicePlanId === YAMMER_ENTERPRISE)).toBe(false);
      expect(assignedPlans.every((p) => p.capabilityStatus === 'Enabled')).toBe(true);
    }
    expect(t.tenant.consumedUnits(E3)).toBe(1000);
    expect(t.tenant.consumedUnits(EMS)).toBe(1000);
    const c = counts(t, members, HR);
    expect(groupStatus('ProcessingInProgress', c)).toBe('inProgress');
    expect(groupStatus('ProcessingComplete', c)).toBe('allLicensesAssigned');
    expect(finishApplyingResult(c)).toBe(
      'Users successfully assigned licenses: 1000, Users for whom license assignment failed: 0.',
    );
    expectConsistent(t, true);
  });
});

describe('S2 — Conflicting service plans (seed 004)', () => {
  const kiosk = [3, 50, 101, 222, 350, 404, 512, 640, 777, 999];

  it('the 10 Kiosk users get MutuallyExclusiveViolation on both HR entries; leaving Kiosk heals one of them', () => {
    const { t, members } = hrDepartment(kiosk);
    for (const n of kiosk) {
      expect(view(t.tenant.entriesOf(userId(n)))).toEqual([
        expectEntry(E3, HR, 'Error', 'MutuallyExclusiveViolation', [YAMMER_ENTERPRISE]),
        expectEntry(EMS, HR, 'Error', 'MutuallyExclusiveViolation'),
        expectEntry(E1, KIOSK, 'Active'),
      ]);
    }
    expect(view(t.tenant.entriesOf(userId(4)))).toEqual([
      expectEntry(E3, HR, 'Active', 'None', [YAMMER_ENTERPRISE]),
      expectEntry(EMS, HR, 'Active'),
    ]);
    const c = counts(t, members, HR);
    expect(c).toEqual({ succeeded: 990, failed: 10 });
    expect(groupStatus('ProcessingComplete', c)).toBe('errorsAndIssues');
    const membersWithLicenseErrors = members.filter(
      (id) => memberOutcome(t.tenant.entriesOf(id), HR) === 'failed',
    );
    expect(membersWithLicenseErrors).toEqual(kiosk.map(userId));
    expect(t.tenant.consumedUnits(E3)).toBe(990);
    expectConsistent(t, true);

    t.clock.advance();
    t.tenant.removeMember(KIOSK, userId(404));
    expect(view(t.tenant.entriesOf(userId(404)))).toEqual([
      expectEntry(E3, HR, 'Active', 'None', [YAMMER_ENTERPRISE]),
      expectEntry(EMS, HR, 'Active'),
    ]);
    expect(counts(t, members, HR)).toEqual({ succeeded: 991, failed: 9 });
    expect(t.tenant.consumedUnits(E1)).toBe(9);
    expectConsistent(t, true);
  });
});

describe('S3 — Not enough licenses (seed 001)', () => {
  const SALES = groupId(3);
  const OTHER = groupId(4);

  /** Users 10–114 join (in scrambled order) before E3 is assigned with 100 seats; then users 0–9 join later. */
  function notEnough(healing: 'automatic' | 'manual') {
    const t = shippedTenant({ healing });
    t.tenant.setUnits(E3, units(100));
    t.tenant.addGroup(securityGroup(SALES));
    for (const n of range(0, 114)) t.tenant.addPrincipal(user(userId(n)));
    for (const n of range(0, 104).map((i) => ((i * 37) % 105) + 10))
      t.tenant.addMember(SALES, userId(n), 'user');
    t.clock.advance();
    t.tenant.assignGroupLicenses(SALES, add([E3]));
    for (const n of range(0, 9)) {
      t.clock.advance();
      t.tenant.addMember(SALES, userId(n), 'user');
    }
    t.clock.advance();
    return t;
  }

  function activeIds(t: TestTenant): number[] {
    return range(0, 114).filter((n) => t.tenant.entriesOf(userId(n))[0]?.state === 'Active');
  }

  function waitingIds(t: TestTenant): number[] {
    return range(0, 114).filter((n) => t.tenant.entriesOf(userId(n))[0]?.error === 'CountViolation');
  }

  it('of 105 members reached by the assignment at once, the first 100 by id get seats; the rest and later joiners wait', () => {
    const t = notEnough('automatic');
    expect(activeIds(t)).toEqual(range(10, 109));
    expect(waitingIds(t)).toEqual([...range(0, 9), ...range(110, 114)]);
    expect(t.tenant.available(E3)).toBe(0);
    expectConsistent(t, false);
  });

  it('with automatic healing, bought seats go to the waiters in the order they started waiting', () => {
    const t = notEnough('automatic');
    t.tenant.setUnits(E3, units(103));
    expect(activeIds(t)).toEqual(range(10, 112));
    t.tenant.setUnits(E3, units(108));
    expect(activeIds(t)).toEqual([0, 1, 2, ...range(10, 114)]);
    t.tenant.setUnits(E3, units(120));
    expect(activeIds(t)).toEqual(range(0, 114));
    expect(t.tenant.available(E3)).toBe(5);
    expectConsistent(t, true);
  });

  it('with manual healing nothing changes until a user or the group is reprocessed', () => {
    const t = notEnough('manual');
    t.tenant.setUnits(E3, units(120));
    expect(activeIds(t)).toEqual(range(10, 109));
    t.tenant.reprocessUser(userId(7));
    expect(activeIds(t)).toEqual([7, ...range(10, 109)]);
    t.tenant.reprocessGroup(SALES);
    expect(activeIds(t)).toEqual(range(0, 114));
    expectConsistent(t, true);
  });

  it('freeing seats by removing another group’s assignment heals the same way', () => {
    const t = shippedTenant();
    t.tenant.setUnits(E3, units(3));
    t.tenant.addGroup(securityGroup(SALES));
    t.tenant.addGroup(securityGroup(OTHER));
    for (const n of range(1, 5)) t.tenant.addPrincipal(user(userId(n)));
    for (const n of [4, 5]) t.tenant.addMember(OTHER, userId(n), 'user');
    t.tenant.assignGroupLicenses(OTHER, add([E3]));
    t.clock.advance();
    for (const n of [1, 2, 3]) t.tenant.addMember(SALES, userId(n), 'user');
    t.tenant.assignGroupLicenses(SALES, add([E3]));
    expect(range(1, 5).map((n) => summary(t.tenant.entriesOf(userId(n))))).toEqual([
      [`${E3}@${SALES}:Active`],
      [`${E3}@${SALES}:Error/CountViolation`],
      [`${E3}@${SALES}:Error/CountViolation`],
      [`${E3}@${OTHER}:Active`],
      [`${E3}@${OTHER}:Active`],
    ]);
    t.clock.advance();
    t.tenant.assignGroupLicenses(OTHER, remove(E3));
    expect(range(1, 5).map((n) => summary(t.tenant.entriesOf(userId(n))))).toEqual([
      [`${E3}@${SALES}:Active`],
      [`${E3}@${SALES}:Active`],
      [`${E3}@${SALES}:Active`],
      [],
      [],
    ]);
    expectConsistent(t, true);
  });
});

describe('S4 — Usage location (seeds 001, 002, 003)', () => {
  it('group members without usage location inherit the tenant’s GB and keep null; IR is prohibited until changed', () => {
    const t = shippedTenant({ country: 'GB' });
    const G = groupId(5);
    t.tenant.setUnits(E3, units(10));
    t.tenant.addGroup(securityGroup(G));
    t.tenant.addPrincipal(user(userId(1), null));
    t.tenant.addPrincipal(user(userId(2), 'IR'));
    t.tenant.addMember(G, userId(1), 'user');
    t.tenant.addMember(G, userId(2), 'user');
    t.tenant.assignGroupLicenses(G, add([E3]));
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([expectEntry(E3, G, 'Active')]);
    expect(
      t.tenant.snapshot().principals.find((p) => p.facts.id === userId(1))?.facts.usageLocation,
    ).toBeNull();
    expect(view(t.tenant.entriesOf(userId(2)))).toEqual([
      expectEntry(E3, G, 'Error', 'ProhibitedInUsageLocationViolation'),
    ]);
    expectConsistent(t, true);

    t.tenant.updateUser(userId(2), { usageLocation: 'US' });
    expect(view(t.tenant.entriesOf(userId(2)))).toEqual([expectEntry(E3, G, 'Active')]);
    expect(t.tenant.consumedUnits(E3)).toBe(2);
    expectConsistent(t, true);
  });

  it('direct assignment to a user without usage location is refused with Graph’s message', () => {
    const t = shippedTenant({ country: 'GB' });
    t.tenant.setUnits(E3, units(10));
    t.tenant.addPrincipal(user(userId(1), null));
    const result = t.tenant.assignUserLicenses(userId(1), add([E3]));
    expect(result.ok ? 'ok' : licensingFailureText(result.failure)).toBe(
      'License assignment cannot be done for user with invalid usage location.',
    );
    expect(t.tenant.entriesOf(userId(1))).toEqual([]);
  });
});

describe('S5 — Dependencies (seed 002)', () => {
  const AUDIO = groupId(6);
  const E5_USERS = groupId(7);

  it('a group with Audio Conferencing alone is refused, naming MCOSTANDARD; a group with E5 is fine', () => {
    const t = shippedTenant();
    t.tenant.setUnits(AUDIO_CONFERENCING, units(5));
    t.tenant.setUnits(E5, units(5));
    t.tenant.addGroup(securityGroup(AUDIO));
    t.tenant.addGroup(securityGroup(E5_USERS));
    const refused = t.tenant.assignGroupLicenses(AUDIO, add([AUDIO_CONFERENCING]));
    expect(refused.ok ? 'ok' : licensingFailureText(refused.failure)).toBe(
      `License assignment failed because service plan ${MCOMEETADV} depends on the service plan(s) ${MCOSTANDARD}.`,
    );
    expect(t.tenant.assignGroupLicenses(E5_USERS, add([E5])).ok).toBe(true);
  });

  it('leaving E5 users keeps the E5 entry in DependencyViolation, seat consumed, until Audio Conferencing goes', () => {
    const t = shippedTenant();
    t.tenant.setUnits(AUDIO_CONFERENCING, units(5));
    t.tenant.setUnits(E5, units(5));
    t.tenant.addGroup(securityGroup(E5_USERS));
    t.tenant.assignGroupLicenses(E5_USERS, add([E5]));
    t.tenant.addPrincipal(user(userId(1)));
    t.tenant.addMember(E5_USERS, userId(1), 'user');
    t.clock.advance();
    expect(t.tenant.assignUserLicenses(userId(1), add([AUDIO_CONFERENCING])).ok).toBe(true);
    t.clock.advance();
    t.tenant.removeMember(E5_USERS, userId(1));
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([
      expectEntry(AUDIO_CONFERENCING, null, 'Active'),
      expectEntry(E5, E5_USERS, 'Error', 'DependencyViolation'),
    ]);
    expect(t.tenant.consumedUnits(E5)).toBe(1);
    const plans = effectiveLicenses(catalog, t.tenant.entriesOf(userId(1))).assignedPlans.map(
      (p) => p.servicePlanId,
    );
    expect(plans).toContain(MCOSTANDARD);
    expectConsistent(t, false);

    t.clock.advance();
    expect(t.tenant.assignUserLicenses(userId(1), remove(AUDIO_CONFERENCING)).ok).toBe(true);
    expect(t.tenant.entriesOf(userId(1))).toEqual([]);
    expect(t.tenant.consumedUnits(E5)).toBe(0);
    expect(t.tenant.consumedUnits(AUDIO_CONFERENCING)).toBe(0);
    expectConsistent(t, true);
  });
});

describe('S6 — Duplicate proxy address (seed 001)', () => {
  it('the second user evaluated gets UniquenessViolation and is licensed once its own address changes', () => {
    const t = shippedTenant();
    const G = groupId(8);
    t.tenant.setUnits(E3, units(10));
    t.tenant.addGroup(securityGroup(G));
    t.tenant.addPrincipal(user(userId(1), 'US', ['SMTP:alex@contoso.com']));
    t.tenant.addPrincipal(user(userId(2), 'US', ['smtp:alex@contoso.com']));
    t.tenant.addMember(G, userId(1), 'user');
    t.tenant.addMember(G, userId(2), 'user');
    t.clock.advance();
    t.tenant.assignGroupLicenses(G, add([E3]));
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([expectEntry(E3, G, 'Active')]);
    expect(view(t.tenant.entriesOf(userId(2)))).toEqual([expectEntry(E3, G, 'Error', 'UniquenessViolation')]);
    expectConsistent(t, false);
    t.clock.advance();
    t.tenant.updateUser(userId(2), { proxyAddresses: ['smtp:alex.b@contoso.com'] });
    expect(view(t.tenant.entriesOf(userId(2)))).toEqual([expectEntry(E3, G, 'Active')]);
    expect(t.tenant.consumedUnits(E3)).toBe(2);
    expectConsistent(t, true);
  });
});

describe('S7 — Device licenses (seed 000)', () => {
  const LAB = groupId(9);
  const NESTED = groupId(10);
  const KIOSKS = groupId(11);
  const SECOND = groupId(12);
  // Lab devices: odd ids 1–79 (40); the nested group: even ids 2–40 (20); Kiosks: devices 1, 2, 61 and 81, 82.
  const labDevices = range(1, 40).map((i) => 2 * i - 1);
  const nestedDevices = range(1, 20).map((i) => 2 * i);

  function lab() {
    const t = shippedTenant();
    t.tenant.setUnits(DEVICE_APPS, units(50));
    for (const g of [LAB, NESTED, KIOSKS, SECOND]) t.tenant.addGroup(securityGroup(g));
    for (const n of [...labDevices, ...nestedDevices, 81, 82]) t.tenant.addPrincipal(device(deviceId(n)));
    for (const n of range(1, 10)) t.tenant.addPrincipal(user(userId(n)));
    for (const n of labDevices) t.tenant.addMember(LAB, deviceId(n), 'device');
    for (const n of range(1, 10)) t.tenant.addMember(LAB, userId(n), 'user');
    for (const n of nestedDevices) t.tenant.addMember(NESTED, deviceId(n), 'device');
    t.tenant.addMember(LAB, NESTED, 'group');
    for (const n of [1, 2, 61, 81, 82]) t.tenant.addMember(KIOSKS, deviceId(n), 'device');
    t.clock.advance();
    expect(t.tenant.assignGroupLicenses(LAB, add([DEVICE_APPS])).ok).toBe(true);
    t.clock.advance();
    return t;
  }

  function byState(t: TestTenant): { active: number[]; waiting: number[] } {
    const all = [...labDevices, ...nestedDevices, 81, 82].sort((a, b) => a - b);
    const state = (n: number) => t.tenant.entriesOf(deviceId(n))[0];
    return {
      active: all.filter((n) => state(n)?.state === 'Active'),
      waiting: all.filter((n) => state(n)?.error === 'CountViolation'),
    };
  }

  it('50 of the 60 devices (direct and nested, by id) get a seat, 10 wait, users are untouched', () => {
    const t = lab();
    expect(byState(t)).toEqual({
      active: [...range(1, 40), 41, 43, 45, 47, 49, 51, 53, 55, 57, 59],
      waiting: [61, 63, 65, 67, 69, 71, 73, 75, 77, 79],
    });
    expect(range(1, 10).every((n) => t.tenant.entriesOf(userId(n)).length === 0)).toBe(true);
    expect(t.tenant.consumedUnits(DEVICE_APPS)).toBe(50);
    expectConsistent(t, false);
  });

  it('a second group cannot get the same device SKU; moving it relicenses; unassigning frees every seat', () => {
    const t = lab();
    const second = t.tenant.assignGroupLicenses(SECOND, add([DEVICE_APPS]));
    expect(second.ok ? 'ok' : second.failure.code).toBe('DeviceLicenseAlreadyAssigned');

    expect(t.tenant.moveDeviceLicense(LAB, DEVICE_APPS, KIOSKS).ok).toBe(true);
    expect(byState(t)).toEqual({ active: [1, 2, 61, 81, 82], waiting: [] });
    expect(view(t.tenant.entriesOf(deviceId(61)))).toEqual([expectEntry(DEVICE_APPS, KIOSKS, 'Active')]);
    expect(t.tenant.consumedUnits(DEVICE_APPS)).toBe(5);
    expectConsistent(t, true);

    t.tenant.assignGroupLicenses(KIOSKS, remove(DEVICE_APPS));
    expect(byState(t)).toEqual({ active: [], waiting: [] });
    expect(t.tenant.consumedUnits(DEVICE_APPS)).toBe(0);
    expectConsistent(t, true);
  });
});

describe('S8 — Soft delete, restore, hard delete (seed 003)', () => {
  it('entries go Disabled with plans Suspended and seats released, come back on restore, and vanish on hard delete', () => {
    const t = shippedTenant();
    const G = groupId(13);
    t.tenant.setUnits(E3, units(1));
    t.tenant.setUnits(EMS, units(1));
    t.tenant.addGroup(securityGroup(G));
    t.tenant.assignGroupLicenses(G, add([EMS]));
    t.tenant.addPrincipal(user(userId(1)));
    t.tenant.addMember(G, userId(1), 'user');
    expect(t.tenant.assignUserLicenses(userId(1), add([E3])).ok).toBe(true);
    const licensed = [expectEntry(E3, null, 'Active'), expectEntry(EMS, G, 'Active')];
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual(licensed);

    t.clock.advance();
    t.tenant.softDelete(userId(1));
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([
      expectEntry(E3, null, 'Disabled'),
      expectEntry(EMS, G, 'Disabled'),
    ]);
    const plans = effectiveLicenses(catalog, t.tenant.entriesOf(userId(1))).assignedPlans;
    expect(new Set(plans.map((p) => p.capabilityStatus))).toEqual(new Set(['Suspended']));
    expect([t.tenant.consumedUnits(E3), t.tenant.consumedUnits(EMS)]).toEqual([0, 0]);
    expectConsistent(t, false);

    t.clock.advance();
    t.tenant.restore(userId(1));
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual(licensed);
    expect([t.tenant.consumedUnits(E3), t.tenant.consumedUnits(EMS)]).toEqual([1, 1]);

    t.clock.advance();
    t.tenant.softDelete(userId(1));
    t.tenant.hardDelete(userId(1));
    expect(t.tenant.entriesOf(userId(1))).toEqual([]);
    expect(t.tenant.snapshot().principals).toEqual([]);
    t.tenant.addPrincipal(user(userId(2)));
    expect(t.tenant.assignUserLicenses(userId(2), add([E3])).ok).toBe(true);
    expect(t.tenant.consumedUnits(E3)).toBe(1);
    expectConsistent(t, true);
  });
});

describe('S9 — Direct and inherited together (seed 003)', () => {
  it('one seat and two entries; removing the direct one keeps the group’s; removing it again is refused', () => {
    const t = shippedTenant();
    const G = groupId(14);
    t.tenant.setUnits(E3, units(1));
    t.tenant.addGroup(securityGroup(G));
    t.tenant.assignGroupLicenses(G, add([E3]));
    t.tenant.addPrincipal(user(userId(1)));
    t.tenant.addMember(G, userId(1), 'user');
    expect(t.tenant.assignUserLicenses(userId(1), add([E3])).ok).toBe(true);
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([
      expectEntry(E3, null, 'Active'),
      expectEntry(E3, G, 'Active'),
    ]);
    expect(t.tenant.consumedUnits(E3)).toBe(1);
    expectConsistent(t, true);

    const first = t.tenant.assignUserLicenses(userId(1), remove(E3));
    expect(first.ok && view(first.value)).toEqual([expectEntry(E3, G, 'Active')]);
    expect(t.tenant.consumedUnits(E3)).toBe(1);
    const second = t.tenant.assignUserLicenses(userId(1), remove(E3));
    expect(second.ok ? 'ok' : licensingFailureText(second.failure)).toBe(
      'User license is inherited from a group membership and it cannot be removed directly from the user.',
    );
    expectConsistent(t, true);
  });
});

describe('S10 — Nested groups for users (seed 001)', () => {
  it('only the direct user members of Sales are licensed, not those of the nested Sales EMEA', () => {
    const t = shippedTenant();
    const SALES = groupId(15);
    const EMEA = groupId(16);
    t.tenant.setUnits(E3, units(10));
    t.tenant.addGroup(securityGroup(SALES));
    t.tenant.addGroup(securityGroup(EMEA));
    for (const n of [1, 2, 3]) t.tenant.addPrincipal(user(userId(n)));
    t.tenant.addMember(SALES, userId(1), 'user');
    t.tenant.addMember(SALES, EMEA, 'group');
    t.tenant.addMember(EMEA, userId(2), 'user');
    t.tenant.addMember(EMEA, userId(3), 'user');
    t.tenant.assignGroupLicenses(SALES, add([E3]));
    expect(view(t.tenant.entriesOf(userId(1)))).toEqual([expectEntry(E3, SALES, 'Active')]);
    expect(t.tenant.entriesOf(userId(2))).toEqual([]);
    expect(t.tenant.entriesOf(userId(3))).toEqual([]);
    expect(t.tenant.consumedUnits(E3)).toBe(1);
    expectConsistent(t, true);
  });
});
