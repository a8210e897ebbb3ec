// The proxy address port (src/application/ports.ts, ProxyAddressStore): one suite against the Table adapter on a
// real Azurite and against the in-memory double. Bulk registration merges and flags sharers; a mailbox claim is a
// lock let go only when no claim is in flight and the holder's row has no mailbox, never past a claim taken
// meanwhile.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ProxyAddressStore } from '../../src/application/ports.js';
import { ProxyRegistry } from '../../src/storage/proxies.js';
import { StorageTables } from '../../src/storage/tables.js';
import { InMemoryProxyAddresses } from '../support/in-memory-stores.js';
import { uniqueName } from '../support/index.js';

const LEASE_MS = 12 * 60_000;

function ticket(id: string, now = new Date()) {
  return { id, until: new Date(now.getTime() + LEASE_MS).toISOString() };
}

function contract(name: string, setUp: () => Promise<ProxyAddressStore>) {
  describe(`ProxyAddressStore.registerMany: ${name}`, () => {
    let proxies: ProxyAddressStore;
    beforeAll(async () => {
      proxies = await setUp();
    });

    it('records every address of a fresh tenant and flags only the users who share one', async () => {
      const tenant = randomUUID();
      const pairs = Array.from({ length: 450 }, (_, i) => ({
        address: `smtp:u${i}@contoso.com`,
        userId: `u${i}`,
      }));
      pairs.push({ address: 'SMTP:U7@contoso.com', userId: 'late' });
      const sharing = await proxies.registerMany(tenant, pairs);
      expect([...sharing].sort()).toEqual(['late', 'u7']);
      expect((await proxies.read(tenant, 'smtp:u7@contoso.com')).users).toEqual(['u7', 'late']);
      expect((await proxies.read(tenant, 'smtp:u449@contoso.com')).users).toEqual(['u449']);
    });

    it('merges into rows that already exist (a second import, a user created before) and keeps the holder', async () => {
      const tenant = randomUUID();
      await proxies.register(tenant, 'first', [], ['smtp:shared@contoso.com']);
      expect(await proxies.claim(tenant, 'smtp:shared@contoso.com', 'first', ticket('t1'), new Date())).toBe(
        true,
      );
      const pairs = [
        { address: 'smtp:shared@contoso.com', userId: 'second' },
        ...Array.from({ length: 150 }, (_, i) => ({ address: `smtp:n${i}@contoso.com`, userId: `n${i}` })),
      ];
      const sharing = await proxies.registerMany(tenant, pairs);
      expect([...sharing].sort()).toEqual(['first', 'second']);
      const row = await proxies.read(tenant, 'smtp:shared@contoso.com');
      expect(row.users).toEqual(['first', 'second']);
      expect(row.holder).toBe('first');
      // Replaying the same import changes nothing and still reports the sharing.
      expect([...(await proxies.registerMany(tenant, pairs))].sort()).toEqual(['first', 'second']);
      expect((await proxies.read(tenant, 'smtp:n3@contoso.com')).users).toEqual(['n3']);
    });
  });

  describe(`ProxyAddressStore mailbox claims: ${name}`, () => {
    let proxies: ProxyAddressStore;
    const address = 'smtp:shared@contoso.com';
    beforeAll(async () => {
      proxies = await setUp();
    });

    async function shared() {
      const tenant = randomUUID();
      await proxies.register(tenant, 'first', [], [address]);
      await proxies.register(tenant, 'second', [], [address]);
      return tenant;
    }

    it('refuses a claim while another user holds the address, in flight or with its mailbox', async () => {
      const tenant = await shared();
      const now = new Date();
      expect(await proxies.claim(tenant, address, 'first', ticket('a', now), now)).toBe(true);
      expect(await proxies.claim(tenant, address, 'second', ticket('b', now), now)).toBe(false);
      // Its claim settled, the holder keeps the address while its row has the mailbox.
      const kept = await proxies.settle(tenant, address, 'a', now, async () => true);
      expect(kept).toEqual({ holder: 'first', released: [] });
      expect(await proxies.claim(tenant, address, 'second', ticket('b', now), now)).toBe(false);
      expect((await proxies.read(tenant, address)).claims).toEqual([]);
    });

    it('lets the address go only once no claim is in flight and the holder has no mailbox', async () => {
      const tenant = await shared();
      const now = new Date();
      await proxies.claim(tenant, address, 'first', ticket('a', now), now);
      await proxies.claim(tenant, address, 'first', ticket('b', now), now);
      const checked: string[] = [];
      const noMailbox = async (userId: string) => {
        checked.push(userId);
        return false;
      };
      // Claim b is still in flight: settling a keeps the holder, without even reading its row.
      expect(await proxies.settle(tenant, address, 'a', now, noMailbox)).toEqual({
        holder: 'first',
        released: [],
      });
      expect(checked).toEqual([]);
      expect(await proxies.settle(tenant, address, 'b', now, noMailbox)).toEqual({
        holder: null,
        released: ['second'],
      });
      expect(checked).toEqual(['first']);
      expect(await proxies.claim(tenant, address, 'second', ticket('c', now), now)).toBe(true);
    });

    it('does not release an address claimed again between its read and the release (ETag)', async () => {
      const tenant = await shared();
      const now = new Date();
      await proxies.claim(tenant, address, 'first', ticket('a', now), now);
      let raced = false;
      // While the release looks at the holder's row, the holder claims the address again for a new mailbox.
      const result = await proxies.settle(tenant, address, 'a', now, async () => {
        if (!raced) {
          raced = true;
          await proxies.claim(tenant, address, 'first', ticket('again', now), now);
        }
        return false;
      });
      expect(result).toEqual({ holder: 'first', released: [] });
      expect((await proxies.read(tenant, address)).claims.map((c) => c.id)).toEqual(['again']);
    });

    it('treats a claim whose lease ran out as dead', async () => {
      const tenant = await shared();
      const then = new Date(Date.now() - LEASE_MS - 60_000);
      await proxies.claim(tenant, address, 'first', ticket('dead', then), then);
      const now = new Date();
      expect(await proxies.settle(tenant, address, null, now, async () => false)).toEqual({
        holder: null,
        released: ['second'],
      });
      expect((await proxies.read(tenant, address)).claims).toEqual([]);
    });

    it('keeps claims in flight when users are registered', async () => {
      const tenant = await shared();
      const now = new Date();
      await proxies.claim(tenant, address, 'first', ticket('a', now), now);
      await proxies.register(tenant, 'third', [], [address]);
      await proxies.registerMany(tenant, [{ address, userId: 'fourth' }]);
      const row = await proxies.read(tenant, address);
      expect(row.users).toEqual(['first', 'second', 'third', 'fourth']);
      expect(row.holder).toBe('first');
      expect(row.claims.map((c) => c.id)).toEqual(['a']);
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('px'));
  await tables.ensure();
  return new ProxyRegistry(tables);
});

contract('in-memory double', async () => new InMemoryProxyAddresses());
