import { importDirectory, users } from './directory.js';
import {
  active,
  expectApplyingAudits,
  expectGroupStatus,
  expectMembersInError,
  expectOutcomes,
  finishText,
  watchProcessing,
} from './expectations.js';
import {
  assignGroupLicense,
  createGroup,
  expectConsumed,
  listUsers,
  type ProcessingDetails,
} from './graph.js';
import { checkInvariants } from './invariants.js';
import type { Scenario } from './run.js';

/**
 * S12 — Large group (seed 001: "like 100,000 users"): E3 assigned to a 100,000-user group completes, with progress
 * visible in `licenseProcessingDetails` throughout, and every invariant holding at the end.
 */
export async function largeGroup(s: Scenario): Promise<void> {
  const size = s.size(100_000, 2_000);
  const e3 = s.catalog.sku('ENTERPRISEPACK').skuId;

  s.step(`buy ${size} E3; import ${size} users into "All employees"`);
  await s.operator.setUnits(s.tenant.id, 'ENTERPRISEPACK', size);
  const everyone = await createGroup(s, 'All employees');
  await importDirectory(s, { users: users(s, 'Employee', size, { memberOf: [everyone] }) });

  s.step('assign E3 to All employees and follow licenseProcessingDetails');
  const started = Date.now();
  await assignGroupLicense(s, everyone, [{ skuId: e3, disabledPlans: [] }], []);
  const readings: ProcessingDetails[] = [];
  let lastLogged = 0;
  await watchProcessing(s, everyone, {
    intervalMs: s.full ? 500 : 20,
    timeoutMs: s.full ? 3_600_000 : 300_000,
    onDetails: (details) => {
      const previous = readings.at(-1);
      readings.push(details);
      if (details.membersTotal !== size)
        s.fail('membersTotal in licenseProcessingDetails', size, details.membersTotal);
      if (details.membersProcessed < 0 || details.membersProcessed > details.membersTotal)
        s.fail(
          'membersProcessed in licenseProcessingDetails',
          `0 … ${details.membersTotal}`,
          details.membersProcessed,
        );
      if (previous && details.membersProcessed < previous.membersProcessed)
        s.fail(
          'membersProcessed over time (it only grows)',
          `≥ ${previous.membersProcessed}`,
          details.membersProcessed,
        );
      const counted = details.membersSucceeded + details.membersFailed;
      if (previous && counted < previous.membersSucceeded + previous.membersFailed)
        s.fail(
          'membersSucceeded + membersFailed over time (a first assignment only adds)',
          `≥ ${previous.membersSucceeded + previous.membersFailed}`,
          counted,
        );
      if (counted > details.membersTotal)
        s.fail('membersSucceeded + membersFailed in licenseProcessingDetails', `≤ ${size}`, counted);
      if (details.state !== 'ProcessingComplete' && details.status !== 'inProgress')
        s.fail(`the status while ${details.state}`, 'inProgress', details.status);
      const now = Date.now();
      if (details.state === 'ProcessingComplete' || now - lastLogged >= (s.full ? 5000 : 250)) {
        lastLogged = now;
        s.note(
          `${((now - started) / 1000).toFixed(1)} s: ${details.state}, ${details.membersProcessed}/${details.membersTotal} processed, ` +
            `${details.membersSucceeded} succeeded, ${details.membersFailed} failed`,
        );
      }
    },
  });
  // Progress is what a progress bar would show: members processed, or already counted as succeeded or failed.
  const done = (r: ProcessingDetails) => Math.max(r.membersProcessed, r.membersSucceeded + r.membersFailed);
  const partial = readings.filter((r) => r.state === 'ProcessingInProgress' && done(r) > 0 && done(r) < size);
  if (partial.length === 0)
    s.fail(
      'progress seen in licenseProcessingDetails while in progress',
      `at least one reading with 0 < members processed (or succeeded + failed) < ${size}`,
      readings
        .map(
          (r) =>
            `${r.state} processed ${r.membersProcessed}, succeeded ${r.membersSucceeded}, failed ${r.membersFailed}`,
        )
        .filter((r, i, all) => all.indexOf(r) === i),
    );
  const seconds = (Date.now() - started) / 1000;
  s.ok(
    `progress visible: ${readings.length} readings, ${partial.length} of them part-way; ` +
      `${size} members in ${seconds.toFixed(1)} s (${Math.round(size / seconds)} members/s)`,
  );
  await s.idle();

  s.step('check every member, the seats, the status and the audit records');
  expectOutcomes(s, 'All employees', await listUsers(s), () => [active(e3, everyone)]);
  await expectConsumed(s, { ENTERPRISEPACK: size });
  await expectGroupStatus(s, everyone, {
    status: 'allLicensesAssigned',
    succeeded: size,
    failed: 0,
    total: size,
  });
  await expectMembersInError(s, everyone, []);
  await expectApplyingAudits(s, everyone, 1, finishText(size, 0));

  await checkInvariants(s);
}
