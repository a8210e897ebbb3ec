import { importDirectory, membershipNotification, notify, users } from './directory.js';
import { active, expectGroupStatus, expectOutcomes, watchProcessing } from './expectations.js';
import { assignGroupLicense, createGroup, expectConsumed, groupMembers, listUsers } from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S11 — Membership webhook (design card): the validation handshake; a batch of `members@delta` notifications with
 * adds and removes, duplicates, one replayed out of order (by `sequenceNumber`) and both `@removed` forms ends as if
 * applied once in order; a batch with one wrong `clientState` is refused with 403 and changes nothing.
 */
export async function membershipWebhook(s: Scenario): Promise<void> {
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;

  s.step('validation handshake (POST /api/webhooks/graph?validationToken=…)');
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${s.tenant.id}`;
  const handshake = await s.operator.validationHandshake(token);
  s.expect(
    'the validation handshake',
    { status: 200, contentType: 'text/plain', body: token },
    { status: handshake.status, contentType: handshake.contentType.split(';')[0], body: handshake.body },
    'handshake answered 200 text/plain with the decoded token',
  );

  s.step('group "Project Phoenix" carries E3; members 1–4 in it, 5–8 not yet');
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', 20);
  const phoenix = await createGroup(s, 'Project Phoenix');
  const inGroup = users(s, 'Member', 4, { memberOf: [phoenix] });
  const outside = users(s, 'Newcomer', 4);
  await importDirectory(s, { users: [...inGroup, ...outside] });
  await assignGroupLicense(s, phoenix, [{ skuId: e3, disabledPlans: [] }], []);
  await watchProcessing(s, phoenix);
  await s.idle();
  const [m1, m2, m3, m4] = inGroup.map((u) => u.id);
  const [n5, n6, n7, n8] = outside.map((u) => u.id);
  if (!m1 || !m2 || !m3 || !m4 || !n5 || !n6 || !n7 || !n8) throw new Error('S11 needs eight users');

  s.step('one batch: adds and removes, a duplicate, one change replayed out of order, both @removed forms');
  const add = (id: string) => ({ id });
  const removed = (id: string) => ({ id, '@removed': 'deleted' });
  const removedDelta = (id: string) => ({ id, '@removed': { reason: 'deleted' } });
  const first = membershipNotification(s, phoenix, [add(n5), add(n6)], 1);
  const batch = [
    first,
    membershipNotification(s, phoenix, [removed(m1)], 2),
    membershipNotification(s, phoenix, [add(n7), removedDelta(m2)], 3),
    first, // duplicate delivery
    membershipNotification(s, phoenix, [removed(n5)], 5),
    membershipNotification(s, phoenix, [add(n5)], 4), // older than the removal above: must not win
    membershipNotification(s, phoenix, [add(m3), removed(n8)], 6), // a present member added, an absent one removed
  ];
  await notify(s, `a batch of ${batch.length} members@delta notifications`, batch);
  s.step('the same notifications replayed in a later batch');
  await notify(s, 'a replay of notifications 1, 2 and 4', [batch[0], batch[1], batch[5]]);
  s.step('a lifecycle notification');
  await notify(s, 'a reauthorizationRequired lifecycle notification', [
    {
      subscriptionId: `sim-${s.tenant.id.slice(0, 8)}-groups`,
      clientState: s.tenant.webhook.clientState,
      lifecycleEvent: 'reauthorizationRequired',
      subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
      tenantId: s.tenant.id,
    },
  ]);
  await s.idle();

  const finalMembers = [m3, m4, n6, n7];
  const expectFinal = async () => {
    s.expectSet(
      'members of Project Phoenix',
      finalMembers,
      (await groupMembers(s, phoenix)).map((m) => m.id),
      `members of Project Phoenix as if applied once in order: ${finalMembers.map((id) => s.label(id)).join(', ')}`,
    );
    const licensed = new Set(finalMembers);
    expectOutcomes(s, 'users', await listUsers(s), (u) => (licensed.has(u.id) ? [active(e3, phoenix)] : []));
    await expectConsumed(s, { ENTERPRISEPACK: finalMembers.length });
    await expectGroupStatus(s, phoenix, {
      status: 'allLicensesAssigned',
      succeeded: finalMembers.length,
      failed: 0,
    });
  };
  await expectFinal();

  s.step('a batch with one wrong clientState');
  await notify(
    s,
    'a batch whose second notification has a wrong clientState',
    [
      membershipNotification(s, phoenix, [add(n8)], 10),
      membershipNotification(s, phoenix, [removed(m3)], 11, 'not-the-tenant-secret'),
    ],
    403,
  );
  await s.idle();
  await expectFinal();

  await checkInvariants(s);
}
