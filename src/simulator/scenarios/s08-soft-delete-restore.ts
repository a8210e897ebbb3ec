import { notify, userNotification } from './directory.js';
import { active, expectEntries, expectPlans, suspended, watchProcessing } from './expectations.js';
import {
  addMember,
  assignGroupLicense,
  assignUserLicense,
  audits,
  createGroup,
  createUser,
  deleteUser,
  expectConsumed,
  groupMembers,
  hardDeleteUser,
  listDeletedUserIds,
  readDeletedUser,
  readUser,
  restoreUser,
  statusOf,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S8 — Soft delete, restore, hard delete (seed 003): a user with E3 directly and EMS through a group is
 * soft-deleted (entries `Disabled`, plans `Suspended`, seats released), restored (entries `Active` again), soft-
 * and hard-deleted (gone; a new user takes the seat) — once through the Graph API, once through the webhook.
 */
export async function softDeleteRestore(s: Scenario): Promise<void> {
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;
  const ems = s.catalog.sku('EMS').skuId;
  const suffix = s.tenant.id.slice(0, 6);

  s.step('buy exactly 1 E3 and 1 EMS; group "Mobile workers" carries EMS');
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', 1);
  await s.operator.setUnits(s.tenant.id, 'EMS', 1);
  const mobile = await createGroup(s, 'Mobile workers');
  await assignGroupLicense(s, mobile, [{ skuId: ems, disabledPlans: [] }], []);
  await watchProcessing(s, mobile);

  /** A user with E3 directly and EMS through Mobile workers, checked. */
  const licensedUser = async (name: string): Promise<string> => {
    const id = await createUser(s, {
      userPrincipalName: `${name.toLowerCase()}.${suffix}@contoso.com`,
      displayName: name,
      usageLocation: 'US',
    });
    await assignUserLicense(s, id, [{ skuId: e3, disabledPlans: [] }], []);
    await addMember(s, mobile, id);
    await s.idle();
    const user = await readUser(s, id);
    expectEntries(s, name, user, [active(e3, null), active(ems, mobile)]);
    expectPlans(s, name, user, 'Enabled');
    await expectConsumed(s, { ENTERPRISEPACK: 1, EMS: 1 });
    return id;
  };

  const expectSuspended = async (id: string) => {
    const deleted = await readDeletedUser(s, id);
    expectEntries(s, `${s.label(id)} (GET /directory/deletedItems/{id})`, deleted, [
      suspended(e3, null),
      suspended(ems, mobile),
    ]);
    expectPlans(s, s.label(id), deleted, 'Suspended');
    s.expect(`GET /users/${s.label(id)} of a soft-deleted user`, 404, await statusOf(s, `/users/${id}`), '');
    s.expect(
      `${s.label(id)} in GET /directory/deletedItems/microsoft.graph.user`,
      true,
      (await listDeletedUserIds(s)).includes(id),
      `${s.label(id)} is listed in deletedItems, not in /users`,
    );
    await expectConsumed(s, { ENTERPRISEPACK: 0, EMS: 0 });
  };

  const expectRestored = async (id: string) => {
    const user = await readUser(s, id);
    expectEntries(s, s.label(id), user, [active(e3, null), active(ems, mobile)]);
    expectPlans(s, s.label(id), user, 'Enabled');
    await expectConsumed(s, { ENTERPRISEPACK: 1, EMS: 1 });
  };

  const expectGone = async (id: string) => {
    s.expect(
      `GET /users/${s.label(id)} and /directory/deletedItems/${s.label(id)} after the hard delete`,
      [404, 404],
      [await statusOf(s, `/users/${id}`), await statusOf(s, `/directory/deletedItems/${id}`)],
      `${s.label(id)} is gone from /users and from deletedItems`,
    );
    s.expect(
      `${s.label(id)} among the members of Mobile workers`,
      false,
      (await groupMembers(s, mobile)).some((m) => m.id === id),
      '',
    );
    await expectConsumed(s, { ENTERPRISEPACK: 0, EMS: 0 });
  };

  // Through the Graph API
  s.step('Jordan: E3 directly, EMS through Mobile workers');
  const jordan = await licensedUser('Jordan');

  s.step('soft-delete Jordan (DELETE /users/{id})');
  await deleteUser(s, jordan);
  await s.idle();
  await expectSuspended(jordan);

  s.step('restore Jordan (POST /directory/deletedItems/{id}/restore)');
  await restoreUser(s, jordan);
  await s.idle();
  await expectRestored(jordan);

  s.step('soft-delete Jordan again, then hard-delete (DELETE /directory/deletedItems/{id})');
  await deleteUser(s, jordan);
  await s.idle();
  await expectSuspended(jordan);
  await hardDeleteUser(s, jordan);
  await s.idle();
  await expectGone(jordan);
  await expectLifecycleAudits(s, jordan, { 'Delete user': 2, 'Restore user': 1, 'Hard delete user': 1 });

  // Through the webhook
  s.step('a new user, Morgan, takes the freed seats');
  const morgan = await licensedUser('Morgan');

  s.step('webhook: Users/{id} deleted with @removed.reason "changed" (soft delete)');
  await notify(s, 'the soft delete of Morgan', [userNotification(s, morgan, 'softDelete')]);
  await s.idle();
  await expectSuspended(morgan);

  s.step('webhook: Users/{id} updated (restore)');
  await notify(s, 'the restore of Morgan', [userNotification(s, morgan, 'restore')]);
  await s.idle();
  await expectRestored(morgan);

  s.step('webhook: soft delete, then @removed.reason "deleted" (hard delete)');
  await notify(s, 'the soft delete of Morgan', [userNotification(s, morgan, 'softDelete')]);
  await s.idle();
  await expectSuspended(morgan);
  await notify(s, 'the hard delete of Morgan', [userNotification(s, morgan, 'hardDelete')]);
  await s.idle();
  await expectGone(morgan);
  await expectLifecycleAudits(s, morgan, { 'Delete user': 2, 'Restore user': 1, 'Hard delete user': 1 });

  s.step('a new user, Quinn, takes the seats again');
  await licensedUser('Quinn');

  await checkInvariants(s);
}

/** The user lifecycle audit records (rules.md §8) for one user. */
async function expectLifecycleAudits(
  s: Scenario,
  userId: string,
  expected: Readonly<Record<string, number>>,
) {
  const got: Record<string, number> = {};
  for (const activity of Object.keys(expected)) {
    got[activity] = (await audits(s, activity)).filter((r) =>
      r.targetResources.some((t) => t.id === userId),
    ).length;
  }
  s.expect(
    `audit records of ${s.label(userId)}'s lifecycle`,
    expected,
    got,
    `audit: ${Object.entries(got)
      .map(([a, n]) => `${n} × "${a}"`)
      .join(', ')} for ${s.label(userId)}`,
  );
}
