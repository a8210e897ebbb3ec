// Member changes (src/application/directory.ts addMember/removeMember → changes.ts applyChanges → principal-updates.ts)
// on the in-memory ports: a user added to a licensed group gains its license and a seat at once, in the request; one
// removed loses both, the group's list follows, the outbox row of the change goes, and the freed seat wakes the
// waiting room.
import { describe, expect, it } from 'vitest';
import { addMember, removeMember } from '../../src/application/directory.js';
import { healMessage } from '../../src/application/messages.js';
import { inMemoryContext, licensingTenant } from '../support/in-memory-context.js';

describe('a member change of a licensed group', () => {
  it('gives a user added to the group the group’s license and a seat', async () => {
    const ctx = inMemoryContext();
    const { tenantId, skuId, group, user, license, states, consumed } = await licensingTenant(ctx, {
      seats: 5,
    });
    await license();
    const newcomer = await user('Adele', false);

    await addMember(ctx, tenantId, group.id, newcomer);

    expect(await states([newcomer])).toEqual([[newcomer, 'Active', 'None']]);
    const row = await ctx.directory.principal(tenantId, newcomer);
    expect(row?.entries.map((e) => [e.skuId, e.assignedByGroup])).toEqual([[skuId, group.id]]);
    expect(await consumed()).toBe(1);
    expect(await ctx.members.has(tenantId, group.id, newcomer)).toBe(true);
    // Done in the request: nothing left owed in the outbox, no reservation open.
    expect(await ctx.outbox.pending(tenantId)).toBe(0);
    expect((await ctx.tenants.partition(tenantId))?.reservations.size).toBe(0);
  });

  it('takes the license and its seat from a user removed from the group, and wakes the waiting room', async () => {
    const ctx = inMemoryContext();
    const { tenantId, skuId, group, user, license, states, consumed } = await licensingTenant(ctx, {
      seats: 1,
    });
    const leaver = await user('Adele');
    const waiter = await user('Alex');
    await license();
    expect(await states([leaver, waiter])).toEqual([
      [leaver, 'Active', 'None'],
      [waiter, 'Error', 'CountViolation'],
    ]);
    const heals = ctx.queues.to('heal').length;

    await removeMember(ctx, tenantId, group.id, leaver);

    expect(await states([leaver])).toEqual([[leaver, 'none', 'None']]);
    expect((await ctx.directory.principal(tenantId, leaver))?.memberOf).toEqual([]);
    expect(await ctx.members.has(tenantId, group.id, leaver)).toBe(false);
    expect(await consumed()).toBe(0);
    expect(await ctx.outbox.pending(tenantId)).toBe(0);
    // The seat it gave back is offered to whoever waits for it.
    const woken = ctx.queues.to('heal').slice(heals);
    expect(woken.map((m) => healMessage.parse(m).skuId)).toContain(skuId);
    await ctx.work();
    expect(await states([waiter])).toEqual([[waiter, 'Active', 'None']]);
    expect(await consumed()).toBe(1);
  });
});
