// The checks scenarios share: license entries (exact state, error, source and disabled plans), effective
// licenses and plans, group processing (states seen, status and counts), errors listings and audit records.
import {
  type AssignedLicense,
  audits,
  groupsWithLicenseErrors,
  type LicenseState,
  membersWithLicenseErrors,
  type Principal,
  type ProcessingDetails,
  type ProcessingState,
  processingStates,
  readGroupLicensing,
  readProcessingDetails,
  type UserDetail,
} from './graph.js';
import type { Scenario } from './run.js';

/** One expected `licenseAssignmentState`. */
export interface ExpectedEntry {
  readonly skuId: string;
  /** The group, or null for a direct assignment. */
  readonly group: string | null;
  readonly state: 'Active' | 'Error' | 'Disabled';
  readonly error: string;
  readonly disabledPlans?: readonly string[];
}

export function active(skuId: string, group: string | null, disabledPlans: readonly string[] = []) {
  return { skuId, group, state: 'Active', error: 'None', disabledPlans } satisfies ExpectedEntry;
}

export function failed(
  skuId: string,
  group: string | null,
  error: string,
  disabledPlans: readonly string[] = [],
) {
  return { skuId, group, state: 'Error', error, disabledPlans } satisfies ExpectedEntry;
}

export function suspended(skuId: string, group: string | null, disabledPlans: readonly string[] = []) {
  return { skuId, group, state: 'Disabled', error: 'None', disabledPlans } satisfies ExpectedEntry;
}

/** An entry as one readable line: `ENTERPRISEPACK via HR Department: Active/None without YAMMER_ENTERPRISE`. */
function describe(
  s: Scenario,
  entry: {
    skuId: string;
    group: string | null;
    state: string;
    error: string;
    disabledPlans?: readonly string[];
  },
): string {
  const disabled = [...(entry.disabledPlans ?? [])].map((id) => s.catalog.planName(id)).sort();
  return (
    `${s.label(entry.skuId)} ${entry.group === null ? 'direct' : `via ${s.label(entry.group)}`}: ` +
    `${entry.state}/${entry.error}${disabled.length > 0 ? ` without ${disabled.join('+')}` : ''}`
  );
}

function describeState(s: Scenario, state: LicenseState): string {
  return describe(s, { ...state, group: state.assignedByGroup });
}

/** The entries of a principal as sorted readable lines (what is compared). */
export function entryLines(s: Scenario, principal: Pick<Principal, 'licenseAssignmentStates'>): string[] {
  return principal.licenseAssignmentStates.map((e) => describeState(s, e)).sort();
}

function expectedLines(s: Scenario, expected: readonly ExpectedEntry[]): string[] {
  return expected.map((e) => describe(s, e)).sort();
}

/** The effective licenses that follow from the expected entries (every SKU with a seat-holding or suspended entry). */
function expectedLicenses(expected: readonly ExpectedEntry[]): AssignedLicense[] {
  const bySku = new Map<string, Set<string>>();
  for (const e of expected) {
    const holds = e.state === 'Active' || e.state === 'Disabled' || e.error === 'DependencyViolation';
    if (!holds) continue;
    const known = bySku.get(e.skuId);
    if (!known) bySku.set(e.skuId, new Set(e.disabledPlans ?? []));
    else for (const plan of known) if (!(e.disabledPlans ?? []).includes(plan)) known.delete(plan);
  }
  return [...bySku.entries()]
    .map(([skuId, disabled]) => ({ skuId, disabledPlans: [...disabled].sort() }))
    .sort((a, b) => (a.skuId < b.skuId ? -1 : 1));
}

function licenseLines(s: Scenario, licenses: readonly AssignedLicense[]): string[] {
  return licenses
    .map((l) => {
      const disabled = l.disabledPlans.map((id) => s.catalog.planName(id)).sort();
      return `${s.label(l.skuId)}${disabled.length > 0 ? ` without ${disabled.join('+')}` : ''}`;
    })
    .sort();
}

/**
 * Checks a principal's `licenseAssignmentStates` exactly (SKU, source, state, error, disabled plans) and that its
 * `assignedLicenses` follow from them; returns a mismatch description, or undefined.
 */
function mismatch(s: Scenario, principal: Principal, expected: readonly ExpectedEntry[]) {
  const want = expectedLines(s, expected);
  const got = entryLines(s, principal);
  if (want.join('\n') !== got.join('\n')) return { what: 'licenseAssignmentStates', want, got };
  const wantLicenses = licenseLines(s, expectedLicenses(expected));
  const gotLicenses = licenseLines(s, principal.assignedLicenses);
  if (wantLicenses.join('\n') !== gotLicenses.join('\n'))
    return { what: 'assignedLicenses', want: wantLicenses, got: gotLicenses };
  return undefined;
}

/** One principal's entries and effective licenses, exactly. */
export function expectEntries(
  s: Scenario,
  who: string,
  principal: Principal,
  expected: readonly ExpectedEntry[],
) {
  const found = mismatch(s, principal, expected);
  if (found) s.fail(`${found.what} of ${who}`, found.want, found.got);
  s.ok(`${who}: ${expected.length === 0 ? 'no license entries' : expectedLines(s, expected).join('; ')}`);
}

/**
 * Many principals at once: each one's entries exactly as `expectedFor` says. On a mismatch, names how many
 * differ and the first of them, expected against got. Prints one line per distinct outcome with its count.
 */
export function expectOutcomes(
  s: Scenario,
  what: string,
  principals: readonly Principal[],
  expectedFor: (principal: Principal) => readonly ExpectedEntry[],
): void {
  const wrong: { id: string; found: NonNullable<ReturnType<typeof mismatch>> }[] = [];
  const tally = new Map<string, number>();
  for (const principal of principals) {
    const expected = expectedFor(principal);
    const found = mismatch(s, principal, expected);
    if (found) wrong.push({ id: principal.id, found });
    const key = expected.length === 0 ? 'no license entries' : expectedLines(s, expected).join('; ');
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  const first = wrong[0];
  if (first) {
    const others = wrong.slice(1, 6).map((w) => s.label(w.id));
    s.fail(
      `${what}: ${wrong.length} of ${principals.length} differ` +
        (others.length > 0 ? ` (also ${others.join(', ')}${wrong.length > 6 ? ', …' : ''})` : '') +
        `; ${first.found.what} of ${s.label(first.id)}`,
      first.found.want,
      first.found.got,
    );
  }
  for (const [outcome, n] of tally) s.ok(`${what}: ${n} × ${outcome}`);
}

/** Checks a user's `assignedPlans`: exactly the enabled plans of its licenses, all with this capability status. */
export function expectPlans(
  s: Scenario,
  who: string,
  user: UserDetail,
  capabilityStatus: 'Enabled' | 'Suspended',
  quiet = false,
): void {
  const want = new Set<string>();
  for (const license of user.assignedLicenses)
    for (const plan of s.catalog.enabledPlans(license.skuId, license.disabledPlans)) want.add(plan);
  const got = new Set(user.assignedPlans.map((p) => p.servicePlanId));
  const names = (ids: Iterable<string>) => [...ids].map((id) => s.catalog.planName(id)).sort();
  if (names(want).join() !== names(got).join()) s.fail(`assignedPlans of ${who}`, names(want), names(got));
  const statuses = [...new Set(user.assignedPlans.map((p) => p.capabilityStatus))];
  if (user.assignedPlans.length > 0 && (statuses.length !== 1 || statuses[0] !== capabilityStatus))
    s.fail(`capabilityStatus of the assignedPlans of ${who}`, [capabilityStatus], statuses);
  if (!quiet) s.ok(`${who}: ${got.size} assignedPlans, all ${capabilityStatus}`);
}

// ---------------------------------------------------------------------------------------------------------
// Group processing

export interface WatchOptions {
  /** Poll `licenseProcessingDetails` (progress counters) instead of the group's `licenseProcessingState`. */
  readonly onDetails?: (details: ProcessingDetails) => void;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Watches a group from the 202 of its license change to `ProcessingComplete`, polling (bounded), and checks the
 * states seen: at least one of `QueuedForProcessing` / `ProcessingInProgress`, then `ProcessingComplete`, never
 * going back.
 */
export async function watchProcessing(
  s: Scenario,
  groupId: string,
  options: WatchOptions = {},
): Promise<void> {
  const seen: ProcessingState[] = [];
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 600_000;
  for (;;) {
    let state: ProcessingState;
    if (options.onDetails) {
      const details = await readProcessingDetails(s, groupId);
      options.onDetails(details);
      state = details.state;
    } else {
      state = (await readGroupLicensing(s, groupId)).licenseProcessingState.state;
    }
    if (seen.at(-1) !== state) seen.push(state);
    if (state === 'ProcessingComplete') break;
    if (Date.now() - started > timeoutMs)
      s.fail(
        `licenseProcessingState of ${s.label(groupId)} within ${timeoutMs / 1000} s`,
        'ProcessingComplete',
        seen,
      );
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
  const order = seen.map((state) => processingStates.indexOf(state));
  const forward = order.every((index, i) => i === 0 || index > (order[i - 1] ?? -1));
  if (seen.length < 2 || !forward)
    s.fail(
      `licenseProcessingState transitions of ${s.label(groupId)}`,
      'QueuedForProcessing and/or ProcessingInProgress, then ProcessingComplete',
      seen,
    );
  s.ok(`${s.label(groupId)} licenseProcessingState: ${seen.join(' → ')} (${Date.now() - started} ms)`);
}

export interface ExpectedStatus {
  readonly status: ProcessingDetails['status'];
  readonly succeeded: number;
  readonly failed: number;
  readonly errorsByType?: Readonly<Record<string, number>>;
  readonly total?: number;
}

/** The group's status and counts in the `licenseProcessingDetails` extension. */
export async function expectGroupStatus(
  s: Scenario,
  groupId: string,
  expected: ExpectedStatus,
): Promise<void> {
  const details = await readProcessingDetails(s, groupId);
  const want = {
    state: 'ProcessingComplete',
    status: expected.status,
    membersSucceeded: expected.succeeded,
    membersFailed: expected.failed,
    errorsByType: expected.errorsByType ?? {},
    ...(expected.total === undefined
      ? {}
      : { membersTotal: expected.total, membersProcessed: expected.total }),
  };
  const got = {
    state: details.state,
    status: details.status,
    membersSucceeded: details.membersSucceeded,
    membersFailed: details.membersFailed,
    errorsByType: details.errorsByType,
    ...(expected.total === undefined
      ? {}
      : { membersTotal: details.membersTotal, membersProcessed: details.membersProcessed }),
  };
  const errors = Object.entries(details.errorsByType)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  s.expect(
    `licenseProcessingDetails of ${s.label(groupId)}`,
    want,
    got,
    `${s.label(groupId)}: ${details.status}, ${details.membersSucceeded} succeeded, ${details.membersFailed} failed` +
      (errors ? ` (${errors})` : ''),
  );
}

/** `membersWithLicenseErrors` of the group is exactly these members, and the error filter agrees. */
export async function expectMembersInError(
  s: Scenario,
  groupId: string,
  ids: readonly string[],
): Promise<void> {
  s.expectSet(
    `membersWithLicenseErrors of ${s.label(groupId)}`,
    ids,
    await membersWithLicenseErrors(s, groupId),
    `membersWithLicenseErrors of ${s.label(groupId)}: ${ids.length}`,
  );
  const flagged = (await groupsWithLicenseErrors(s)).includes(groupId);
  s.expect(
    `${s.label(groupId)} in groups?$filter=hasMembersWithLicenseErrors eq true`,
    ids.length > 0,
    flagged,
    `${s.label(groupId)} ${flagged ? 'is' : 'is not'} in groups?$filter=hasMembersWithLicenseErrors eq true`,
  );
}

export const START_APPLYING = 'Start applying group based license to users';
export const FINISH_APPLYING = 'Finish applying group based license to users';

/** The result text of the *Finish applying…* record (rules.md §8). */
export function finishText(succeeded: number, failed: number): string {
  return `Users successfully assigned licenses: ${succeeded}, Users for whom license assignment failed: ${failed}.`;
}

/**
 * The audit log has `count` *Start applying…* records for the group and as many *Finish applying…*, the newest
 * finish carrying exactly `result`.
 */
export async function expectApplyingAudits(s: Scenario, groupId: string, count: number, result: string) {
  const forGroup = (records: Awaited<ReturnType<typeof audits>>) =>
    records.filter((r) => r.targetResources.some((t) => t.id === groupId));
  const starts = forGroup(await audits(s, START_APPLYING));
  const finishes = forGroup(await audits(s, FINISH_APPLYING));
  s.expect(
    `audit records "${START_APPLYING}" / "${FINISH_APPLYING}" for ${s.label(groupId)}`,
    { starts: count, finishes: count },
    { starts: starts.length, finishes: finishes.length },
    '',
  );
  const newest = finishes[0];
  const text = newest?.targetResources
    .find((t) => t.id === groupId)
    ?.modifiedProperties.find((p) => p.displayName === 'Result')?.newValue;
  s.expect(`the result of the newest "${FINISH_APPLYING}" record`, result, text, '');
  const start = starts[0];
  if (start && newest && start.activityDateTime > newest.activityDateTime)
    s.fail('the order of the applying records', 'Start before Finish', [
      start.activityDateTime,
      newest.activityDateTime,
    ]);
  s.ok(`audit: ${count} × "Start applying…" and "Finish applying…" for ${s.label(groupId)}: "${text}"`);
}
