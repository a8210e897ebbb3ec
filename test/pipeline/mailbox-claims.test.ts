// Mailbox claims on shared proxy addresses (rules.md §3.3, automatic healing) when workers interleave: a claim
// taken for a grant that is not written is given back, and a mailbox given up is released only if its user was
// not granted one again meanwhile. Each race is played deterministically: another worker acts at the seam where
// a concurrent one could.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StorageContext } from '../../src/application/context.js';
import { healReleased } from '../../src/application/healing.js';
import { updatePrincipals } from '../../src/application/principal-updates.js';
import { sweep } from '../../src/application/sweep.js';
import { assignUserLicenses } from '../../src/application/user-licensing.js';
import { readPrincipal } from '../../src/storage/principal-reads.js';
import type { PrincipalRecord } from '../../src/storage/principal-records.js';
import type { PrincipalWriter } from '../../src/storage/principal-writer.js';
import { RESERVATION_LEASE_MS, type SeatLedger } from '../../src/storage/seat-ledger.js';
import { buy, importUsers, invariantViolations, newTenant, usePipeline, waitIdle } from './support.js';

const pipeline = usePipeline();

const SHARED = 'smtp:shared@contoso.test';

/** Sets (or removes) a user's direct license, the way assignLicense does; idempotent across retries. */
function direct(skuId: string | null) {
  return (record: PrincipalRecord, now: string): PrincipalRecord => ({
    ...record,
    directLicenses:
      skuId === null ? [] : [{ skuId, disabledPlans: [], since: record.directLicenses[0]?.since ?? now }],
  });
}

async function license(ctx: StorageContext, tenantId: string, userId: string, skuId: string | null) {
  const result = await updatePrincipals(ctx, tenantId, [userId], {
    reservationId: randomUUID(),
    mutate: direct(skuId),
  });
  await healReleased(ctx, tenantId, result.released);
}

async function errors(ctx: StorageContext, tenantId: string, userId: string) {
  const record = await readPrincipal(ctx.tables, tenantId, userId);
  return (record?.entries ?? []).map((e) => `${e.state}/${e.error}`);
}

/** Two users listing the same address, and a third that does not. */
async function sharingTenant(ctx: StorageContext, seats: number) {
  const tenantId = await newTenant(ctx);
  const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', seats);
  const [holder = '', refused = '', other = ''] = await importUsers(ctx, tenantId, 3, (i) => ({
    proxyAddresses: i < 2 ? [SHARED] : ['smtp:other@contoso.test'],
  }));
  return { tenantId, e3, holder, refused, other };
}

describe('mailbox claims under concurrency', () => {
  it('gives the address back when the seat of the mailbox went to another worker before the seats were claimed', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3, holder, refused, other } = await sharingTenant(ctx, 1);
    // The holder is evaluated with the last seat free (a mailbox, so it claims the address); before its seat
    // claim, another worker takes that seat. Re-evaluated, the holder waits for a seat: no mailbox.
    let raced = false;
    const ledger: SeatLedger = Object.create(ctx.ledger);
    ledger.claim = async (...args: Parameters<SeatLedger['claim']>) => {
      if (!raced) {
        raced = true;
        await license(ctx, tenantId, other, e3);
      }
      return ctx.ledger.claim(...args);
    };
    await license({ ...ctx, ledger }, tenantId, holder, e3);
    expect(raced).toBe(true);
    expect(await errors(ctx, tenantId, holder)).toEqual(['Error/CountViolation']);
    expect((await ctx.proxies.read(tenantId, SHARED)).holder).toBeNull();

    // The other user listing the address is not refused a mailbox nobody has: it waits for a seat too.
    await license(ctx, tenantId, refused, e3);
    await waitIdle(ctx, tenantId);
    expect(await errors(ctx, tenantId, refused)).toEqual(['Error/CountViolation']);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);

    // The seat comes free: the first waiter gets it, and its mailbox.
    await license(ctx, tenantId, other, null);
    await waitIdle(ctx, tenantId);
    expect(await errors(ctx, tenantId, holder)).toEqual(['Active/None']);
    expect((await ctx.proxies.read(tenantId, SHARED)).holder).toBe(holder);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('keeps the claim of a user granted a mailbox again while its earlier loss was being released', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3, holder, refused } = await sharingTenant(ctx, 2);
    await license(ctx, tenantId, holder, e3);
    await license(ctx, tenantId, refused, e3);
    await waitIdle(ctx, tenantId);
    expect(await errors(ctx, tenantId, holder)).toEqual(['Active/None']);
    expect(await errors(ctx, tenantId, refused)).toEqual(['Error/UniquenessViolation']);

    // The holder's license is removed; its row (no mailbox) lands, and before that worker lets go of the address
    // another one gives the license back (a mailbox again, on the address it still holds).
    let raced = false;
    const writer: PrincipalWriter = Object.create(ctx.writer);
    writer.write = async (...args: Parameters<PrincipalWriter['write']>) => {
      const outcomes = await ctx.writer.write(...args);
      if (!raced) {
        raced = true;
        await license(ctx, tenantId, holder, e3);
      }
      return outcomes;
    };
    await license({ ...ctx, writer }, tenantId, holder, null);
    expect(raced).toBe(true);
    await waitIdle(ctx, tenantId);
    expect(await errors(ctx, tenantId, holder)).toEqual(['Active/None']);
    expect((await ctx.proxies.read(tenantId, SHARED)).holder).toBe(holder);
    expect(await errors(ctx, tenantId, refused)).toEqual(['Error/UniquenessViolation']);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('evaluates again a user written as refused just after the address it was refused for came free', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3, holder, refused } = await sharingTenant(ctx, 2);
    await license(ctx, tenantId, holder, e3);
    await waitIdle(ctx, tenantId);
    // The refused user is evaluated while the holder has its mailbox; before that refusal is written, the holder
    // loses its mailbox and the address is let go (the wake-up that follows finds nothing to change yet).
    let raced = false;
    const writer: PrincipalWriter = Object.create(ctx.writer);
    writer.write = async (...args: Parameters<PrincipalWriter['write']>) => {
      if (!raced) {
        raced = true;
        await license(ctx, tenantId, holder, null);
        await waitIdle(ctx, tenantId);
      }
      return ctx.writer.write(...args);
    };
    await license({ ...ctx, writer }, tenantId, refused, e3);
    expect(raced).toBe(true);
    await waitIdle(ctx, tenantId);
    expect(await errors(ctx, tenantId, refused)).toEqual(['Active/None']);
    expect((await ctx.proxies.read(tenantId, SHARED)).holder).toBe(refused);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('lets the sweep free an address whose claim was left by work that died, once its lease ran out', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3, holder, refused } = await sharingTenant(ctx, 2);
    // Work that was giving the holder a mailbox claimed the address, then died before writing anything.
    const now = ctx.now();
    const ticket = { id: randomUUID(), until: new Date(now.getTime() + RESERVATION_LEASE_MS).toISOString() };
    expect(await ctx.proxies.claim(tenantId, SHARED, holder, ticket, now)).toBe(true);
    await license(ctx, tenantId, refused, e3);
    await waitIdle(ctx, tenantId);
    // A claim in flight is obeyed while its lease runs.
    expect(await errors(ctx, tenantId, refused)).toEqual(['Error/UniquenessViolation']);

    const later = new Date(now.getTime() + RESERVATION_LEASE_MS + 60_000);
    const result = await sweep({ ...ctx, now: () => later });
    expect(result.refusalsRechecked).toBe(1);
    await waitIdle(ctx, tenantId);
    expect(await errors(ctx, tenantId, refused)).toEqual(['Active/None']);
    expect((await ctx.proxies.read(tenantId, SHARED)).holder).toBe(refused);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });

  it('does not refuse a direct license for an address held only by a claim whose lease ran out', async () => {
    const { ctx } = pipeline;
    const { tenantId, e3, holder, refused } = await sharingTenant(ctx, 2);
    const then = new Date(ctx.now().getTime() - RESERVATION_LEASE_MS - 60_000);
    const ticket = { id: randomUUID(), until: new Date(then.getTime() + RESERVATION_LEASE_MS).toISOString() };
    expect(await ctx.proxies.claim(tenantId, SHARED, holder, ticket, then)).toBe(true);
    const updated = await assignUserLicenses(ctx, tenantId, refused, {
      addLicenses: [{ skuId: e3, disabledPlans: [] }],
      removeLicenses: [],
    });
    expect(updated.entries.map((e) => `${e.state}/${e.error}`)).toEqual(['Active/None']);
    expect((await ctx.proxies.read(tenantId, SHARED)).holder).toBe(refused);
    await waitIdle(ctx, tenantId);
    expect(await invariantViolations(ctx, tenantId)).toEqual([]);
  });
});
