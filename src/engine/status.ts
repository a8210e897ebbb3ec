import type { GroupStatus, LicenseEntry, ProcessingState } from './model.js';

export interface GroupMemberCounts {
  /** Members whose entries from this group are all granted. */
  readonly succeeded: number;
  /** Members with an entry from this group in error. */
  readonly failed: number;
}

/**
 * The status an admin sees on the group (rules.md §4, seed 001): in progress until processing completes, then all
 * assigned, or errors and issues when any member has an error from this group.
 */
export function groupStatus(state: ProcessingState, counts: GroupMemberCounts): GroupStatus {
  if (state !== 'ProcessingComplete') return 'inProgress';
  return counts.failed > 0 ? 'errorsAndIssues' : 'allLicensesAssigned';
}

/** How a member stands with respect to one group's assignment, from its entries. */
export function memberOutcome(
  entries: readonly LicenseEntry[],
  groupId: string,
): 'succeeded' | 'failed' | 'none' {
  let found = false;
  for (const entry of entries) {
    if (entry.assignedByGroup !== groupId) continue;
    found = true;
    if (entry.state === 'Error') return 'failed';
  }
  return found ? 'succeeded' : 'none';
}

/** The Graph text of the *Finish applying group based license to users* audit record. */
export function finishApplyingResult(counts: GroupMemberCounts): string {
  return `Users successfully assigned licenses: ${counts.succeeded}, Users for whom license assignment failed: ${counts.failed}.`;
}
