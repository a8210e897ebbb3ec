// The identity store port (src/application/ports.ts): one suite against the Table adapter on a real Azurite and
// against the in-memory double, so app registrations and the signing key behave alike in unit tests.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { StorageContentionError } from '../../src/application/errors.js';
import type { IdentityStore } from '../../src/application/ports.js';
import type { ApplicationRecord } from '../../src/application/records.js';
import { TableIdentityStore } from '../../src/storage/identity.js';
import { isConflict } from '../../src/storage/properties.js';
import { StorageTables } from '../../src/storage/tables.js';
import { InMemoryIdentityStore } from '../support/in-memory-stores.js';
import { uniqueName } from '../support/index.js';

function application(tenantId: string, displayName: string, createdDateTime: string): ApplicationRecord {
  return {
    tenantId,
    appId: randomUUID(),
    id: randomUUID(),
    displayName,
    roles: ['User.Read.All'],
    passwordCredentials: [
      {
        keyId: randomUUID(),
        displayName: null,
        hint: 'abc',
        secretHash: 'hash',
        startDateTime: createdDateTime,
        endDateTime: '2028-03-01T10:00:00.000Z',
      },
    ],
    createdDateTime,
  };
}

function contract(name: string, setUp: () => Promise<IdentityStore>) {
  describe(`IdentityStore: ${name}`, () => {
    it('stores, lists oldest first per tenant, replaces under the ETag and deletes', async () => {
      const store = await setUp();
      const tenantId = randomUUID();
      const later = application(tenantId, 'Later', '2026-03-02T10:00:00.000Z');
      const first = application(tenantId, 'First', '2026-03-01T10:00:00.000Z');
      await store.createApplication(later);
      await store.createApplication(first);
      await store.createApplication(application(randomUUID(), 'Elsewhere', '2026-03-01T09:00:00.000Z'));
      expect((await store.listApplications(tenantId)).map((a) => a.displayName)).toEqual(['First', 'Later']);

      const read = await store.readApplication(tenantId, first.appId);
      expect(read).toMatchObject({ ...first, etag: expect.any(String) });
      if (!read) throw new Error('not stored');
      await store.replaceApplication({ ...read, roles: [] });
      expect((await store.readApplication(tenantId, first.appId))?.roles).toEqual([]);
      // Written back from the stale read: refused, the caller is told to retry.
      await expect(store.replaceApplication({ ...read, displayName: 'Lost' })).rejects.toBeInstanceOf(
        StorageContentionError,
      );
      await expect(store.replaceApplication(first)).rejects.toThrow(/ETag/);

      expect(await store.deleteApplication(tenantId, first.appId)).toBe(true);
      expect(await store.deleteApplication(tenantId, first.appId)).toBe(false);
      expect(await store.readApplication(tenantId, first.appId)).toBeUndefined();
    });

    it('keeps one signing key when several instances start at once: each adopts the stored one', async () => {
      const store = await setUp();
      expect(await store.readSigningKey()).toBeUndefined();
      const keys = Array.from({ length: 6 }, (_, i) => ({
        kid: `kid-${i}`,
        privateJwk: { kty: 'RSA', n: `modulus-${i}`, e: 'AQAB', d: `secret-${i}` },
        createdDateTime: '2026-03-01T00:00:00.000Z',
      }));
      const adopted = await Promise.all(keys.map((key) => store.createSigningKey(key)));
      const stored = await store.readSigningKey();
      expect(keys.map((k) => k.kid)).toContain(stored?.kid);
      for (const key of adopted) expect(key).toEqual(stored);
    });

    it('refuses a second registration with the same app id', async () => {
      const store = await setUp();
      const first = application(randomUUID(), 'First', '2026-03-01T10:00:00.000Z');
      await store.createApplication(first);
      const refused = await store.createApplication({ ...first, displayName: 'Again' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isConflict(refused)).toBe(true);
      expect((await store.readApplication(first.tenantId, first.appId))?.displayName).toBe('First');
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('ids'));
  await tables.ensure();
  return new TableIdentityStore(tables.identity);
});

contract('in-memory double', async () => new InMemoryIdentityStore());
