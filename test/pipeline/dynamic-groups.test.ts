// A dynamic group's evaluation of the whole tenant under at-least-once delivery and crashes: every page delivered
// twice (two copies of one message, and a redelivery of the same message), and a host SIGKILLed mid-evaluation.
// What the group should hold is computed here from each user's own record (department, compared as Entra compares
// strings: case-insensitively), not by the engine's rule evaluator, and the seats are judged by the simulator's
// oracle.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createContext, type StorageContext } from '../../src/application/context.js';
import { createGroup } from '../../src/application/directory.js';
import { processRulePage } from '../../src/application/dynamic-groups.js';
import { assignGroupLicenses } from '../../src/application/group-licensing.js';
import type { RulePageMessage } from '../../src/application/messages.js';
import { SHARD_COUNT } from '../../src/storage/keys.js';
import { repoRoot, startHostProcess, uniqueName, waitFor } from '../support/index.js';
import {
  buy,
  consumedUnits,
  importUsers,
  invariantViolations,
  newTenant,
  productEnv,
  waitIdle,
} from './support.js';

const DEPARTMENTS = ['Sales', 'sales', 'HR', 'Finance'];

async function context(): Promise<{ ctx: StorageContext; env: Record<string, string> }> {
  const prefix = uniqueName('dg');
  const env: Record<string, string> = { ...productEnv(prefix), FUNCTIONS_QUEUE_LEASE_MS: '3000' };
  const ctx = createContext({ storage: env.AzureWebJobsStorage ?? '', storagePrefix: prefix });
  await ctx.ready;
  return { ctx, env };
}

/** Users with departments in turn; returns the ids of those in Sales (any case), the group's members to be. */
async function staff(ctx: StorageContext, tenantId: string, count: number): Promise<string[]> {
  const department = (i: number) => DEPARTMENTS[i % DEPARTMENTS.length] ?? 'HR';
  const ids = await importUsers(ctx, tenantId, count, (i) => ({ department: department(i) }));
  return ids.filter((_, i) => department(i).toLowerCase() === 'sales').sort();
}

async function salesGroup(ctx: StorageContext, tenantId: string, skuId: string) {
  const group = await createGroup(ctx, tenantId, {
    displayName: 'Sales',
    mailNickname: 'sales',
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: ['DynamicMembership'],
    membershipRule: 'user.department -eq "Sales"',
    membershipRuleProcessingState: 'On',
  });
  await assignGroupLicenses(ctx, tenantId, group.id, {
    addLicenses: [{ skuId, disabledPlans: [] }],
    removeLicenses: [],
  });
  return group;
}

async function members(ctx: StorageContext, tenantId: string, groupId: string): Promise<string[]> {
  return (await ctx.members.listRange(tenantId, groupId)).map((m) => m.id).sort();
}

async function rule(ctx: StorageContext, tenantId: string, groupId: string) {
  const found = (await ctx.tenants.partition(tenantId))?.membershipRules.get(groupId);
  if (!found) throw new Error(`group ${groupId} has no rule`);
  return found;
}

/** The pages the rule's commit queued: 16 shards each, one principal table (dynamic-groups.ts). */
function rulePages(tenantId: string, groupId: string, jobId: string): RulePageMessage[] {
  const shards = 16;
  return Array.from({ length: SHARD_COUNT / shards }, (_, page) => ({
    kind: 'rule-page',
    tenantId,
    groupId,
    jobId,
    page,
    pages: SHARD_COUNT / shards,
    fromShard: page * shards,
    toShard: (page + 1) * shards,
  }));
}

describe('a dynamic group evaluated under duplicate delivery', () => {
  it('ends with exactly the matching users licensed when every page runs as two messages and once more', async () => {
    // No host: the pages the rule's commit queued are run here, by hand, each three times.
    const { ctx } = await context();
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 1000);
    const expected = await staff(ctx, tenantId, 800);
    const group = await salesGroup(ctx, tenantId, e3);
    const { jobId } = await rule(ctx, tenantId, group.id);
    if (!jobId) throw new Error('the rule started no evaluation');

    for (const page of rulePages(tenantId, group.id, jobId)) {
      const id = randomUUID();
      // Two copies of one message at once (two messages, two reservations), then the first one delivered again.
      await Promise.all([processRulePage(ctx, page, id), processRulePage(ctx, page, randomUUID())]);
      await processRulePage(ctx, page, id);
    }

    expect(await members(ctx, tenantId, group.id)).toEqual(expected);
    const holders = (await ctx.directory.principals(tenantId, expected)).values();
    for (const user of holders) {
      expect(user.memberOf.map((m) => m.groupId)).toEqual([group.id]);
      expect(user.entries.map((e) => `${e.skuId}/${e.state}`)).toEqual([`${e3}/Active`]);
    }
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(expected.length);
    expect(await rule(ctx, tenantId, group.id)).toMatchObject({ status: 'Succeeded', jobId });
    expect((await ctx.tenants.partition(tenantId))?.reservations.size).toBe(0);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  }, 120_000);
});

describe('a rule page whose host died after its writes, before its seat reservation closed', () => {
  it('closes the reservation when redelivered, though it finds nothing left to change', async () => {
    const { ctx } = await context();
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 100);
    const expected = await staff(ctx, tenantId, 80);
    const group = await salesGroup(ctx, tenantId, e3);
    const { jobId } = await rule(ctx, tenantId, group.id);
    if (!jobId) throw new Error('the rule started no evaluation');
    const pages = rulePages(tenantId, group.id, jobId).map((page) => ({ page, id: randomUUID() }));
    // The host dies right after a page's principals landed, before the ledger closes its reservation.
    const dying: StorageContext = {
      ...ctx,
      ledger: {
        inTurn: (t, id, work) => ctx.ledger.inTurn(t, id, work),
        ifIdle: (t, id, work) => ctx.ledger.ifIdle(t, id, work),
        open: (...args) => ctx.ledger.open(...args),
        claim: (...args) => ctx.ledger.claim(...args),
        close: async () => {
          throw new Error('the host died');
        },
        removeStaleMarkers: (...args) => ctx.ledger.removeStaleMarkers(...args),
      },
    };
    let died = 0;
    for (const { page, id } of pages) await processRulePage(dying, page, id).catch(() => died++);
    const open = (await ctx.tenants.partition(tenantId))?.reservations.size ?? 0;
    expect(died, 'no page wrote anything: the test did not test a crash').toBeGreaterThan(0);
    expect(open).toBe(died);

    // Every message is delivered again, to a healthy host.
    for (const { page, id } of pages) await processRulePage(ctx, page, id);
    expect((await ctx.tenants.partition(tenantId))?.reservations.size).toBe(0);
    expect(await members(ctx, tenantId, group.id)).toEqual(expected);
    expect(await consumedUnits(ctx, tenantId, e3)).toBe(expected.length);
    expect(await rule(ctx, tenantId, group.id)).toMatchObject({ status: 'Succeeded' });
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  }, 120_000);
});

describe('a host SIGKILLed in the middle of a dynamic group evaluation', () => {
  it('is finished by a restarted host: the matching users licensed, seats exact, the status Succeeded', async () => {
    const { ctx, env } = await context();
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5000);
    const expected = await staff(ctx, tenantId, 6000);

    const first = await startHostProcess({ appDir: repoRoot, env });
    const group = await salesGroup(ctx, tenantId, e3);
    await waitFor(async () => (await ctx.members.count(tenantId, group.id)) >= 100, {
      timeoutMs: 60_000,
      intervalMs: 25,
      message: 'the first host never got going',
    });
    await first.stop('SIGKILL');
    const atKill = await rule(ctx, tenantId, group.id);
    expect(atKill.status, 'the evaluation finished before the kill; the test did not test a crash').toBe(
      'Running',
    );

    const second = await startHostProcess({ appDir: repoRoot, env });
    try {
      await waitIdle(ctx, tenantId, 180_000);
      expect(await members(ctx, tenantId, group.id)).toEqual(expected);
      expect(await consumedUnits(ctx, tenantId, e3)).toBe(expected.length);
      expect(await rule(ctx, tenantId, group.id)).toMatchObject({ status: 'Succeeded', jobId: atKill.jobId });
      expect((await ctx.tenants.partition(tenantId))?.reservations.size).toBe(0);
      expect(await invariantViolations(ctx, tenantId)).toEqual([]);
    } finally {
      await second.stop();
    }
  }, 300_000);
});
