import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ProxyRegistry } from '../../src/storage/proxies.js';
import { StorageTables } from '../../src/storage/tables.js';
import { uniqueName } from '../support/index.js';

describe('ProxyRegistry.registerMany (real Azurite)', () => {
  let proxies: ProxyRegistry;
  beforeAll(async () => {
    const tables = new StorageTables(inject('storageConnectionString'), uniqueName('px'));
    await tables.ensure();
    proxies = new ProxyRegistry(tables);
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
    expect(await proxies.claim(tenant, 'smtp:shared@contoso.com', 'first')).toBe(true);
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
