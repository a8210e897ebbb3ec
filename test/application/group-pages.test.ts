// A group's license pages (src/application/group-licensing.ts, processGroupPage) on the in-memory ports: the members
// of a licensed group gain seats through the seat ledger; when seats run out the latest to join are refused with
// CountViolation and wait, never more seats taken than owned; a page delivered again changes nothing. The seat ledger
// and principal writer doubles keep the adapters' contract (test/storage/seat-ledger.test.ts, principal-writer.test.ts).
import { describe, expect, it } from 'vitest';
import { processGroupPage } from '../../src/application/group-licensing.js';
import { groupPageMessage } from '../../src/application/messages.js';
import { type InMemoryContext, inMemoryContext, licensingTenant } from '../support/in-memory-context.js';

describe('a licensed group’s pages', () => {
  it('give every member a seat of the group’s SKU while seats last', async () => {
    const ctx = inMemoryContext();
    const { tenantId, group, user, license, states, consumed } = await licensingTenant(ctx, { seats: 5 });
    const members = [await user('Adele'), await user('Alex'), await user('Megan')];
    await license();

    expect(await states(members)).toEqual(members.map((id) => [id, 'Active', 'None']));
    expect(await consumed()).toBe(3);
    expect(await ctx.licensing.groupCounts(tenantId, group.id)).toEqual({
      succeeded: 3,
      failed: 0,
      errors: {},
    });
    const partition = await ctx.tenants.partition(tenantId);
    expect(partition?.groupLicenses.get(group.id)?.processingState).toBe('ProcessingComplete');
    // Every reservation was closed once its chunks landed.
    expect(partition?.reservations.size).toBe(0);
    expect(ctx.queues.to('pages').length).toBeGreaterThan(0);
  });

  it('refuse the latest to join with CountViolation once the seats run out, and keep them waiting', async () => {
    const ctx = inMemoryContext();
    const { tenantId, skuId, group, user, license, states, consumed } = await licensingTenant(ctx, {
      seats: 2,
    });
    const members = [await user('Adele'), await user('Alex'), await user('Megan')];
    await license();

    expect(await states(members)).toEqual([
      [members[0], 'Active', 'None'],
      [members[1], 'Active', 'None'],
      [members[2], 'Error', 'CountViolation'],
    ]);
    expect(await consumed()).toBe(2);
    expect(await ctx.licensing.groupCounts(tenantId, group.id)).toEqual({
      succeeded: 2,
      failed: 1,
      errors: { CountViolation: 1 },
    });
    expect((await ctx.licensing.waiters(tenantId, skuId)).map((w) => w.principalId)).toEqual([members[2]]);
  });

  it('change nothing when a page is delivered again', async () => {
    const ctx = inMemoryContext();
    const { tenantId, group, user, license, consumed } = await licensingTenant(ctx, { seats: 2 });
    for (const name of ['Adele', 'Alex', 'Megan']) await user(name);
    await license();
    const job = (await ctx.tenants.partition(tenantId))?.groupLicenses.get(group.id)?.jobId ?? '';
    const rowsBefore = ctx.rows.principalsOf(tenantId);
    const progressBefore = await ctx.jobs.progress(tenantId, job);
    const auditsBefore = ctx.queries.auditRecords.length;

    // The page holding the members, delivered again under its message id (its lease lapsed, say).
    const at = ctx.queues.sent.findIndex(
      (s) => s.queue === 'pages' && groupPageMessage.parse(s.message).fromShard === 0,
    );
    const page = groupPageMessage.parse(ctx.queues.sent[at]?.message);
    await processGroupPage(ctx, page, `message-${at}`);

    // The very same rows (not even rewritten: their ETags are unchanged), seats and job progress.
    expect(ctx.rows.principalsOf(tenantId)).toEqual(rowsBefore);
    expect(await consumed()).toBe(2);
    expect(await ctx.jobs.progress(tenantId, job)).toEqual(progressBefore);
    expect(ctx.queries.auditRecords.length).toBe(auditsBefore);
    expect((await ctx.tenants.partition(tenantId))?.reservations.size).toBe(0);
  });

  it('wait for room in their own context’s page budget, never another context’s', async () => {
    const hold = (ctx: InMemoryContext) => {
      let release = () => {};
      const held = ctx.pageBudget.run(ctx.pageBudget.capacity, () => new Promise<void>((r) => (release = r)));
      return async () => {
        release();
        await held;
      };
    };
    const ctx = inMemoryContext();
    const { user, license, states } = await licensingTenant(ctx, { seats: 1 });
    const adele = await user('Adele');
    // Another context's budget stays full throughout: it is not this context's.
    const releaseOther = hold(inMemoryContext());

    // Its own budget full: the job's pages are sent, and wait until the room is given back.
    const releaseOwn = hold(ctx);
    const licensing = license();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ctx.queues.to('pages').length).toBeGreaterThan(0);
    expect(await states([adele])).toEqual([[adele, 'none', 'None']]);
    await releaseOwn();
    await licensing;
    expect(await states([adele])).toEqual([[adele, 'Active', 'None']]);
    await releaseOther();
  });
});
