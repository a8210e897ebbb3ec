// The outbox port (src/application/ports.ts): one suite against the Table adapter on a real Azurite and against
// the in-memory double, so the sweep's view of what is owed, and the remover's guard against newer versions, are
// the same on both. (test/storage/outbox.test.ts covers what only the tables have: payload size, row ranges.)
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { OutboxStore, TenantStore } from '../../src/application/ports.js';
import type { OutboxRecord } from '../../src/application/records.js';
import { Outbox } from '../../src/storage/outbox.js';
import { StorageTables } from '../../src/storage/tables.js';
import { TableTenantStore } from '../../src/storage/tenant-records.js';
import { InMemoryOutbox, InMemoryTenantStore } from '../support/in-memory-stores.js';
import { uniqueName } from '../support/index.js';
import { outboxRecord } from '../support/records.js';

const start = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(start + seconds * 1000);

function row(id: string, relayAfterSeconds: number, payload: unknown = { messages: [id] }): OutboxRecord {
  return outboxRecord({
    id,
    createdDateTime: at(0).toISOString(),
    relayAfter: at(relayAfterSeconds).toISOString(),
    payload,
  });
}

function contract(name: string, setUp: () => Promise<{ outbox: OutboxStore; tenants: TenantStore }>) {
  describe(`OutboxStore: ${name}`, () => {
    async function newTenant(tenants: TenantStore): Promise<string> {
      const id = randomUUID();
      await tenants.create({
        id,
        displayName: 'Contoso',
        countryLetterCode: 'US',
        licenseErrorHealing: 'automatic',
        clientState: 'secret',
        createdDateTime: at(0).toISOString(),
      });
      return id;
    }

    it('lists what is due in id order, up to the limit, per tenant, and counts what is pending', async () => {
      const { outbox, tenants } = await setUp();
      const tenantId = await newTenant(tenants);
      const other = await newTenant(tenants);
      for (const [id, lease] of [
        ['b', 10],
        ['a', 20],
        ['c', 30],
        ['d', 600],
      ] as const)
        await outbox.put(tenantId, row(id, lease));
      await outbox.put(other, row('a', 0));
      expect((await outbox.due(tenantId, at(25), 500)).map((r) => r.id)).toEqual(['a', 'b']);
      expect((await outbox.due(tenantId, at(3600), 2)).map((r) => r.id)).toEqual(['a', 'b']);
      expect(await outbox.due(tenantId, at(5), 500)).toEqual([]);
      expect(await outbox.pending(tenantId)).toBe(4);
      expect(await outbox.pending(other)).toBe(1);
      expect((await outbox.read(tenantId, 'c'))?.payload).toEqual({ messages: ['c'] });
    });

    it('removes a row only while it is the version given; a row gone already is fine', async () => {
      const { outbox, tenants } = await setUp();
      const tenantId = await newTenant(tenants);
      const first = await outbox.put(tenantId, row('member.g.m', 60, { apply: 'first' }));
      await outbox.put(tenantId, { ...first, payload: { apply: 'newer' } });
      await outbox.remove(tenantId, first);
      expect((await outbox.read(tenantId, 'member.g.m'))?.payload).toEqual({ apply: 'newer' });

      // Committed in a transaction, a row comes without its ETag: it goes only while its content is the same.
      const committed = row('job.1', 60, { messages: ['one'] });
      await tenants.commitGroupLicensing(tenantId, { createOutbox: committed });
      await outbox.remove(tenantId, { ...committed, payload: { messages: ['other'] } });
      expect(await outbox.read(tenantId, 'job.1')).toBeDefined();
      await outbox.remove(tenantId, committed);
      expect(await outbox.read(tenantId, 'job.1')).toBeUndefined();
      await outbox.remove(tenantId, committed);
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('obx'));
  await tables.ensure();
  return { outbox: new Outbox(tables), tenants: new TableTenantStore(tables) };
});

contract('in-memory double', async () => {
  const tenants = new InMemoryTenantStore();
  return { outbox: new InMemoryOutbox(tenants), tenants };
});
