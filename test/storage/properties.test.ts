// Row encoding helpers on a real Azurite: JSON longer than a table property holds spills into siblings and comes
// back whole; a row read back is re-validated and a corrupt one fails loudly with its keys; deleting a row already
// gone is fine but other failures are not hidden.
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CorruptEntityError,
  deleteIfExists,
  getJson,
  getNumber,
  getRow,
  putJson,
  putLongString,
  queryRows,
  requireJson,
  requireString,
} from '../../src/storage/properties.js';
import { type ScratchTables, scratchTables } from '../support/tables.js';

let scratch: ScratchTables;

beforeAll(async () => {
  scratch = await scratchTables('props', (t) => [t.audit]);
});
afterAll(async () => {
  await scratch?.drop();
});

describe('properties (real Azurite)', () => {
  it('stores JSON longer than one property across siblings and reads it back whole', async () => {
    const table = scratch.tables.audit;
    // ASCII: Azurite 3.35 garbles a multi-byte character that straddles 64 KiB of a single-entity write's body.
    const value = { ids: Array.from({ length: 3000 }, (_, i) => `id-${i}-${'x'.repeat(10)}`) };
    const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: 'p',
      rowKey: 'long',
    };
    putJson(entity, 'j', value);
    // About 60,000 characters in 30,000-character slices: the service would refuse one property this long.
    expect(Object.keys(entity).filter((k) => k.startsWith('j'))).toEqual(['j', 'j1', 'j2']);
    await table.createEntity(entity);
    const row = await getRow(table, 'p', 'long');
    if (!row) throw new Error('not stored');
    expect(getJson(row, 'j', z.object({ ids: z.array(z.string()) }), { ids: [] })).toEqual(value);
    expect(() => putLongString({}, 'x', 'y'.repeat(30_000 * 30 + 1))).toThrow(/too large/);
  });

  it('fails loudly, with the keys, on a row that does not match its schema', async () => {
    const table = scratch.tables.audit;
    await table.createEntity({ partitionKey: 'p', rowKey: 'bad', j: '{not json', k: '[1,2]', n: '42' });
    const row = await getRow(table, 'p', 'bad');
    if (!row) throw new Error('not stored');
    expect(() => getJson(row, 'j', z.unknown(), null)).toThrow(CorruptEntityError);
    expect(() => getJson(row, 'j', z.unknown(), null)).toThrow(
      'Stored entity p/bad is not valid: j is not JSON',
    );
    expect(() => getJson(row, 'k', z.array(z.string()), [])).toThrow(/p\/bad .*k:/);
    expect(() => requireJson(row, 'missing', z.array(z.number()))).toThrow(/missing is missing/);
    expect(() => requireString(row, 'missing')).toThrow(CorruptEntityError);
    expect(getJson(row, 'absent', z.array(z.number()), [7])).toEqual([7]);
    expect(getNumber(row, 'n')).toBe(42);
    expect(getNumber(row, 'j', -1)).toBe(-1);
  });

  it('reads a missing row as undefined and always returns keys with a selection', async () => {
    const table = scratch.tables.audit;
    expect(await getRow(table, 'p', 'nothing-here')).toBeUndefined();
    await table.createEntity({ partitionKey: 'q', rowKey: 'r1', a: 1, b: 2 });
    const rows = [];
    for await (const row of queryRows(table, "PartitionKey eq 'q'", ['a'])) rows.push(row);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ partitionKey: 'q', rowKey: 'r1', a: 1 });
    expect(rows[0]?.b).toBeUndefined();
  });

  it('ignores deleting a row already gone, but not other failures', async () => {
    const table = scratch.tables.audit;
    await table.createEntity({ partitionKey: 'd', rowKey: 'once' });
    await deleteIfExists(table, 'd', 'once');
    await deleteIfExists(table, 'd', 'once');
    expect(await getRow(table, 'd', 'once')).toBeUndefined();
    // A refusal that is not "gone" must surface: here the service refuses the caller's credentials (403).
    const refused = new TableClient(
      table.url,
      table.tableName,
      new AzureNamedKeyCredential('devstoreaccount1', Buffer.from('not the key').toString('base64')),
      { allowInsecureConnection: true },
    );
    await expect(deleteIfExists(refused, 'd', 'any')).rejects.toMatchObject({ statusCode: 403 });
  });
});
