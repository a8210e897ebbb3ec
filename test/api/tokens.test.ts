// Bearer tokens: verified once and then remembered until they expire, never past it, and never for another key.
import { describe, expect, it } from 'vitest';
import { GraphError } from '../../src/api/envelope.js';
import { authenticate, mintToken } from '../../src/api/tokens.js';

const secret = 'tokens-test-key-0123456789abcdef0123456789';
const tenantId = '11111111-2222-4333-8444-555555555555';

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof GraphError ? error.status : error),
  );
}

describe('authenticate', () => {
  it('accepts a good token again and again, with its tenant and roles', async () => {
    const token = await mintToken(secret, tenantId, ['User.Read.All'], 3600);
    for (let i = 0; i < 3; i++) {
      const caller = await authenticate(secret, `Bearer ${token}`);
      expect(caller.tenantId).toBe(tenantId);
      expect([...caller.roles]).toEqual(['User.Read.All']);
    }
  });

  it('refuses a remembered token once it has expired', async () => {
    let clock = new Date('2026-01-01T00:00:00Z');
    const now = () => clock;
    const token = await mintToken(secret, tenantId, ['User.Read.All'], 60, now);
    expect((await authenticate(secret, `Bearer ${token}`, { now })).tenantId).toBe(tenantId);
    clock = new Date('2026-01-01T00:00:59Z');
    expect((await authenticate(secret, `Bearer ${token}`, { now })).tenantId).toBe(tenantId);
    clock = new Date('2026-01-01T00:01:01Z');
    expect(await refusal(authenticate(secret, `Bearer ${token}`, { now }))).toBe(401);
  });

  it('refuses a remembered token under another signing key', async () => {
    const token = await mintToken(secret, tenantId, ['User.Read.All'], 3600);
    await authenticate(secret, `Bearer ${token}`);
    expect(await refusal(authenticate(`${secret}-rotated`, `Bearer ${token}`))).toBe(401);
  });

  it('refuses a tampered copy of a remembered token', async () => {
    const token = await mintToken(secret, tenantId, ['User.Read.All'], 3600);
    await authenticate(secret, `Bearer ${token}`);
    const [header, payload, signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ tid: tenantId, roles: ['Directory.ReadWrite.All'] }),
    ).toString('base64url');
    expect(payload).not.toBe(forged);
    expect(await refusal(authenticate(secret, `Bearer ${header}.${forged}.${signature}`))).toBe(401);
  });
});
