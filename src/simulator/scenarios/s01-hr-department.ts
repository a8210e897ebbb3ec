import { importDirectory, users } from './directory.js';
import {
  active,
  expectApplyingAudits,
  expectGroupStatus,
  expectMembersInError,
  expectOutcomes,
  expectPlans,
  finishText,
  watchProcessing,
} from './expectations.js';
import { assignGroupLicense, createGroup, expectConsumed, listUserDetails } from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S1 — HR Department (seed 004): E3 with Yammer off and EMS, assigned to a 1,000-user group in one request; every
 * member gets both, the group goes Queued → In progress → Complete, seats and audit records add up.
 */
export async function hrDepartment(s: Scenario): Promise<void> {
  const size = s.size(1000, 100);
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;
  const ems = s.catalog.sku('EMS').skuId;
  const yammer = s.catalog.plan('ENTERPRISEPACK', 'YAMMER_ENTERPRISE');

  s.step(`buy ${size} ENTERPRISEPACK (Office 365 E3) and ${size} EMS`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', size);
  await s.operator.setUnits(s.tenant.id, 'EMS', size);

  s.step(`create the security group "HR Department" with ${size} users`);
  const hr = await createGroup(s, 'HR Department');
  await importDirectory(s, { users: users(s, 'HR employee', size, { memberOf: [hr] }) });

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
  s.ok('202 Accepted, Location names the group');
  await watchProcessing(s, hr);
  await s.idle();

  s.step('check every member');
  const members = await listUserDetails(s);
  s.expect('users in the tenant', size, members.length, '');
  expectOutcomes(s, 'HR members', members, () => [active(e3, hr, [yammer]), active(ems, hr)]);
  for (const member of members) expectPlans(s, s.label(member.id), member, 'Enabled', true);
  if (members.some((m) => m.assignedPlans.some((p) => p.servicePlanId === yammer)))
    s.fail('YAMMER_ENTERPRISE in assignedPlans', 'absent', 'present');
  s.ok(`every member's assignedPlans are E3's (without YAMMER_ENTERPRISE) and EMS's, all Enabled`);
  await expectConsumed(s, { ENTERPRISEPACK: size, EMS: size });
  await expectGroupStatus(s, hr, { status: 'allLicensesAssigned', succeeded: size, failed: 0, total: size });
  await expectMembersInError(s, hr, []);
  await expectApplyingAudits(s, hr, 1, finishText(size, 0));

  await checkInvariants(s);
}
