import {
  active,
  expectEntries,
  expectGroupStatus,
  expectMembersInError,
  failed,
  watchProcessing,
} from './expectations.js';
import {
  addMember,
  assignGroupLicense,
  createGroup,
  createUser,
  expectConsumed,
  expectRefusal,
  patchUser,
  readUser,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S4 — Usage location (seeds 001, 002, 003), in a GB tenant: group-licensed users without a usage location inherit
 * GB and keep `usageLocation: null`; a user in IR is refused until it moves to US; a direct assignment to a user
 * without usage location is refused with Graph's message.
 */
export async function usageLocation(s: Scenario): Promise<void> {
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;

  s.step('buy 10 E3; users without usage location, one in FR, one in IR, all in group "London office"');
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', 10);
  const london = await createGroup(s, 'London office');
  const alex = await createUser(s, {
    userPrincipalName: `alex.${s.tenant.id.slice(0, 6)}@contoso.com`,
    displayName: 'Alex (no location)',
  });
  const blair = await createUser(s, {
    userPrincipalName: `blair.${s.tenant.id.slice(0, 6)}@contoso.com`,
    displayName: 'Blair (no location)',
  });
  const camille = await createUser(s, {
    userPrincipalName: `camille.${s.tenant.id.slice(0, 6)}@contoso.com`,
    displayName: 'Camille (FR)',
    usageLocation: 'FR',
  });
  const dara = await createUser(s, {
    userPrincipalName: `dara.${s.tenant.id.slice(0, 6)}@contoso.com`,
    displayName: 'Dara (IR)',
    usageLocation: 'IR',
  });
  const eli = await createUser(s, {
    userPrincipalName: `eli.${s.tenant.id.slice(0, 6)}@contoso.com`,
    displayName: 'Eli (no location, no group)',
  });
  for (const user of [alex, blair, camille, dara]) await addMember(s, london, user);

  s.step('assign E3 to London office');
  await assignGroupLicense(s, london, [{ skuId: e3, disabledPlans: [] }], []);
  await watchProcessing(s, london);
  await s.idle();
  for (const [user, location] of [
    [alex, null],
    [blair, null],
    [camille, 'FR'],
  ] as const) {
    const read = await readUser(s, user);
    expectEntries(s, s.label(user), read, [active(e3, london)]);
    s.expect(
      `usageLocation of ${s.label(user)} (group licensing never sets it)`,
      location,
      read.usageLocation,
      `${s.label(user)} keeps usageLocation ${JSON.stringify(location)}`,
    );
  }
  expectEntries(s, s.label(dara), await readUser(s, dara), [
    failed(e3, london, 'ProhibitedInUsageLocationViolation'),
  ]);
  await expectConsumed(s, { ENTERPRISEPACK: 3 });
  await expectGroupStatus(s, london, {
    status: 'errorsAndIssues',
    succeeded: 3,
    failed: 1,
    errorsByType: { ProhibitedInUsageLocationViolation: 1 },
  });
  await expectMembersInError(s, london, [dara]);

  s.step(`PATCH ${s.label(dara)} usageLocation "US"`);
  await patchUser(s, dara, { usageLocation: 'US' });
  await s.idle();
  const moved = await readUser(s, dara);
  expectEntries(s, s.label(dara), moved, [active(e3, london)]);
  s.expect(`usageLocation of ${s.label(dara)}`, 'US', moved.usageLocation, '');
  await expectConsumed(s, { ENTERPRISEPACK: 4 });
  await expectGroupStatus(s, london, { status: 'allLicensesAssigned', succeeded: 4, failed: 0 });
  await expectMembersInError(s, london, []);

  s.step(`assign E3 directly to ${s.label(eli)}, who has no usage location`);
  await expectRefusal(
    s,
    {
      method: 'POST',
      path: `/users/${eli}/assignLicense`,
      body: { addLicenses: [{ skuId: e3, disabledPlans: [] }], removeLicenses: [] },
    },
    {
      status: 400,
      code: 'Request_BadRequest',
      message: 'License assignment cannot be done for user with invalid usage location.',
    },
  );
  expectEntries(s, s.label(eli), await readUser(s, eli), []);
  await expectConsumed(s, { ENTERPRISEPACK: 4 });

  await checkInvariants(s);
}
