import { importDirectory, users } from './directory.js';
import { active, expectGroupStatus, expectOutcomes, watchProcessing } from './expectations.js';
import { assignGroupLicense, createGroup, expectConsumed, listUsers } from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S10 — Nested groups for users (seed 001): *Sales* carries E3 and contains *Sales EMEA*; only Sales' direct user
 * members are licensed (a user in both is, as a direct member of Sales).
 */
export async function nestedGroups(s: Scenario): Promise<void> {
  const directCount = s.size(20, 5);
  const emeaCount = s.size(10, 3);
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;

  s.step(
    `buy 100 E3; "Sales" has ${directCount} users and the group "Sales EMEA" (${emeaCount} users, one also in Sales)`,
  );
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', 100);
  const sales = await createGroup(s, 'Sales');
  const emea = await createGroup(s, 'Sales EMEA');
  const direct = users(s, 'Sales rep', directCount - 1, { memberOf: [sales] });
  const both = users(s, 'Sales rep in EMEA too', 1, { memberOf: [sales, emea] });
  const nested = users(s, 'EMEA rep', emeaCount - 1, { memberOf: [emea] });
  await importDirectory(s, {
    users: [...direct, ...both, ...nested],
    memberships: [{ groupId: sales, memberId: emea }],
  });

  s.step('assign E3 to Sales');
  await assignGroupLicense(s, sales, [{ skuId: e3, disabledPlans: [] }], []);
  await watchProcessing(s, sales);
  await s.idle();
  const licensed = new Set([...direct, ...both].map((u) => u.id));
  expectOutcomes(s, 'users', await listUsers(s), (u) => (licensed.has(u.id) ? [active(e3, sales)] : []));
  await expectConsumed(s, { ENTERPRISEPACK: directCount });
  await expectGroupStatus(s, sales, { status: 'allLicensesAssigned', succeeded: directCount, failed: 0 });

  await checkInvariants(s);
}
