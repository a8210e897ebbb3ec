// App registrations and the signing key on a real Azurite: registrations per tenant, listed oldest first, replaced
// only as read (a concurrent change answers "retry", never last-writer-wins), and one signing key for every
// instance even when several start at once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageContentionError } from '../../src/application/errors.js';
import type { ApplicationRecord } from '../../src/application/records.js';
import { IdentityStore, type SigningKeyRecord } from '../../src/storage/identity.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;
let store: IdentityStore;

beforeAll(async () => {
  scratch = await scratchTables('identity', (t) => [t.identity]);
  store = new IdentityStore(scratch.tables.identity);
});
afterAll(async () => {
  await scratch?.drop();
});

function app(tenantId: string, createdDateTime: string, displayName = 'Provisioning'): ApplicationRecord {
  return {
    tenantId,
    appId: randomUUID(),
    id: randomUUID(),
    displayName,
    roles: ['Directory.ReadWrite.All', 'Group.ReadWrite.All'],
    passwordCredentials: [
      {
        keyId: randomUUID(),
        displayName: null,
        hint: 'abc',
        secretHash: 'sha256:0011',
        startDateTime: createdDateTime,
        endDateTime: '2028-03-01T10:00:00.000Z',
      },
    ],
    createdDateTime,
  };
}

const withoutEtag = ({ etag: _etag, ...rest }: ApplicationRecord) => rest;

describe('IdentityStore (real Azurite)', () => {
  it('stores registrations per tenant and lists them oldest first', async () => {
    const tenantId = randomUUID();
    const later = app(tenantId, '2026-03-02T00:00:00.000Z', 'Later');
    const earlier = app(tenantId, '2026-03-01T00:00:00.000Z', 'Earlier');
    await store.createApplication(later);
    await store.createApplication(earlier);
    await store.createApplication(app(randomUUID(), '2026-01-01T00:00:00.000Z'));
    expect((await store.listApplications(tenantId)).map(withoutEtag)).toEqual([earlier, later]);
    const read = await store.readApplication(tenantId, earlier.appId);
    expect(read && withoutEtag(read)).toEqual(earlier);
    expect(await store.readApplication(randomUUID(), earlier.appId)).toBeUndefined();
    // The same app id twice in a tenant is refused (409), not overwritten.
    await expect(store.createApplication({ ...earlier, displayName: 'Dup' })).rejects.toMatchObject({
      statusCode: 409,
    });
  });

  it('replaces a registration only as read, and answers "retry" when it changed meanwhile', async () => {
    const tenantId = randomUUID();
    const created = app(tenantId, '2026-03-01T00:00:00.000Z');
    await store.createApplication(created);
    await expect(store.replaceApplication(created)).rejects.toThrow(/ETag/);
    const read = await store.readApplication(tenantId, created.appId);
    if (!read) throw new Error('not stored');
    await store.replaceApplication({ ...read, roles: ['User.Read.All'] });
    // A second writer with the same (now stale) read must not overwrite the first.
    await expect(store.replaceApplication({ ...read, displayName: 'Stale' })).rejects.toBeInstanceOf(
      StorageContentionError,
    );
    const now = await store.readApplication(tenantId, created.appId);
    expect(now?.roles).toEqual(['User.Read.All']);
    expect(now?.displayName).toBe('Provisioning');
  });

  it('deletes a registration, and says when there was none', async () => {
    const tenantId = randomUUID();
    const created = app(tenantId, '2026-03-01T00:00:00.000Z');
    await store.createApplication(created);
    expect(await store.deleteApplication(tenantId, created.appId)).toBe(true);
    expect(await store.deleteApplication(tenantId, created.appId)).toBe(false);
    expect(await store.listApplications(tenantId)).toEqual([]);
  });

  it('keeps one signing key when several instances start at once', async () => {
    expect(await store.readSigningKey()).toBeUndefined();
    const keys: SigningKeyRecord[] = Array.from({ length: 6 }, (_, i) => ({
      kid: `kid-${i}`,
      privateJwk: { kty: 'RSA', n: `modulus-${i}`, e: 'AQAB', d: `secret-${i}` },
      createdDateTime: '2026-03-01T00:00:00.000Z',
    }));
    // Each instance has its own clients, as separate hosts do.
    const adopted = await Promise.all(
      keys.map((key) => new IdentityStore(scratch.anotherHost().identity).createSigningKey(key)),
    );
    const stored = await store.readSigningKey();
    expect(keys.map((k) => k.kid)).toContain(stored?.kid);
    // Every instance signs with the key that is stored, whichever insert won.
    for (const key of adopted) expect(key).toEqual(stored);
  });
});
