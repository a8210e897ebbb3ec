import { importDirectory, users } from './directory.js';
import {
  active,
  expectApplyingAudits,
  expectEntries,
  expectGroupStatus,
  expectMembersInError,
  expectOutcomes,
  failed,
  finishText,
  watchProcessing,
} from './expectations.js';
import {
  assignGroupLicense,
  createGroup,
  expectConsumed,
  listUsers,
  readUser,
  removeMember,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S2 — Conflicting service plans (seed 004): ten HR users already hold Office 365 E1 through *Kiosk users*; E1's
 * Exchange and SharePoint plans exclude E3's, so HR's E3 and EMS both fail for them (all or nothing). Leaving
 * *Kiosk users* lets HR's licenses through for that user.
 */
export async function conflictingPlans(s: Scenario): Promise<void> {
  const size = s.size(1000, 100);
  const kioskCount = 10;
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;
  const ems = s.catalog.sku('EMS').skuId;
  const e1 = s.catalog.sku('STANDARDPACK').skuId;
  const yammer = s.catalog.plan('ENTERPRISEPACK', 'YAMMER_ENTERPRISE');

  s.step(`buy ${size} E3, ${size} EMS and ${kioskCount} STANDARDPACK (Office 365 E1)`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', size);
  await s.operator.setUnits(s.tenant.id, 'EMS', size);
  await s.operator.setUnits(s.tenant.id, 'STANDARDPACK', kioskCount);

  s.step(`groups "HR Department" (${size} users) and "Kiosk users" (${kioskCount} of them)`);
  const hr = await createGroup(s, 'HR Department');
  const kiosk = await createGroup(s, 'Kiosk users');
  const kioskUsers = users(s, 'HR kiosk employee', kioskCount, { memberOf: [hr, kiosk] });
  const others = users(s, 'HR employee', size - kioskCount, { memberOf: [hr] });
  await importDirectory(s, { users: [...kioskUsers, ...others] });
  const inKiosk = new Set(kioskUsers.map((u) => u.id));

  s.step('assign E1 to Kiosk users first, and let it complete');
  await assignGroupLicense(s, kiosk, [{ skuId: e1, disabledPlans: [] }], []);
  await watchProcessing(s, kiosk);
  await s.idle();

  s.step('assign E3 (YAMMER_ENTERPRISE disabled) and EMS to HR Department in one request');
  await assignGroupLicense(
    s,
    hr,
    [
      { skuId: e3, disabledPlans: [yammer] },
      { skuId: ems, disabledPlans: [] },
    ],
    [],
  );
  await watchProcessing(s, hr);
  await s.idle();

  const conflicted = [
    active(e1, kiosk),
    failed(e3, hr, 'MutuallyExclusiveViolation', [yammer]),
    failed(ems, hr, 'MutuallyExclusiveViolation'),
  ];
  const licensed = [active(e3, hr, [yammer]), active(ems, hr)];
  s.step('check: the kiosk users fail on both HR entries, everyone else has both');
  expectOutcomes(s, 'users', await listUsers(s), (u) => (inKiosk.has(u.id) ? conflicted : licensed));
  await expectConsumed(s, {
    ENTERPRISEPACK: size - kioskCount,
    EMS: size - kioskCount,
    STANDARDPACK: kioskCount,
  });
  await expectGroupStatus(s, hr, {
    status: 'errorsAndIssues',
    succeeded: size - kioskCount,
    failed: kioskCount,
    errorsByType: { MutuallyExclusiveViolation: kioskCount },
    total: size,
  });
  await expectMembersInError(s, hr, [...inKiosk]);
  await expectGroupStatus(s, kiosk, { status: 'allLicensesAssigned', succeeded: kioskCount, failed: 0 });
  await expectMembersInError(s, kiosk, []);
  await expectApplyingAudits(s, hr, 1, finishText(size - kioskCount, kioskCount));

  const [leaver, ...stayers] = kioskUsers;
  if (!leaver) throw new Error('S2 needs kiosk users');
  s.step(`remove ${leaver.displayName} from Kiosk users`);
  await removeMember(s, kiosk, leaver.id);
  await s.idle();
  expectEntries(s, leaver.displayName, await readUser(s, leaver.id), licensed);
  const stillInError = new Set(stayers.map((u) => u.id));
  expectOutcomes(s, 'users', await listUsers(s), (u) => (stillInError.has(u.id) ? conflicted : licensed));
  await expectConsumed(s, {
    ENTERPRISEPACK: size - kioskCount + 1,
    EMS: size - kioskCount + 1,
    STANDARDPACK: kioskCount - 1,
  });
  await expectGroupStatus(s, hr, {
    status: 'errorsAndIssues',
    succeeded: size - kioskCount + 1,
    failed: kioskCount - 1,
    errorsByType: { MutuallyExclusiveViolation: kioskCount - 1 },
  });
  await expectMembersInError(s, hr, [...stillInError]);

  await checkInvariants(s);
}
