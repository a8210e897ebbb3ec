import { describe, expect, it } from 'vitest';
import { type GroupStatus, LICENSE_ERRORS, type ProcessingState } from '../../src/engine/model.js';
import { finishApplyingResult, groupStatus, memberOutcome } from '../../src/engine/status.js';
import { entry } from './support/builders.js';
import { SKU } from './support/catalog.js';
import { groupId } from './support/ids.js';

// rules.md §4 "Group status" (seed 001) and §8's Finish applying result text.

const G1 = groupId(1);
const G2 = groupId(2);

describe('the status an admin sees on a group', () => {
  it.each<{ state: ProcessingState; succeeded: number; failed: number; status: GroupStatus }>([
    { state: 'QueuedForProcessing', succeeded: 0, failed: 0, status: 'inProgress' },
    { state: 'ProcessingInProgress', succeeded: 10, failed: 3, status: 'inProgress' },
    { state: 'ProcessingComplete', succeeded: 10, failed: 0, status: 'allLicensesAssigned' },
    { state: 'ProcessingComplete', succeeded: 0, failed: 0, status: 'allLicensesAssigned' },
    { state: 'ProcessingComplete', succeeded: 990, failed: 10, status: 'errorsAndIssues' },
    { state: 'ProcessingComplete', succeeded: 0, failed: 1, status: 'errorsAndIssues' },
  ])('$state with $succeeded succeeded and $failed failed shows $status', (row) => {
    expect(groupStatus(row.state, { succeeded: row.succeeded, failed: row.failed })).toBe(row.status);
  });
});

describe('how a member stands with one group', () => {
  it.each([
    {
      name: 'all of the group’s entries Active',
      entries: [entry(SKU.BASIC, G1, 'Active'), entry(SKU.SECURITY, G1, 'Active')],
      outcome: 'succeeded',
    },
    {
      name: 'one of the group’s entries in error',
      entries: [entry(SKU.BASIC, G1, 'Active'), entry(SKU.SECURITY, G1, 'Error', 'CountViolation')],
      outcome: 'failed',
    },
    {
      name: 'an error from another group only',
      entries: [entry(SKU.BASIC, G1, 'Active'), entry(SKU.BASIC, G2, 'Error', 'MutuallyExclusiveViolation')],
      outcome: 'succeeded',
    },
    { name: 'only a direct license', entries: [entry(SKU.BASIC, null, 'Active')], outcome: 'none' },
    { name: 'no entries', entries: [], outcome: 'none' },
  ] as const)('$name → $outcome', (row) => {
    expect(memberOutcome(row.entries, G1)).toBe(row.outcome);
  });
});

describe('the Finish applying audit text', () => {
  it('states the counts in Graph’s words', () => {
    expect(finishApplyingResult({ succeeded: 1000, failed: 0 })).toBe(
      'Users successfully assigned licenses: 1000, Users for whom license assignment failed: 0.',
    );
    expect(finishApplyingResult({ succeeded: 990, failed: 10 })).toBe(
      'Users successfully assigned licenses: 990, Users for whom license assignment failed: 10.',
    );
  });
});

describe('the license error values', () => {
  it('are Graph’s, in the check order of rules.md §3, then the removal-time hold', () => {
    expect(LICENSE_ERRORS).toEqual([
      'ProhibitedInUsageLocationViolation',
      'MutuallyExclusiveViolation',
      'UniquenessViolation',
      'CountViolation',
      'Other',
      'DependencyViolation',
    ]);
  });
});
