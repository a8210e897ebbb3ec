import { active, expectEntries, watchProcessing } from './expectations.js';
import {
  addMember,
  assignGroupLicense,
  assignUserLicense,
  createGroup,
  createUser,
  expectConsumed,
  expectRefusal,
  readUser,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S9 — Direct and inherited together (seed 003): E3 directly and through a group is one seat and two entries;
 * removing the direct one keeps the group's; removing it directly again is refused with Graph's message.
 */
export async function directAndInherited(s: Scenario): Promise<void> {
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;

  s.step('buy exactly 1 E3; Taylor gets it directly');
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', 1);
  const taylor = await createUser(s, {
    userPrincipalName: `taylor.${s.tenant.id.slice(0, 6)}@contoso.com`,
    displayName: 'Taylor',
    usageLocation: 'US',
  });
  await assignUserLicense(s, taylor, [{ skuId: e3, disabledPlans: [] }], []);
  expectEntries(s, 'Taylor', await readUser(s, taylor), [active(e3, null)]);

  s.step('group "Finance" carries E3 too; Taylor joins it');
  const finance = await createGroup(s, 'Finance');
  await assignGroupLicense(s, finance, [{ skuId: e3, disabledPlans: [] }], []);
  await watchProcessing(s, finance);
  await addMember(s, finance, taylor);
  await s.idle();
  expectEntries(s, 'Taylor', await readUser(s, taylor), [active(e3, null), active(e3, finance)]);
  await expectConsumed(s, { ENTERPRISEPACK: 1 });

  s.step('remove E3 directly (the group keeps it)');
  await assignUserLicense(s, taylor, [], [e3]);
  await s.idle();
  expectEntries(s, 'Taylor', await readUser(s, taylor), [active(e3, finance)]);
  await expectConsumed(s, { ENTERPRISEPACK: 1 });

  s.step('remove E3 directly again');
  await expectRefusal(
    s,
    {
      method: 'POST',
      path: `/users/${taylor}/assignLicense`,
      body: { addLicenses: [], removeLicenses: [e3] },
    },
    {
      status: 400,
      code: 'Request_BadRequest',
      message:
        'User license is inherited from a group membership and it cannot be removed directly from the user.',
    },
  );
  expectEntries(s, 'Taylor', await readUser(s, taylor), [active(e3, finance)]);
  await expectConsumed(s, { ENTERPRISEPACK: 1 });

  await checkInvariants(s);
}
