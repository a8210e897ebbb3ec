// Direct license assignment on the in-memory ports: the user and the tenant partition are read once, the request is
// validated and written from them, and a change that lands between the reads and the write is kept (the write's ETag
// fails, the rows are read again) — a seat taken meanwhile is never sold twice.
import { describe, expect, it } from 'vitest';
import { updateUser } from '../../src/application/directory.js';
import { LicensingRefusedError } from '../../src/application/errors.js';
import { assignUserLicenses, reprocessUser } from '../../src/application/user-licensing.js';
import { type InMemoryContext, inMemoryContext, licensingTenant } from '../support/in-memory-context.js';

/** Counts the principal rows read from the directory store from now on. */
function countReads(ctx: InMemoryContext): () => number {
  let reads = 0;
  const directory = ctx.directory;
  const single = directory.principal.bind(directory);
  const bulk = directory.principals.bind(directory);
  directory.principal = (tenantId, id) => {
    reads++;
    return single(tenantId, id);
  };
  directory.principals = (tenantId, ids) => {
    reads += ids.length;
    return bulk(tenantId, ids);
  };
  return () => reads;
}

describe('assignUserLicenses', () => {
  it('reads the user once, and writes the license from that row', async () => {
    const ctx = inMemoryContext();
    const tenant = await licensingTenant(ctx, { seats: 2 });
    const diego = await tenant.user('Diego', false);
    const reads = countReads(ctx);
    const partition = ctx.tenants.partition.bind(ctx.tenants);
    let partitionReads = 0;
    ctx.tenants.partition = (tenantId) => {
      partitionReads++;
      return partition(tenantId);
    };
    const updated = await assignUserLicenses(ctx, tenant.tenantId, diego, {
      addLicenses: [{ skuId: tenant.skuId, disabledPlans: [] }],
      removeLicenses: [],
    });
    expect(reads()).toBe(1);
    expect(partitionReads).toBe(1);
    expect(updated.directLicenses.map((l) => l.skuId)).toEqual([tenant.skuId]);
    expect(await tenant.states([diego])).toEqual([[diego, 'Active', 'None']]);
    expect(await tenant.consumed()).toBe(1);
  });

  it('keeps a change made to the user between its validation and the write', async () => {
    const ctx = inMemoryContext();
    const tenant = await licensingTenant(ctx, { seats: 2 });
    const diego = await tenant.user('Diego', false);
    // The tenant partition is read after the user: rename the user then, as another request would.
    const partition = ctx.tenants.partition.bind(ctx.tenants);
    let renamed = false;
    ctx.tenants.partition = async (tenantId) => {
      if (!renamed) {
        renamed = true;
        await updateUser(ctx, tenantId, diego, { displayName: 'Diego Siciliani' });
      }
      return partition(tenantId);
    };
    const updated = await assignUserLicenses(ctx, tenant.tenantId, diego, {
      addLicenses: [{ skuId: tenant.skuId, disabledPlans: [] }],
      removeLicenses: [],
    });
    expect(renamed).toBe(true);
    expect(updated.displayName).toBe('Diego Siciliani');
    const row = (await ctx.directory.principals(tenant.tenantId, [diego])).get(diego);
    expect(row?.displayName).toBe('Diego Siciliani');
    expect(row?.directLicenses.map((l) => l.skuId)).toEqual([tenant.skuId]);
    expect(await tenant.states([diego])).toEqual([[diego, 'Active', 'None']]);
    expect(await tenant.consumed()).toBe(1);
  });

  it('refuses the license when another request took the last seat after validation, and sells no seat twice', async () => {
    const ctx = inMemoryContext();
    const tenant = await licensingTenant(ctx, { seats: 1 });
    const [diego, megan] = [await tenant.user('Diego', false), await tenant.user('Megan', false)];
    const partition = ctx.tenants.partition.bind(ctx.tenants);
    let raced = false;
    ctx.tenants.partition = async (tenantId) => {
      const read = await partition(tenantId);
      if (!raced) {
        // Diego's request has read the partition (one seat free) and validates against it: Megan's takes the seat.
        raced = true;
        await assignUserLicenses(ctx, tenantId, megan, {
          addLicenses: [{ skuId: tenant.skuId, disabledPlans: [] }],
          removeLicenses: [],
        });
      }
      return read;
    };
    await expect(
      assignUserLicenses(ctx, tenant.tenantId, diego, {
        addLicenses: [{ skuId: tenant.skuId, disabledPlans: [] }],
        removeLicenses: [],
      }),
    ).rejects.toBeInstanceOf(LicensingRefusedError);
    expect(raced).toBe(true);
    expect(await tenant.states([megan, diego])).toEqual([
      [megan, 'Active', 'None'],
      [diego, 'none', 'None'],
    ]);
    expect(await tenant.consumed()).toBe(1);
  });
});

describe('reprocessUser', () => {
  it('reads the user once when nothing changed meanwhile', async () => {
    const ctx = inMemoryContext();
    const tenant = await licensingTenant(ctx, { seats: 1 });
    const adele = await tenant.user('Adele');
    await tenant.license();
    const reads = countReads(ctx);
    const user = await reprocessUser(ctx, tenant.tenantId, adele);
    expect(reads()).toBe(1);
    expect(user.entries.map((e) => [e.skuId, e.state])).toEqual([[tenant.skuId, 'Active']]);
  });
});
