// User principal names (src/application/names.ts) on the in-memory ports, with a clock the test moves: a name
// left by a request that died before writing its user is free once no request can still write it.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../src/application/errors.js';
import {
  claimNameHeldByNobody,
  type NamePorts,
  releaseName,
  reserveName,
  resolveUserPrincipalName,
} from '../../src/application/names.js';
import type { PrincipalRecord } from '../../src/application/records.js';
import { nameReservationTimeoutMs } from '../../src/config/tuning.js';
import { InMemoryDirectoryStore, InMemoryNameRegistry } from '../support/in-memory-stores.js';
import { principalRecord } from '../support/records.js';

function setUp() {
  const clock = { now: Date.parse('2026-03-01T10:00:00.000Z') };
  const now = () => new Date(clock.now);
  const ctx: NamePorts = {
    names: new InMemoryNameRegistry(now),
    directory: new InMemoryDirectoryStore(),
    now,
  };
  return { ctx, clock, tenantId: randomUUID() };
}

describe('user principal names', () => {
  it('refuses a name another user holds, and resolves names to their user', async () => {
    const { ctx, tenantId } = setUp();
    const adele = randomUUID();
    await reserveName(ctx, tenantId, 'adele@contoso.test', adele);
    await ctx.directory.createPrincipal(user(tenantId, adele));
    await reserveName(ctx, tenantId, 'ADELE@contoso.test', adele); // a retry of the same request
    const refused = await reserveName(ctx, tenantId, 'adele@contoso.test', randomUUID()).catch(
      (e: unknown) => e,
    );
    expect((refused as RefusedError).refusal).toEqual({
      code: 'UserPrincipalNameTaken',
      userPrincipalName: 'adele@contoso.test',
    });
    expect(await resolveUserPrincipalName(ctx, tenantId, 'Adele@Contoso.test')).toBe(adele);
    await releaseName(ctx, tenantId, 'adele@contoso.test');
    expect(await resolveUserPrincipalName(ctx, tenantId, 'adele@contoso.test')).toBeUndefined();
  });

  it('keeps a fresh reservation whose user is not written yet: that request may still write it', async () => {
    const { ctx, clock, tenantId } = setUp();
    await reserveName(ctx, tenantId, 'alex@contoso.test', randomUUID());
    clock.now += nameReservationTimeoutMs() - 1000;
    await expect(reserveName(ctx, tenantId, 'alex@contoso.test', randomUUID())).rejects.toBeInstanceOf(
      RefusedError,
    );
  });

  it('takes over a reservation older than the function timeout whose user never came', async () => {
    const { ctx, clock, tenantId } = setUp();
    await reserveName(ctx, tenantId, 'alex@contoso.test', randomUUID());
    clock.now += nameReservationTimeoutMs() + 1000;
    const retry = randomUUID();
    await reserveName(ctx, tenantId, 'alex@contoso.test', retry);
    expect(await resolveUserPrincipalName(ctx, tenantId, 'alex@contoso.test')).toBe(retry);
  });

  it('never takes over a name, however old, while its user exists', async () => {
    const { ctx, clock, tenantId } = setUp();
    const adele = randomUUID();
    await reserveName(ctx, tenantId, 'adele@contoso.test', adele);
    await ctx.directory.createPrincipal(user(tenantId, adele));
    clock.now += 10 * nameReservationTimeoutMs();
    expect(await claimNameHeldByNobody(ctx, tenantId, 'adele@contoso.test', randomUUID())).toBe(false);
    expect(await claimNameHeldByNobody(ctx, tenantId, 'nobody@contoso.test', randomUUID())).toBe(false);
  });
});

function user(tenantId: string, id: string): PrincipalRecord {
  return principalRecord(tenantId, {
    id,
    displayName: 'Adele',
    userPrincipalName: 'adele@contoso.test',
    mailNickname: 'adele',
  });
}
