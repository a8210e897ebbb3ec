// Healing (src/application/healing.ts, rules.md §6) on the in-memory ports: members refused with CountViolation wait;
// once seats are bought the purchase wakes the waiting room and the earliest waiters are healed — first come, first
// served, as many as there are seats — while with manual healing nobody moves until an admin reprocesses.
import { describe, expect, it } from 'vitest';
import { addMember } from '../../src/application/directory.js';
import { heal } from '../../src/application/healing.js';
import { healRequest } from '../../src/application/messages.js';
import { inMemoryContext, licensingTenant } from '../support/in-memory-context.js';

describe('healing a waiting room', () => {
  it('gives the seats bought to the earliest waiters, as many as there are seats', async () => {
    let clock = new Date('2026-03-02T10:00:00.000Z');
    const ctx = inMemoryContext({ now: () => clock });
    const tenant = await licensingTenant(ctx, { seats: 1 });
    const [adele, alex] = [await tenant.user('Adele'), await tenant.user('Alex')];
    await tenant.license();
    // An hour later another user joins and waits too, behind the first waiter.
    clock = new Date('2026-03-02T11:00:00.000Z');
    const megan = await tenant.user('Megan', false);
    await addMember(ctx, tenant.tenantId, tenant.group.id, megan);
    const members = [adele, alex, megan];
    expect(await tenant.states(members)).toEqual([
      [adele, 'Active', 'None'],
      [alex, 'Error', 'CountViolation'],
      [megan, 'Error', 'CountViolation'],
    ]);
    expect((await ctx.licensing.waiters(tenant.tenantId, tenant.skuId)).map((w) => w.principalId)).toEqual([
      alex,
      megan,
    ]);

    const heals = ctx.queues.to('heal').length;
    await tenant.buy(2);
    expect(ctx.queues.to('heal')).toHaveLength(heals + 1);
    await ctx.work();

    expect(await tenant.states(members)).toEqual([
      [adele, 'Active', 'None'],
      [alex, 'Active', 'None'],
      [megan, 'Error', 'CountViolation'],
    ]);
    expect(await tenant.consumed()).toBe(2);
    expect((await ctx.licensing.waiters(tenant.tenantId, tenant.skuId)).map((w) => w.principalId)).toEqual([
      megan,
    ]);
    expect(await ctx.licensing.groupCounts(tenant.tenantId, tenant.group.id)).toEqual({
      succeeded: 2,
      failed: 1,
      errors: { CountViolation: 1 },
    });
  });

  it('moves nobody under manual healing, even when woken', async () => {
    const ctx = inMemoryContext();
    const tenant = await licensingTenant(ctx, { seats: 1, healing: 'manual' });
    const members = [await tenant.user('Adele'), await tenant.user('Alex')];
    await tenant.license();

    await tenant.buy(5);
    await heal(ctx, healRequest(tenant.tenantId, tenant.skuId, ctx.now()), 'heal-1');
    await ctx.work();

    expect(await tenant.states(members)).toEqual([
      [members[0], 'Active', 'None'],
      [members[1], 'Error', 'CountViolation'],
    ]);
    expect(await tenant.consumed()).toBe(1);
  });
});
