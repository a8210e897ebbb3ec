// The group jobs port (src/application/ports.ts): one suite against the Table adapter on a real Azurite and against
// the in-memory double. A job is planned once; of the pages finishing, exactly one is told it finished the job;
// replayed pages are counted once.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { GroupJobs } from '../../src/application/ports.js';
import type { PageResult } from '../../src/application/records.js';
import { JobStore } from '../../src/storage/jobs.js';
import { StorageTables } from '../../src/storage/tables.js';
import { InMemoryGroupJobs } from '../support/in-memory-stores.js';
import { uniqueName } from '../support/index.js';

const result = (processed: number, failed = 0, poisoned = false): PageResult => ({
  processed,
  succeeded: processed - failed,
  failed,
  errors: failed > 0 ? { CountViolation: failed } : {},
  ...(poisoned ? { poisoned } : {}),
});

function contract(name: string, setUp: () => Promise<GroupJobs>) {
  describe(`GroupJobs: ${name}`, () => {
    it('plans a job once: a replayed plan gets the first one back', async () => {
      const jobs = await setUp();
      const tenantId = randomUUID();
      const jobId = randomUUID();
      const plan = {
        tenantId,
        jobId,
        groupId: randomUUID(),
        pages: 3,
        membersTotal: 2500,
        startedDateTime: '2026-03-01T10:00:00.000Z',
      };
      const first = await jobs.create(plan);
      expect(first).toMatchObject({ ...plan, done: '000' });
      expect(await jobs.create({ ...plan, pages: 5, membersTotal: 4000 })).toMatchObject({
        pages: 3,
        membersTotal: 2500,
      });
      expect(await jobs.read(tenantId, jobId)).toMatchObject({ pages: 3, done: '000' });
      expect(await jobs.read(randomUUID(), jobId)).toBeUndefined();
    });

    it('tells exactly one of the finishing pages that it finished the job, and counts replays once', async () => {
      const jobs = await setUp();
      const tenantId = randomUUID();
      const jobId = randomUUID();
      await jobs.create({
        tenantId,
        jobId,
        groupId: randomUUID(),
        pages: 8,
        membersTotal: 800,
        startedDateTime: '2026-03-01T10:00:00.000Z',
      });
      const finished = await Promise.all(
        Array.from({ length: 8 }, (_, page) =>
          jobs.finishPage(tenantId, jobId, page, result(100, page === 2 ? 4 : 0, page === 7)),
        ),
      );
      expect(finished.filter((f) => f.allDone)).toHaveLength(1);
      // A redelivered page: done already, its result written again with the same figures.
      expect(await jobs.finishPage(tenantId, jobId, 2, result(100, 4))).toEqual({ allDone: true });
      expect(await jobs.progress(tenantId, jobId)).toEqual({
        processed: 800,
        succeeded: 796,
        failed: 4,
        errors: { CountViolation: 4 },
        pagesDone: 8,
        poisonedPages: 1,
      });
      expect((await jobs.read(tenantId, jobId))?.done).toBe('11111111');
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('gj'));
  await tables.ensure();
  return new JobStore(tables);
});

contract('in-memory double', async () => new InMemoryGroupJobs());
