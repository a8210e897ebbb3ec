// What the Licenses page shows for a group (src/application/group-licensing.ts, processingDetails) on the in-memory
// ports: while a job runs, its planned total and the pages done; once complete, the members as they stand, the
// admin status from their outcomes, and a page that failed for good or a job never planned shown as errors.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { processingDetails } from '../../src/application/group-licensing.js';
import type { GroupLicenseRecord, PrincipalRecord } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { LicenseEntry } from '../../src/engine/index.js';
import { InMemoryDirectoryQueries, InMemoryLicensingQueries } from '../support/in-memory-queries.js';
import {
  InMemoryDirectoryStore,
  InMemoryGroupJobs,
  InMemoryMemberLists,
  InMemoryTenantStore,
} from '../support/in-memory-stores.js';
import { groupRecord, principalRecord, tenantRecord } from '../support/records.js';

const catalog = loadCatalog();
const when = '2026-03-01T10:00:00.000Z';
const e3 = catalog.skus.find((s) => s.skuPartNumber === 'ENTERPRISEPACK')?.skuId ?? '';

async function setUp(memberCount: number) {
  const tenants = new InMemoryTenantStore();
  const queries = new InMemoryDirectoryQueries(catalog);
  const ports = {
    tenants,
    directory: new InMemoryDirectoryStore(),
    licensing: new InMemoryLicensingQueries(queries),
    jobs: new InMemoryGroupJobs(),
    members: new InMemoryMemberLists(),
  };
  const tenantId = randomUUID();
  await tenants.create(tenantRecord(tenantId));
  const group = await ports.directory.createGroup(groupRecord(tenantId, 'HR Department'));
  const memberIds = Array.from({ length: memberCount }, () => randomUUID());
  await ports.members.apply(
    tenantId,
    group.id,
    memberIds.map((id) => ({ id, kind: 'user' as const, joinedAt: when })),
    [],
  );
  /** The license row of the group's current job, in `state`. */
  const licensing = (state: GroupLicenseRecord['processingState'], extra: Partial<GroupLicenseRecord> = {}) =>
    tenants.putGroupLicense(tenantId, {
      groupId: group.id,
      licenses: [{ skuId: e3, disabledPlans: [] }],
      licensedSince: when,
      jobId: 'job-1',
      processingState: state,
      updatedDateTime: when,
      ...extra,
    });
  /** A member's outcome, as the principal writer leaves it on the member's row. */
  const outcome = (id: string, error: LicenseEntry['error']) => {
    const entry: LicenseEntry = {
      skuId: e3,
      assignedByGroup: group.id,
      disabledPlans: [],
      state: error === 'None' ? 'Active' : 'Error',
      error,
      lastUpdatedDateTime: when,
      since: when,
      waitingSince: error === 'CountViolation' ? when : null,
    };
    const record: PrincipalRecord = {
      ...principalRecord(tenantId, { displayName: `User ${id}` }),
      id,
      entries: [entry],
    };
    queries.rows.addPrincipals(record);
  };
  const details = () => processingDetails(ports, tenantId, group.id);
  return { ports, tenantId, groupId: group.id, memberIds, licensing, outcome, details };
}

describe('a group’s processing details', () => {
  it('shows a running job against the members it planned, however many pages have reported', async () => {
    const { ports, tenantId, groupId, memberIds, licensing, outcome, details } = await setUp(10);
    licensing('ProcessingInProgress');
    await ports.jobs.create({
      tenantId,
      jobId: 'job-1',
      groupId,
      pages: 2,
      membersTotal: 8,
      startedDateTime: when,
    });
    await ports.jobs.finishPage(tenantId, 'job-1', 0, { processed: 3, succeeded: 3, failed: 0, errors: {} });
    for (const id of memberIds.slice(0, 5)) outcome(id, 'None'); // chunks of the second page landed already
    expect(await details()).toMatchObject({
      state: 'ProcessingInProgress',
      status: 'inProgress',
      membersTotal: 8,
      membersProcessed: 5,
      membersSucceeded: 5,
      failedPages: 0,
    });
  });

  it('shows a completed job by its members’ outcomes', async () => {
    const { memberIds, licensing, outcome, details } = await setUp(4);
    licensing('ProcessingComplete');
    for (const id of memberIds.slice(0, 3)) outcome(id, 'None');
    expect(await details()).toMatchObject({
      status: 'allLicensesAssigned',
      membersTotal: 4,
      membersProcessed: 4,
    });
    outcome(memberIds[3] ?? '', 'CountViolation');
    expect(await details()).toMatchObject({
      status: 'errorsAndIssues',
      membersSucceeded: 3,
      membersFailed: 1,
      errorsByType: { CountViolation: 1 },
    });
  });

  it('shows a page that failed for good as errors once the job is over, and as running before', async () => {
    const { ports, tenantId, groupId, memberIds, licensing, outcome, details } = await setUp(2);
    licensing('ProcessingInProgress');
    await ports.jobs.create({
      tenantId,
      jobId: 'job-1',
      groupId,
      pages: 2,
      membersTotal: 2,
      startedDateTime: when,
    });
    await ports.jobs.finishPage(tenantId, 'job-1', 0, {
      poisoned: true,
      processed: 0,
      succeeded: 0,
      failed: 0,
      errors: {},
    });
    for (const id of memberIds) outcome(id, 'None');
    expect(await details()).toMatchObject({ status: 'inProgress', failedPages: 1 });
    licensing('ProcessingComplete');
    expect(await details()).toMatchObject({ status: 'errorsAndIssues', failedPages: 1 });
  });

  it('shows a job that could not be planned as its last failure', async () => {
    const { groupId, licensing, details } = await setUp(1);
    licensing('ProcessingComplete', { lastFailure: 'JobNotPlanned' });
    expect(await details()).toMatchObject({
      status: 'errorsAndIssues',
      lastFailure: { code: 'JobNotPlanned', groupId },
    });
  });
});
