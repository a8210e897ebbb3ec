// Seats a run reserved and then no longer needs (a principal it planned to license got its seat from another
// worker meanwhile) go back to the counters when the run claims again. Waiters refused while they were reserved
// must be woken then, as they are for seats given back by a written release (rules.md §6, §7.2).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StorageContext } from '../../src/application/context.js';
import { healReleased } from '../../src/application/healing.js';
import { updatePrincipals } from '../../src/application/principal-updates.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import type { PrincipalRecord } from '../../src/storage/principal-records.js';
import type { PrincipalWriter } from '../../src/storage/principal-writer.js';
import { buy, importUsers, invariantViolations, newTenant, usePipeline, waitIdle } from './support.js';

const pipeline = usePipeline();

function direct(skuId: string) {
  return (record: PrincipalRecord, now: string): PrincipalRecord => ({
    ...record,
    directLicenses: [{ skuId, disabledPlans: [], since: record.directLicenses[0]?.since ?? now }],
  });
}

async function license(ctx: StorageContext, tenantId: string, userId: string, skuId: string) {
  const result = await updatePrincipals(ctx, tenantId, [userId], {
    reservationId: randomUUID(),
    mutate: direct(skuId),
  });
  await healReleased(ctx, tenantId, result.released);
}

async function states(ctx: StorageContext, tenantId: string, userId: string) {
  const record = await readPrincipal(ctx.tables, tenantId, userId);
  return (record?.entries ?? []).map((e) => `${e.state}/${e.error}`);
}

describe('seats a run reserved and no longer needs', () => {
  it('wake the waiters refused while they were reserved', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const ems = await buy(ctx, tenantId, 'EMS', 2);
    const [user = '', waiter = ''] = await importUsers(ctx, tenantId, 2);
    await waitIdle(ctx, tenantId); // the purchase's heal message is done: nothing else will look at the seats
    // A run reserves a seat for the user; before its row lands, another worker licenses the same user (the second
    // seat) and a third refuses the waiter (no seat left). The first run's row then fails on its ETag: re-read,
    // the user already holds its seat, so the run's reserved seat goes back to the counter.
    let raced = false;
    const writer: PrincipalWriter = Object.create(ctx.writer);
    writer.write = async (...args: Parameters<PrincipalWriter['write']>) => {
      if (!raced) {
        raced = true;
        await license(ctx, tenantId, user, ems);
        await license(ctx, tenantId, waiter, ems);
        expect(await states(ctx, tenantId, waiter)).toEqual(['Error/CountViolation']);
      }
      return ctx.writer.write(...args);
    };
    await license({ ...ctx, writer }, tenantId, user, ems);
    expect(raced).toBe(true);
    await waitIdle(ctx, tenantId);
    expect(await states(ctx, tenantId, user)).toEqual(['Active/None']);
    expect(await states(ctx, tenantId, waiter)).toEqual(['Active/None']);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});
