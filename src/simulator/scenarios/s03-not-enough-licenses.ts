import { byId, importDirectory, users } from './directory.js';
import {
  active,
  type ExpectedEntry,
  expectApplyingAudits,
  expectEntries,
  expectGroupStatus,
  expectMembersInError,
  expectOutcomes,
  failed,
  finishText,
  START_APPLYING,
  watchProcessing,
} from './expectations.js';
import {
  addMember,
  assignGroupLicense,
  audits,
  createGroup,
  expectConsumed,
  listUsers,
  readGroupLicensing,
  readUser,
  reprocessGroup,
  reprocessUser,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S3 — Not enough licenses (seed 001): a group larger than the seats bought; the rest wait in `CountViolation`.
 * Buying more heals them without a reprocess, first come first served; in a manual-healing tenant nothing moves
 * until a user or group reprocess; freeing seats by removing another group's assignment heals too.
 */
export async function notEnoughLicenses(s: Scenario): Promise<void> {
  await automaticHealing(s);
  await manualHealing(
    await s.another({
      displayName: 'S3 manual healing',
      countryLetterCode: 'US',
      licenseErrorHealing: 'manual',
    }),
  );
}

/** The users' entries: `Active` for `granted`, `CountViolation` for `waiting`, none for the rest. */
function seatsOutcome(
  skuId: string,
  groupId: string,
  granted: ReadonlySet<string>,
  waiting: ReadonlySet<string>,
) {
  return (user: { id: string }): ExpectedEntry[] =>
    granted.has(user.id)
      ? [active(skuId, groupId)]
      : waiting.has(user.id)
        ? [failed(skuId, groupId, 'CountViolation')]
        : [];
}

async function startAssignCount(s: Scenario, groupId: string): Promise<number> {
  return (await audits(s, START_APPLYING)).filter((r) => r.targetResources.some((t) => t.id === groupId))
    .length;
}

async function automaticHealing(s: Scenario): Promise<void> {
  const seats = s.size(100, 20);
  const lateCount = s.size(10, 2);
  const initialCount = s.size(110, 22);
  const groupSize = initialCount + lateCount;
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;

  s.step(`buy ${seats} E3; group "Engineering" with ${initialCount} users, ${lateCount} more to join later`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', seats);
  const engineering = await createGroup(s, 'Engineering');
  // Latecomers get the lowest ids: if the waiting room went by id rather than by arrival, they would jump the queue.
  const initial = users(s, 'Engineer', initialCount, { memberOf: [engineering], lead: '8' });
  const late = users(s, 'Late engineer', lateCount, { lead: '0' });
  await importDirectory(s, { users: [...initial, ...late] });

  s.step('assign E3 to Engineering');
  await assignGroupLicense(s, engineering, [{ skuId: e3, disabledPlans: [] }], []);
  await watchProcessing(s, engineering);
  await s.idle();
  // Everyone arrived together, so seats go by principal id (rules.md §3).
  const ordered = byId(initial.map((u) => u.id));
  const firstGranted = new Set(ordered.slice(0, seats));
  const jobWaiters = new Set(ordered.slice(seats));
  expectOutcomes(
    s,
    'Engineering',
    await listUsers(s),
    seatsOutcome(e3, engineering, firstGranted, jobWaiters),
  );

  s.step(`${lateCount} latecomers join Engineering one by one`);
  for (const user of late) await addMember(s, engineering, user.id);
  await s.idle();
  const lateIds = new Set(late.map((u) => u.id));
  const waiting = new Set([...jobWaiters, ...lateIds]);
  expectOutcomes(s, 'Engineering', await listUsers(s), seatsOutcome(e3, engineering, firstGranted, waiting));
  s.ok(`${seats} Active, ${waiting.size} CountViolation, Available 0`);
  await expectConsumed(s, { ENTERPRISEPACK: seats });
  await expectGroupStatus(s, engineering, {
    status: 'errorsAndIssues',
    succeeded: seats,
    failed: waiting.size,
    errorsByType: { CountViolation: waiting.size },
  });
  await expectMembersInError(s, engineering, [...waiting]);
  await expectApplyingAudits(s, engineering, 1, finishText(seats, jobWaiters.size));

  s.step(`buy ${jobWaiters.size} more: those waiting since the assignment come first, not the latecomers`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', seats + jobWaiters.size);
  await s.idle();
  const allInitial = new Set(initial.map((u) => u.id));
  expectOutcomes(s, 'Engineering', await listUsers(s), seatsOutcome(e3, engineering, allInitial, lateIds));
  await expectConsumed(s, { ENTERPRISEPACK: seats + jobWaiters.size });
  await expectMembersInError(s, engineering, [...lateIds]);

  s.step(`buy ${lateCount} more: the latecomers too`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', seats + jobWaiters.size + lateCount);
  await s.idle();
  const everyone = new Set([...allInitial, ...lateIds]);
  expectOutcomes(s, 'Engineering', await listUsers(s), seatsOutcome(e3, engineering, everyone, new Set()));
  await expectConsumed(s, { ENTERPRISEPACK: groupSize });
  await expectGroupStatus(s, engineering, { status: 'allLicensesAssigned', succeeded: groupSize, failed: 0 });
  await expectMembersInError(s, engineering, []);
  s.expect(
    'processing runs of Engineering (healing needs no reprocess)',
    { starts: 1, state: 'ProcessingComplete' },
    {
      starts: await startAssignCount(s, engineering),
      state: (await readGroupLicensing(s, engineering)).licenseProcessingState.state,
    },
    'healed without any reprocess: still one processing run of Engineering',
  );

  const internCount = s.size(10, 2);
  s.step(`group "Interns" (${internCount} users) gets E3 while no seat is left`);
  const interns = await createGroup(s, 'Interns');
  const internUsers = users(s, 'Intern', internCount, { memberOf: [interns] });
  await importDirectory(s, { users: internUsers });
  await assignGroupLicense(s, interns, [{ skuId: e3, disabledPlans: [] }], []);
  await watchProcessing(s, interns);
  await s.idle();
  const internIds = new Set(internUsers.map((u) => u.id));
  const both =
    (granted: Set<string>, waitingInterns: Set<string>, grantedInterns: Set<string>) => (u: { id: string }) =>
      internIds.has(u.id)
        ? seatsOutcome(e3, interns, grantedInterns, waitingInterns)(u)
        : seatsOutcome(e3, engineering, granted, new Set())(u);
  expectOutcomes(s, 'users', await listUsers(s), both(everyone, internIds, new Set()));

  s.step("remove Engineering's E3: the freed seats heal the interns");
  await assignGroupLicense(s, engineering, [], [e3]);
  await watchProcessing(s, engineering);
  await s.idle();
  expectOutcomes(s, 'users', await listUsers(s), both(new Set(), new Set(), internIds));
  await expectConsumed(s, { ENTERPRISEPACK: internCount });
  await expectGroupStatus(s, interns, { status: 'allLicensesAssigned', succeeded: internCount, failed: 0 });
  await expectMembersInError(s, interns, []);

  await checkInvariants(s);
}

async function manualHealing(s: Scenario): Promise<void> {
  const seats = s.size(10, 5);
  const extra = 2;
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;

  s.step(`manual healing: buy ${seats} E3; group "Support" with ${seats + extra} users gets E3`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', seats);
  const support = await createGroup(s, 'Support');
  const members = users(s, 'Support agent', seats + extra, { memberOf: [support] });
  await importDirectory(s, { users: members });
  await assignGroupLicense(s, support, [{ skuId: e3, disabledPlans: [] }], []);
  await watchProcessing(s, support);
  await s.idle();
  const ordered = byId(members.map((u) => u.id));
  const granted = new Set(ordered.slice(0, seats));
  const [first, second] = ordered.slice(seats);
  if (first === undefined || second === undefined) throw new Error('S3 needs two waiters');
  expectOutcomes(
    s,
    'Support',
    await listUsers(s),
    seatsOutcome(e3, support, granted, new Set([first, second])),
  );

  s.step(`buy ${extra} more: with manual healing nothing changes`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', seats + extra);
  await s.idle();
  expectOutcomes(
    s,
    'Support',
    await listUsers(s),
    seatsOutcome(e3, support, granted, new Set([first, second])),
  );
  await expectConsumed(s, { ENTERPRISEPACK: seats });

  s.step(`reprocess ${s.label(first)} (POST /users/{id}/reprocessLicenseAssignment)`);
  await reprocessUser(s, first);
  await s.idle();
  expectEntries(s, s.label(first), await readUser(s, first), [active(e3, support)]);
  expectEntries(s, s.label(second), await readUser(s, second), [failed(e3, support, 'CountViolation')]);
  await expectConsumed(s, { ENTERPRISEPACK: seats + 1 });

  s.step('reprocess the group (POST /groups/{id}/reprocessLicenseAssignment)');
  await reprocessGroup(s, support);
  await watchProcessing(s, support);
  await s.idle();
  const all = new Set(ordered);
  expectOutcomes(s, 'Support', await listUsers(s), seatsOutcome(e3, support, all, new Set()));
  await expectConsumed(s, { ENTERPRISEPACK: seats + extra });
  await expectGroupStatus(s, support, { status: 'allLicensesAssigned', succeeded: seats + extra, failed: 0 });
  await expectMembersInError(s, support, []);

  await checkInvariants(s);
}
