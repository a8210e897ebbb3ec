// The name registry port (src/application/ports.ts): one suite against the Table adapter on a real Azurite and
// against the in-memory double. A name is unique per tenant, case-insensitively, and a take-over is conditional
// on the holding that was read.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { NameRegistry } from '../../src/application/ports.js';
import { TableNameRegistry } from '../../src/storage/names.js';
import { StorageTables } from '../../src/storage/tables.js';
import { InMemoryNameRegistry } from '../support/in-memory-stores.js';
import { uniqueName } from '../support/index.js';

function contract(name: string, setUp: () => Promise<NameRegistry>) {
  describe(`NameRegistry: ${name}`, () => {
    it('reserves a name once per tenant, whatever its case, and frees it', async () => {
      const names = await setUp();
      const tenantId = randomUUID();
      const adele = randomUUID();
      expect(await names.reserve(tenantId, 'Adele@contoso.test', adele)).toBe(true);
      expect(await names.reserve(tenantId, 'ADELE@CONTOSO.TEST', randomUUID())).toBe(false);
      expect(await names.reserve(tenantId, 'adele@contoso.test', adele)).toBe(false); // held, even by itself
      expect(await names.reserve(randomUUID(), 'adele@contoso.test', randomUUID())).toBe(true);
      const holding = await names.read(tenantId, 'adele@CONTOSO.test');
      expect(holding?.id).toBe(adele);
      expect(Number.isFinite(Date.parse(holding?.writtenAt ?? ''))).toBe(true);
      await names.release(tenantId, 'Adele@contoso.test');
      await names.release(tenantId, 'Adele@contoso.test'); // free already: fine
      expect(await names.read(tenantId, 'adele@contoso.test')).toBeUndefined();
      expect(await names.reserve(tenantId, 'adele@contoso.test', randomUUID())).toBe(true);
    });

    it('reserves names of one batch together, reporting only those held already', async () => {
      const names = await setUp();
      const tenantId = randomUUID();
      const batch: string[] = [];
      for (let i = 0; batch.length < 3; i++) {
        const name = `user${i}@contoso.test`;
        if (batch.length === 0 || names.batchOf(tenantId, name) === names.batchOf(tenantId, batch[0] ?? ''))
          batch.push(name);
      }
      const [held = '', ...free] = batch;
      await names.reserve(tenantId, held.toUpperCase(), randomUUID());
      const ids = batch.map(() => randomUUID());
      const taken = await names.reserveMany(
        tenantId,
        batch.map((userPrincipalName, i) => ({ userPrincipalName, id: ids[i] ?? '' })),
      );
      expect(taken).toEqual([held]);
      for (const name of free) expect((await names.read(tenantId, name))?.id).toBe(ids[batch.indexOf(name)]);
    });

    it('hands a name over only while it is as read: of two takers, one wins', async () => {
      const names = await setUp();
      const tenantId = randomUUID();
      await names.reserve(tenantId, 'megan@contoso.test', randomUUID());
      const holding = await names.read(tenantId, 'megan@contoso.test');
      if (!holding) throw new Error('not reserved');
      const [one, two] = [randomUUID(), randomUUID()];
      const won = await Promise.all([
        names.takeOver(tenantId, 'megan@contoso.test', holding, one),
        names.takeOver(tenantId, 'megan@contoso.test', holding, two),
      ]);
      expect(won.filter(Boolean)).toHaveLength(1);
      expect((await names.read(tenantId, 'megan@contoso.test'))?.id).toBe(won[0] ? one : two);
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('nm'));
  await tables.ensure();
  return new TableNameRegistry(tables);
});

contract('in-memory double', async () => new InMemoryNameRegistry());
