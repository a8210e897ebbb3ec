// Dynamic groups (src/application/dynamic-groups.ts) on the in-memory ports: a saved rule's evaluation pages bring
// the matching users in with the group's license, a PATCH moves a user in the request, Paused freezes, and a page
// of an evaluation a newer rule superseded changes nothing.
import { describe, expect, it } from 'vitest';
import { createGroup, updateGroup, updateUser } from '../../src/application/directory.js';
import { processRulePage } from '../../src/application/dynamic-groups.js';
import { assignGroupLicenses } from '../../src/application/group-licensing.js';
import { rulePageMessage } from '../../src/application/messages.js';
import { inMemoryContext, licensingTenant } from '../support/in-memory-context.js';
import { principalRecord } from '../support/records.js';

async function salesTenant() {
  const ctx = inMemoryContext();
  const setup = await licensingTenant(ctx, { seats: 10 });
  const { tenantId } = setup;
  const person = async (displayName: string, department: string) => {
    const record = principalRecord(tenantId, { displayName, department, usageLocation: 'US' });
    await ctx.directory.createPrincipal(record);
    return record.id;
  };
  const sellers = [await person('Adele', 'Sales'), await person('Alex', 'SALES')];
  const clerk = await person('Megan', 'Finance');
  const group = await createGroup(ctx, tenantId, {
    displayName: 'Sales (dynamic)',
    mailNickname: 'salesdynamic',
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: ['DynamicMembership'],
    membershipRule: 'user.department -eq "Sales"',
  });
  const rule = async () => (await ctx.tenants.partition(tenantId))?.membershipRules.get(group.id);
  const members = async () => (await ctx.members.listRange(tenantId, group.id)).map((m) => m.id).sort();
  return { ctx, ...setup, sellers, clerk, group, rule, members };
}

describe('a dynamic group on the in-memory ports', () => {
  it('brings the users its rule matches in, with the group’s license, and records Succeeded', async () => {
    const { ctx, tenantId, skuId, sellers, clerk, group, rule, members, consumed } = await salesTenant();
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [{ skuId, disabledPlans: [] }],
      removeLicenses: [],
    });
    expect(await rule()).toMatchObject({ status: 'Running', processingState: 'On' });
    // The rule's commit owed one page per principal table, relayed at once.
    expect(ctx.queues.to('pages').filter((m) => rulePageMessage.safeParse(m).success)).toHaveLength(16);

    await ctx.work();
    expect(await members()).toEqual([...sellers].sort());
    const licensed = await ctx.directory.principals(tenantId, [...sellers, clerk]);
    for (const id of sellers)
      expect(licensed.get(id)?.entries.map((e) => [e.skuId, e.assignedByGroup, e.state])).toEqual([
        [skuId, group.id, 'Active'],
      ]);
    expect(licensed.get(clerk)?.entries).toEqual([]);
    expect(await consumed()).toBe(2);
    expect(await rule()).toMatchObject({ status: 'Succeeded', errorMessage: null });
    expect((await rule())?.lastMembershipUpdated).not.toBeNull();
    expect(await ctx.outbox.pending(tenantId)).toBe(0);
  });

  it('moves a user whose department changes in the request, and not while Paused', async () => {
    const { ctx, tenantId, sellers, clerk, group, members } = await salesTenant();
    await ctx.work();
    await updateUser(ctx, tenantId, clerk, { department: 'Sales' });
    // No queue involved: the PATCH applied the rule before it returned.
    expect(await members()).toEqual([...sellers, clerk].sort());
    expect(await ctx.outbox.pending(tenantId)).toBe(0);

    // Another dynamic group stays On, so the change is checked against the rules: the paused one must keep still.
    const finance = await createGroup(ctx, tenantId, {
      displayName: 'Finance (dynamic)',
      mailNickname: 'financedynamic',
      securityEnabled: true,
      mailEnabled: false,
      groupTypes: ['DynamicMembership'],
      membershipRule: 'user.department -eq "Finance"',
    });
    await ctx.work();
    await updateGroup(ctx, tenantId, group.id, { membershipRuleProcessingState: 'Paused' });
    const [adele = ''] = sellers;
    await updateUser(ctx, tenantId, adele, { department: 'Finance' });
    await ctx.work();
    expect(await members()).toEqual([...sellers, clerk].sort());
    expect((await ctx.members.listRange(tenantId, finance.id)).map((m) => m.id)).toEqual([adele]);

    await updateGroup(ctx, tenantId, group.id, { membershipRuleProcessingState: 'On' });
    await ctx.work();
    expect(await members()).toEqual([...sellers.filter((id) => id !== adele), clerk].sort());
  });

  it('does nothing on a page of an evaluation that a newer rule superseded', async () => {
    const { ctx, tenantId, sellers, clerk, group, rule, members } = await salesTenant();
    const first = await rule();
    const stalePage = ctx.queues.to('pages').map((m) => rulePageMessage.parse(m))[0];
    if (!first?.jobId || !stalePage) throw new Error('the rule started no evaluation');
    await updateGroup(ctx, tenantId, group.id, { membershipRule: 'user.department -eq "Finance"' });
    expect((await rule())?.jobId).not.toBe(first.jobId);

    // Every page of the old evaluation, delivered late: none may apply the old rule.
    for (let page = 0; page < 16; page++)
      await processRulePage(
        ctx,
        { ...stalePage, page, fromShard: page * 16, toShard: page * 16 + 16 },
        `late-${page}`,
      );
    expect(await members()).toEqual([]);
    await ctx.work();
    expect(await members()).toEqual([clerk]);
    expect(sellers).toHaveLength(2);
  });
});
