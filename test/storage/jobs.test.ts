// Group jobs on a real Azurite: a replayed plan reuses the first one, and the page that completes a job is told so
// exactly once, even when pages finish on several hosts at once (the job's completion hangs on it).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStore, type PageResult } from '../../src/storage/jobs.js';
import type { StorageTables } from '../../src/storage/tables.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;
let tables: StorageTables;

beforeAll(async () => {
  scratch = await scratchTables('jobs', (t) => [t.jobs]);
  tables = scratch.tables;
});
afterAll(async () => {
  await scratch?.drop();
});

const started = '2026-03-01T10:00:00.000Z';

function result(processed: number, failed = 0, errors: Record<string, number> = {}): PageResult {
  return { processed, succeeded: processed - failed, failed, errors };
}

describe('JobStore (real Azurite)', () => {
  it('creates a job once: a replayed planning message gets the first plan back', async () => {
    const jobs = new JobStore(tables);
    const tenantId = randomUUID();
    const jobId = randomUUID();
    const groupId = randomUUID();
    const first = await jobs.create({
      tenantId,
      jobId,
      groupId,
      pages: 3,
      membersTotal: 2500,
      startedDateTime: started,
    });
    expect(first).toMatchObject({
      jobId,
      groupId,
      pages: 3,
      membersTotal: 2500,
      done: '000',
      startedDateTime: started,
    });
    // Members joined meanwhile, so a replay would plan differently; the stored plan wins.
    const replay = await jobs.create({
      tenantId,
      jobId,
      groupId,
      pages: 4,
      membersTotal: 3100,
      startedDateTime: '2026-03-01T10:05:00.000Z',
    });
    expect(replay).toMatchObject({ pages: 3, membersTotal: 2500, done: '000', startedDateTime: started });
    expect(await jobs.read(tenantId, randomUUID())).toBeUndefined();
  });

  it('tells exactly one page that it completed the job, with pages finishing on several hosts at once', async () => {
    const tenantId = randomUUID();
    const jobId = randomUUID();
    const pages = 24;
    await new JobStore(tables).create({
      tenantId,
      jobId,
      groupId: randomUUID(),
      pages,
      membersTotal: pages * 10,
      startedDateTime: started,
    });
    const hosts = Array.from({ length: 4 }, () => new JobStore(scratch.anotherHost()));
    const outcomes = await Promise.all(
      Array.from({ length: pages }, (_, page) =>
        hosts[page % hosts.length]?.finishPage(
          tenantId,
          jobId,
          page,
          result(10, page % 3, page % 3 ? { CountViolation: page % 3 } : {}),
        ),
      ),
    );
    expect(outcomes.filter((o) => o?.allDone)).toHaveLength(1);
    expect((await new JobStore(tables).read(tenantId, jobId))?.done).toBe('1'.repeat(pages));
    const progress = await new JobStore(tables).progress(tenantId, jobId);
    // Pages with page % 3 = 1 or 2 failed that many members: 8 pages × 1 + 8 pages × 2.
    expect(progress).toEqual({
      processed: 240,
      succeeded: 216,
      failed: 24,
      errors: { CountViolation: 24 },
      pagesDone: 24,
      poisonedPages: 0,
    });
  }, 30_000);

  it('counts a replayed page once, and a replay after the last page says the job is done', async () => {
    const jobs = new JobStore(tables);
    const tenantId = randomUUID();
    const jobId = randomUUID();
    await jobs.create({
      tenantId,
      jobId,
      groupId: randomUUID(),
      pages: 2,
      membersTotal: 20,
      startedDateTime: started,
    });
    expect(await jobs.finishPage(tenantId, jobId, 0, result(10, 1, { UsageLocationMissing: 1 }))).toEqual({
      allDone: false,
    });
    // Redelivered before the job completed: still not done, its figures not added twice.
    expect(await jobs.finishPage(tenantId, jobId, 0, result(10, 1, { UsageLocationMissing: 1 }))).toEqual({
      allDone: false,
    });
    expect(await jobs.finishPage(tenantId, jobId, 1, { ...result(0), poisoned: true })).toEqual({
      allDone: true,
    });
    // The last page redelivered: the completion it hangs on is idempotent, so it is told again.
    expect(await jobs.finishPage(tenantId, jobId, 1, { ...result(0), poisoned: true })).toEqual({
      allDone: true,
    });
    expect(await jobs.progress(tenantId, jobId)).toEqual({
      processed: 10,
      succeeded: 9,
      failed: 1,
      errors: { UsageLocationMissing: 1 },
      pagesDone: 2,
      poisonedPages: 1,
    });
  });

  it('tells a host that remembers the job from its own last write what storage says since', async () => {
    const tenantId = randomUUID();
    const jobId = randomUUID();
    const [a, b] = [new JobStore(scratch.anotherHost()), new JobStore(scratch.anotherHost())];
    await a.create({
      tenantId,
      jobId,
      groupId: randomUUID(),
      pages: 3,
      membersTotal: 30,
      startedDateTime: started,
    });
    expect(await a.finishPage(tenantId, jobId, 0, result(10))).toEqual({ allDone: false });
    // Host b finishes the other pages: a's remembered row is now stale.
    expect(await b.finishPage(tenantId, jobId, 1, result(10))).toEqual({ allDone: false });
    expect(await b.finishPage(tenantId, jobId, 2, result(10))).toEqual({ allDone: true });
    // Redeliveries on a: of a page b flagged (a's stale row is refused by its ETag, then read), and of a page it
    // flagged itself. Both learn the job is done.
    expect(await a.finishPage(tenantId, jobId, 2, result(10))).toEqual({ allDone: true });
    expect(await a.finishPage(tenantId, jobId, 0, result(10))).toEqual({ allDone: true });
    expect((await a.progress(tenantId, jobId)).processed).toBe(30);
  });

  it('keeps jobs apart: progress reads only its own pages', async () => {
    const jobs = new JobStore(tables);
    const tenantId = randomUUID();
    const a = randomUUID();
    const b = randomUUID();
    for (const jobId of [a, b])
      await jobs.create({
        tenantId,
        jobId,
        groupId: randomUUID(),
        pages: 1,
        membersTotal: 5,
        startedDateTime: started,
      });
    await jobs.finishPage(tenantId, a, 0, result(5));
    expect((await jobs.progress(tenantId, b)).pagesDone).toBe(0);
    expect((await jobs.read(tenantId, b))?.done).toBe('0');
    await expect(jobs.finishPage(tenantId, randomUUID(), 0, result(1))).rejects.toThrow(/not found/);
  });
});
