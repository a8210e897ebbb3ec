import { active, expectEntries, failed, watchProcessing } from './expectations.js';
import {
  addMember,
  assignGroupLicense,
  assignUserLicense,
  createGroup,
  createUser,
  expectConsumed,
  expectRefusal,
  readGroupLicensing,
  readUser,
  removeMember,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S5 — Dependencies (seed 002): Audio Conferencing (MCOMEETADV) needs Skype for Business Online (MCOSTANDARD).
 * A group cannot carry it alone; E5 carries both. A user with Audio Conferencing directly and MCOSTANDARD only
 * through *E5 users* keeps the E5 entry in `DependencyViolation` (seat consumed) when it leaves the group, until
 * the direct Audio Conferencing goes.
 */
export async function dependencies(s: Scenario): Promise<void> {
  const audio = s.catalog.sku('MCOMEETADV').skuId;
  const e5 = s.catalog.sku('ENTERPRISEPREMIUM').skuId;
  const meetingPlan = s.catalog.plan('MCOMEETADV', 'MCOMEETADV');
  const skypePlan = s.catalog.plan('ENTERPRISEPACK', 'MCOSTANDARD');

  s.step('buy 5 MCOMEETADV (Audio Conferencing) and 5 ENTERPRISEPREMIUM (Office 365 E5)');
  await s.operator.setUnits(s.tenant.id, 'MCOMEETADV', 5);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPREMIUM', 5);

  s.step('assign Audio Conferencing alone to group "Conference users"');
  const conference = await createGroup(s, 'Conference users');
  await expectRefusal(
    s,
    {
      method: 'POST',
      path: `/groups/${conference}/assignLicense`,
      body: { addLicenses: [{ skuId: audio, disabledPlans: [] }], removeLicenses: [] },
    },
    {
      status: 400,
      code: 'Request_BadRequest',
      message: `License assignment failed because service plan ${meetingPlan} depends on the service plan(s) ${skypePlan}.`,
    },
  );
  s.expect(
    'assignedLicenses of Conference users after the refusal',
    [],
    (await readGroupLicensing(s, conference)).assignedLicenses,
    'Conference users carries no license',
  );

  s.step('group "E5 users" carries E5 (both plans in one SKU); Robin joins it');
  const e5Users = await createGroup(s, 'E5 users');
  await assignGroupLicense(s, e5Users, [{ skuId: e5, disabledPlans: [] }], []);
  await watchProcessing(s, e5Users);
  const robin = await createUser(s, {
    userPrincipalName: `robin.${s.tenant.id.slice(0, 6)}@contoso.com`,
    displayName: 'Robin',
    usageLocation: 'US',
  });
  await addMember(s, e5Users, robin);
  await s.idle();
  expectEntries(s, 'Robin', await readUser(s, robin), [active(e5, e5Users)]);

  s.step('assign Audio Conferencing directly to Robin (its prerequisite comes through E5 users)');
  await assignUserLicense(s, robin, [{ skuId: audio, disabledPlans: [] }], []);
  await s.idle();
  expectEntries(s, 'Robin', await readUser(s, robin), [active(e5, e5Users), active(audio, null)]);
  await expectConsumed(s, { ENTERPRISEPREMIUM: 1, MCOMEETADV: 1 });

  s.step('remove Robin from E5 users');
  await removeMember(s, e5Users, robin);
  await s.idle();
  expectEntries(s, 'Robin', await readUser(s, robin), [
    failed(e5, e5Users, 'DependencyViolation'),
    active(audio, null),
  ]);
  await expectConsumed(s, { ENTERPRISEPREMIUM: 1, MCOMEETADV: 1 });

  s.step("remove Robin's direct Audio Conferencing");
  await assignUserLicense(s, robin, [], [audio]);
  await s.idle();
  expectEntries(s, 'Robin', await readUser(s, robin), []);
  await expectConsumed(s, { ENTERPRISEPREMIUM: 0, MCOMEETADV: 0 });

  await checkInvariants(s);
}
