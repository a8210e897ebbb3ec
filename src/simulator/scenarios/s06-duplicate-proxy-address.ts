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
  patchUser,
  readUser,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S6 — Duplicate proxy address (seed 001): two users share `smtp:alex@contoso.com`; E3 brings a mailbox, so the
 * second to be evaluated gets `UniquenessViolation`; once its address changes it is licensed by itself.
 */
export async function duplicateProxyAddress(s: Scenario): Promise<void> {
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;
  const suffix = s.tenant.id.slice(0, 6);
  const shared = 'smtp:alex@contoso.com';

  s.step(`buy 10 E3; Alex Wilber and Alex Martin both have ${shared}`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', 10);
  const first = await createUser(s, {
    userPrincipalName: `alex.wilber.${suffix}@contoso.com`,
    displayName: 'Alex Wilber',
    proxyAddresses: [shared],
  });
  const second = await createUser(s, {
    userPrincipalName: `alex.martin.${suffix}@contoso.com`,
    displayName: 'Alex Martin',
    proxyAddresses: [shared],
  });

  s.step('group "Sales" with Alex Wilber gets E3');
  const sales = await createGroup(s, 'Sales');
  await addMember(s, sales, first);
  await assignGroupLicense(s, sales, [{ skuId: e3, disabledPlans: [] }], []);
  await watchProcessing(s, sales);
  await s.idle();
  expectEntries(s, 'Alex Wilber', await readUser(s, first), [active(e3, sales)]);

  s.step('Alex Martin joins Sales (evaluated second)');
  await addMember(s, sales, second);
  await s.idle();
  expectEntries(s, 'Alex Martin', await readUser(s, second), [failed(e3, sales, 'UniquenessViolation')]);
  expectEntries(s, 'Alex Wilber', await readUser(s, first), [active(e3, sales)]);
  await expectConsumed(s, { ENTERPRISEPACK: 1 });
  await expectGroupStatus(s, sales, {
    status: 'errorsAndIssues',
    succeeded: 1,
    failed: 1,
    errorsByType: { UniquenessViolation: 1 },
  });
  await expectMembersInError(s, sales, [second]);

  s.step("change Alex Martin's proxy address to smtp:alex.martin@contoso.com");
  await patchUser(s, second, { proxyAddresses: ['smtp:alex.martin@contoso.com'] });
  await s.idle();
  expectEntries(s, 'Alex Martin', await readUser(s, second), [active(e3, sales)]);
  expectEntries(s, 'Alex Wilber', await readUser(s, first), [active(e3, sales)]);
  await expectConsumed(s, { ENTERPRISEPACK: 2 });
  await expectGroupStatus(s, sales, { status: 'allLicensesAssigned', succeeded: 2, failed: 0 });
  await expectMembersInError(s, sales, []);

  await checkInvariants(s);
}
