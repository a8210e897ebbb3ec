import { z } from 'zod';
import type { GroupJobs } from '../application/ports.js';
import type { JobRecord, PageResult } from '../application/records.js';
import { odata } from './keys.js';
import { etagOf, retryOnConflict } from './optimistic.js';
import {
  getJson,
  getNumber,
  getRow,
  getString,
  isConflict,
  putJson,
  queryRows,
  type RawEntity,
  requireString,
} from './properties.js';
import type { StorageTables } from './tables.js';
import { Turns } from './turns.js';

export type { JobRecord, PageResult };

const jobPartition = (tenantId: string, jobId: string) => `${tenantId}|${jobId}`;
const JOB_ROW = 'job';
const pageRow = (page: number) => `p${page.toString().padStart(6, '0')}`;

function decodeJob(tenantId: string, entity: RawEntity): JobRecord {
  return {
    tenantId,
    jobId: requireString(entity, 'id'),
    groupId: requireString(entity, 'g'),
    pages: getNumber(entity, 'pg'),
    membersTotal: getNumber(entity, 'mt'),
    done: getString(entity, 'dn') ?? '',
    startedDateTime: requireString(entity, 'st'),
    etag: entity.etag,
  };
}

export class JobStore implements GroupJobs {
  /** Pages of one job finishing in this process take turns on the job's bitmap. */
  private readonly turns = new Turns();
  /** Each job's row as this process last wrote it (the next page's turn starts from it, without a read). */
  private readonly written = new Map<string, JobRecord>();

  constructor(private readonly tables: StorageTables) {}

  async read(tenantId: string, jobId: string): Promise<JobRecord | undefined> {
    const entity = await getRow(this.tables.jobs, jobPartition(tenantId, jobId), JOB_ROW);
    return entity ? decodeJob(tenantId, entity) : undefined;
  }

  /** Creates the job once; a replayed planning message finds it and reuses the first plan. */
  async create(job: Omit<JobRecord, 'done' | 'etag'>): Promise<JobRecord> {
    const entity = {
      partitionKey: jobPartition(job.tenantId, job.jobId),
      rowKey: JOB_ROW,
      id: job.jobId,
      g: job.groupId,
      pg: job.pages,
      mt: job.membersTotal,
      dn: '0'.repeat(job.pages),
      st: job.startedDateTime,
    };
    try {
      await this.tables.jobs.createEntity(entity);
    } catch (error: unknown) {
      if (!isConflict(error)) throw error;
    }
    const stored = await this.read(job.tenantId, job.jobId);
    if (!stored) throw new Error(`job ${job.jobId} vanished`);
    return stored;
  }

  /**
   * Records a page's result and marks it done in one transaction (the page row and the job's bitmap share a
   * partition); true exactly when this call completed the last page (or found all pages done). A replayed page
   * rewrites its result row with the same figures.
   */
  async finishPage(
    tenantId: string,
    jobId: string,
    page: number,
    result: PageResult,
  ): Promise<{ allDone: boolean }> {
    const partitionKey = jobPartition(tenantId, jobId);
    const pageEntity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey,
      rowKey: pageRow(page),
      pr: result.processed,
      ok: result.succeeded,
      er: result.failed,
      po: result.poisoned === true,
    };
    putJson(pageEntity, 'ty', result.errors);
    return this.turns.run(partitionKey, () => this.markDone(tenantId, jobId, page, pageEntity));
  }

  private async markDone(
    tenantId: string,
    jobId: string,
    page: number,
    pageEntity: Record<string, unknown> & { partitionKey: string; rowKey: string },
  ): Promise<{ allDone: boolean }> {
    const partitionKey = pageEntity.partitionKey;
    return retryOnConflict(`job ${jobId}`, async (attempt) => {
      // The row this process last wrote, on the first try and only to set the page's flag: another instance may
      // have written since, which the ETag refuses (the retry reads it). A page already flagged (a redelivery) reads
      // the row, since whether every page is done must come from storage, not from this process's memory.
      const remembered = attempt === 0 ? this.written.get(partitionKey) : undefined;
      this.written.delete(partitionKey);
      const job =
        remembered && remembered.done.charAt(page) === '0' ? remembered : await this.read(tenantId, jobId);
      if (!job) throw new Error(`job ${jobId} not found`);
      if (job.done.charAt(page) === '1') {
        await this.tables.jobs.upsertEntity(pageEntity, 'Replace');
        return { allDone: !job.done.includes('0') };
      }
      const done = `${job.done.slice(0, page)}1${job.done.slice(page + 1)}`;
      const response = await this.tables.jobs.submitTransaction([
        ['upsert', pageEntity, 'Replace'],
        [
          'update',
          { partitionKey, rowKey: JOB_ROW, dn: done },
          'Merge',
          { etag: etagOf(job, `job ${jobId}`) },
        ],
      ]);
      const etag = response.subResponses[1]?.etag;
      if (etag && done.includes('0')) {
        // Bounded: a process remembers the jobs it is working on, a few hundred at most.
        if (this.written.size >= 500) this.written.clear();
        this.written.set(partitionKey, { ...job, done, etag });
      }
      return { allDone: !done.includes('0') };
    });
  }

  /** Sum of the page results written so far. */
  async progress(
    tenantId: string,
    jobId: string,
  ): Promise<PageResult & { pagesDone: number; poisonedPages: number }> {
    const errors: Record<string, number> = {};
    let processed = 0;
    let succeeded = 0;
    let failed = 0;
    let pagesDone = 0;
    let poisonedPages = 0;
    const filter = `PartitionKey eq ${odata(jobPartition(tenantId, jobId))} and RowKey ge 'p' and RowKey lt 'q'`;
    for await (const entity of queryRows(this.tables.jobs, filter)) {
      pagesDone++;
      if (entity.po === true) poisonedPages++;
      processed += getNumber(entity, 'pr');
      succeeded += getNumber(entity, 'ok');
      failed += getNumber(entity, 'er');
      for (const [type, n] of Object.entries(getJson(entity, 'ty', z.record(z.string(), z.number()), {}))) {
        errors[type] = (errors[type] ?? 0) + n;
      }
    }
    return { processed, succeeded, failed, errors, pagesDone, poisonedPages };
  }
}
