// A reservation's id is its queue message id, so one message run again (a crash after its first run closed the
// reservation, before the message was deleted) reuses it. Markers of the first run stay behind until a later write
// or the sweep removes them; a later run must never take them for proof that its own chunks landed, or a crash of
// that run leaves its claimed seats counted for nobody (rules.md §7.2: consumedUnits is exact once work is done).
import { describe, expect, it } from 'vitest';
import { updatePrincipals } from '../../src/application/principal-updates.js';
import type { PrincipalRecord } from '../../src/storage/principal-records.js';
import type { PrincipalWriter } from '../../src/storage/principal-writer.js';
import { buy, importUsers, invariantViolations, newTenant, usePipeline, waitIdle } from './support.js';

const pipeline = usePipeline();

function withDirect(skuId: string | undefined) {
  return (record: PrincipalRecord, now: string): PrincipalRecord => ({
    ...record,
    directLicenses: skuId ? [{ skuId, disabledPlans: [], since: now }] : [],
  });
}

describe('runs of one reservation', () => {
  it('resume a crashed run from its own markers, not from those an earlier run left', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const ems = await buy(ctx, tenantId, 'EMS', 5);
    const [user = ''] = await importUsers(ctx, tenantId, 1);
    await waitIdle(ctx, tenantId);
    const reservationId = 'message-1';

    // The message's first run licenses the user and closes its reservation; its marker stays in the user's partition.
    await updatePrincipals(ctx, tenantId, [user], { reservationId, mutate: withDirect(ems) });
    // Someone removes the license again (another reservation).
    await updatePrincipals(ctx, tenantId, [user], {
      reservationId: 'removal',
      mutate: withDirect(undefined),
    });

    // The message runs again: it claims the user's seat, then its host dies before the chunk is written.
    const dying: PrincipalWriter = Object.create(ctx.writer);
    dying.write = async () => {
      throw new Error('host died');
    };
    await expect(
      updatePrincipals({ ...ctx, writer: dying }, tenantId, [user], {
        reservationId,
        mutate: withDirect(ems),
      }),
    ).rejects.toThrow('host died');

    // The redelivery resumes the reservation: the seat the dead run claimed is reused, not claimed twice.
    await updatePrincipals(ctx, tenantId, [user], { reservationId, mutate: withDirect(ems) });
    await waitIdle(ctx, tenantId);
    const partition = await ctx.tenants.partition(tenantId);
    expect(partition?.subscriptions.get(ems)?.consumedUnits).toBe(1);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});
