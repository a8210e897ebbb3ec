// Planning a group job (src/application/group-licensing.ts, planGroupJob) on the in-memory ports: pages of
// principal shards sized to the group, one page per nested group for device SKUs, the job recorded once, its
// *Start* record written once however often the plan is replayed, and nothing planned for a superseded job.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type JobPlanningPorts, planGroupJob } from '../../src/application/group-licensing.js';
import type { GroupPageMessage } from '../../src/application/messages.js';
import type { GroupLicenseRecord, MemberRef } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { SHARD_COUNT } from '../../src/storage/keys.js';
import { InMemoryAuditTrail, InMemoryDirectoryQueries } from '../support/in-memory-queries.js';
import {
  InMemoryDirectoryStore,
  InMemoryGroupJobs,
  InMemoryMemberLists,
  InMemoryTenantStore,
} from '../support/in-memory-stores.js';
import { groupRecord, tenantRecord } from '../support/records.js';

const catalog = loadCatalog();
const when = new Date('2026-03-01T10:00:00.000Z');
const e3 = catalog.skus.find((s) => s.skuPartNumber === 'ENTERPRISEPACK')?.skuId ?? '';

function members(count: number, kind: MemberRef['kind'] = 'user'): MemberRef[] {
  return Array.from({ length: count }, () => ({ id: randomUUID(), kind, joinedAt: when.toISOString() }));
}

async function setUp(memberCount: number) {
  const tenants = new InMemoryTenantStore();
  const queries = new InMemoryDirectoryQueries(catalog);
  const ports = {
    tenants,
    members: new InMemoryMemberLists(),
    jobs: new InMemoryGroupJobs(),
    directory: new InMemoryDirectoryStore(),
    audit: new InMemoryAuditTrail(queries),
    now: () => when,
  } satisfies JobPlanningPorts;
  const tenantId = randomUUID();
  await tenants.create(tenantRecord(tenantId));
  const group = await ports.directory.createGroup(groupRecord(tenantId, 'HR Department'));
  await ports.members.apply(tenantId, group.id, members(memberCount), []);
  const license: GroupLicenseRecord = {
    groupId: group.id,
    licenses: [{ skuId: e3, disabledPlans: [] }],
    licensedSince: when.toISOString(),
    jobId: 'job-1',
    processingState: 'QueuedForProcessing',
    updatedDateTime: when.toISOString(),
  };
  tenants.putGroupLicense(tenantId, license);
  const starts = () =>
    queries.auditRecords.filter(
      (a) => a.activityDisplayName === 'Start applying group based license to users',
    );
  const message = { kind: 'group-job' as const, tenantId, groupId: group.id, jobId: 'job-1' };
  return { ports, tenantId, groupId: group.id, message, starts };
}

/** The shard ranges of the pages over the group's own list, in order. */
const ranges = (pages: readonly GroupPageMessage[], listGroupId: string) =>
  pages.filter((p) => p.listGroupId === listGroupId).map((p) => [p.fromShard, p.toShard]);

describe('planning a group job', () => {
  it('covers every principal shard once, in pages sized to the group, and starts the job', async () => {
    const { ports, tenantId, groupId, message, starts } = await setUp(5000);
    const pages = await planGroupJob(ports, message);
    // 5,000 members at up to 1,000 a page: 51 of the 256 shards a page, rounded down to a power of two (so a page
    // never straddles two principal tables): 32 shards, 8 pages of about 625 members.
    expect(ranges(pages, groupId)).toEqual(Array.from({ length: 8 }, (_, i) => [i * 32, (i + 1) * 32]));
    expect(pages.map((p) => [p.page, p.pages])).toEqual(Array.from({ length: 8 }, (_, i) => [i, 8]));
    expect(await ports.jobs.read(tenantId, 'job-1')).toMatchObject({ pages: 8, membersTotal: 5000 });
    expect((await ports.tenants.partition(tenantId))?.groupLicenses.get(groupId)?.processingState).toBe(
      'ProcessingInProgress',
    );
    expect(starts()).toHaveLength(1);
  });

  it('plans the same pages when replayed, with one job and one Start record', async () => {
    const { ports, tenantId, message, starts } = await setUp(300);
    const first = await planGroupJob(ports, message);
    const again = await planGroupJob(ports, message);
    expect(again).toEqual(first);
    expect(first).toHaveLength(1); // 300 members: every shard in one page
    expect(await ports.jobs.read(tenantId, 'job-1')).toMatchObject({ pages: 1, membersTotal: 300 });
    expect(starts()).toHaveLength(1);
  });

  it('adds a page per nested group, for the devices that device SKUs reach through it', async () => {
    const { ports, tenantId, groupId, message } = await setUp(10);
    const nested = randomUUID();
    const deeper = randomUUID();
    await ports.members.apply(
      tenantId,
      groupId,
      [{ id: nested, kind: 'group', joinedAt: when.toISOString() }],
      [],
    );
    await ports.members.apply(
      tenantId,
      nested,
      [{ id: deeper, kind: 'group', joinedAt: when.toISOString() }],
      [],
    );
    // A cycle back to the top must not loop.
    await ports.members.apply(
      tenantId,
      deeper,
      [{ id: groupId, kind: 'group', joinedAt: when.toISOString() }],
      [],
    );
    const pages = await planGroupJob(ports, message);
    expect(
      pages
        .filter((p) => p.listGroupId !== groupId)
        .map((p) => p.listGroupId)
        .sort(),
    ).toEqual([nested, deeper].sort());
    expect(ranges(pages, nested)).toEqual([[0, SHARD_COUNT]]);
  });

  it('plans nothing for a job another assignment has replaced', async () => {
    const { ports, tenantId, message, starts } = await setUp(50);
    expect(await planGroupJob(ports, { ...message, jobId: 'job-0' })).toEqual([]);
    expect(await ports.jobs.read(tenantId, 'job-0')).toBeUndefined();
    expect(starts()).toEqual([]);
  });
});
