// Crashes and scale-out: host processes killed mid-job, and two hosts working one tenant at once.
import { describe, expect, it } from 'vitest';
import { createContext, type StorageContext } from '../../src/application/context.js';
import { addMember, removeMember } from '../../src/application/directory.js';
import { assignGroupLicenses, processingDetails } from '../../src/application/group-licensing.js';
import { listSubscriptions } from '../../src/application/tenants.js';
import { readTenantPartition } from '../../src/storage/tenant-records.js';
import { repoRoot, startHostProcess, uniqueName, waitFor } from '../support/index.js';
import {
  buy,
  importUsers,
  invariantViolations,
  newTenant,
  productEnv,
  securityGroup,
  waitIdle,
} from './support.js';

async function context(): Promise<{ ctx: StorageContext; env: Record<string, string> }> {
  const prefix = uniqueName('x');
  const env: Record<string, string> = {
    ...productEnv(prefix),
    FUNCTIONS_QUEUE_LEASE_MS: '3000',
    LICENSE_PAGE_MEMBERS: '250',
  };
  const ctx = createContext({
    storage: env.AzureWebJobsStorage ?? '',
    storagePrefix: prefix,
  });
  await ctx.ready;
  return { ctx, env };
}

describe('a host process killed in the middle of a 5,000-member job', () => {
  it('is finished by a restarted host with every member licensed and seats exact', async () => {
    const { ctx, env } = await context();
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5000);
    const ems = await buy(ctx, tenantId, 'EMS', 5000);
    const group = await securityGroup(ctx, tenantId, 'Everyone');
    await importUsers(ctx, tenantId, 5000, { memberOf: [group.id] });

    const first = await startHostProcess({ appDir: repoRoot, env });
    await assignGroupLicenses(ctx, tenantId, group.id, {
      addLicenses: [
        { skuId: e3, disabledPlans: [] },
        { skuId: ems, disabledPlans: [] },
      ],
      removeLicenses: [],
    });
    await waitFor(async () => (await processingDetails(ctx, tenantId, group.id)).membersSucceeded >= 500, {
      timeoutMs: 60_000,
      intervalMs: 50,
      message: 'the first host never got going',
    });
    await first.stop('SIGKILL');
    const atKill = await processingDetails(ctx, tenantId, group.id);
    expect(atKill.state, 'the job finished before the kill; the test did not test a crash').toBe(
      'ProcessingInProgress',
    );

    await startHostProcess({ appDir: repoRoot, env });
    await waitIdle(ctx, tenantId, 120_000);
    const details = await processingDetails(ctx, tenantId, group.id);
    expect(details).toMatchObject({ state: 'ProcessingComplete', membersSucceeded: 5000, membersFailed: 0 });
    const subs = await listSubscriptions(ctx, tenantId);
    expect(subs.map((s) => s.consumedUnits)).toEqual([5000, 5000]);
    expect((await readTenantPartition(ctx.tables, tenantId))?.reservations.size).toBe(0);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  }, 240_000);
});

describe('two host processes working one tenant at once', () => {
  it('never grant more seats than the tenant owns and end consistent with the from-scratch evaluation', async () => {
    const { ctx, env } = await context();
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 700);
    const a = await securityGroup(ctx, tenantId, 'A');
    const b = await securityGroup(ctx, tenantId, 'B');
    const both = await importUsers(ctx, tenantId, 100, { memberOf: [a.id, b.id] });
    const onlyA = await importUsers(ctx, tenantId, 400, { memberOf: [a.id] });
    await importUsers(ctx, tenantId, 400, { memberOf: [b.id] });

    await Promise.all([
      startHostProcess({ appDir: repoRoot, env }),
      startHostProcess({ appDir: repoRoot, env }),
    ]);
    const seatsNeverExceeded = watchSeats(ctx, tenantId, e3, 700);
    await Promise.all([
      assignGroupLicenses(ctx, tenantId, a.id, {
        addLicenses: [{ skuId: e3, disabledPlans: [] }],
        removeLicenses: [],
      }),
      assignGroupLicenses(ctx, tenantId, b.id, {
        addLicenses: [{ skuId: e3, disabledPlans: [] }],
        removeLicenses: [],
      }),
      (async () => {
        for (const id of onlyA.slice(0, 50)) await removeMember(ctx, tenantId, a.id, id);
        for (const id of both.slice(0, 20)) await removeMember(ctx, tenantId, b.id, id);
        for (const id of onlyA.slice(50, 80)) await addMember(ctx, tenantId, b.id, id);
      })(),
    ]);
    await waitIdle(ctx, tenantId, 120_000);
    expect(await seatsNeverExceeded.stop()).toBeLessThanOrEqual(700);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
    const subs = await listSubscriptions(ctx, tenantId);
    expect(subs[0]?.consumedUnits).toBe(700);
  }, 240_000);
});

/** Samples consumedUnits while work runs; reports the highest value seen. */
function watchSeats(ctx: StorageContext, tenantId: string, skuId: string, total: number) {
  let highest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const sub = (await readTenantPartition(ctx.tables, tenantId))?.subscriptions.get(skuId);
      highest = Math.max(highest, sub?.consumedUnits ?? 0);
      if (highest > total) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return highest;
    },
  };
}
