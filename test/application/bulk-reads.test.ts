// Reading a batch's principals (src/application/bulk-reads.ts): whatever mix of range reads and point reads it
// chooses, it returns exactly the wanted principals that exist; a table where the batch wants a good part of the
// rows is read with one range query, a sparse one with point reads, and a small batch with point reads only.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readPrincipalsInBulk } from '../../src/application/bulk-reads.js';
import { SHARDS_PER_TABLE, shardOf } from '../../src/storage/keys.js';
import { InMemoryDirectoryStore } from '../support/in-memory-stores.js';
import { principalRecord } from '../support/records.js';

/** The in-memory directory with its reads counted: point-read ids and range reads by first shard. */
class CountingDirectory extends InMemoryDirectoryStore {
  pointReads = 0;
  rangeReads: number[] = [];

  override principals(tenantId: string, ids: readonly string[]) {
    this.pointReads += ids.length;
    return super.principals(tenantId, ids);
  }

  override principalShards(tenantId: string, from: number, to: number, wanted?: ReadonlySet<string>) {
    this.rangeReads.push(from);
    return super.principalShards(tenantId, from, to, wanted);
  }
}

function tenantWith(users: number) {
  const tenantId = randomUUID();
  const directory = new CountingDirectory();
  const ids: string[] = [];
  for (let i = 0; i < users; i++) {
    const record = principalRecord(tenantId, { displayName: `User ${i}` });
    directory.putPrincipal(record);
    ids.push(record.id);
  }
  return { tenantId, directory, ids };
}

const tableOf = (id: string) => Math.floor(shardOf(id) / SHARDS_PER_TABLE);

describe('readPrincipalsInBulk', () => {
  it('point-reads a small batch', async () => {
    const { tenantId, directory, ids } = tenantWith(500);
    const wanted = ids.slice(0, 100);
    const found = await readPrincipalsInBulk({ directory }, tenantId, [...wanted, randomUUID()]);
    expect([...found.keys()].sort()).toEqual([...wanted].sort());
    expect(directory.rangeReads).toEqual([]);
  });

  it('range-reads the tables where it wants many rows and point-reads the others', async () => {
    const { tenantId, directory, ids } = tenantWith(12_000);
    // Half of table 0's principals, and one principal of every other table.
    const dense = ids.filter((id) => tableOf(id) === 0).filter((_, i) => i % 2 === 0);
    const sparse = [
      ...new Map(ids.filter((id) => tableOf(id) !== 0).map((id) => [tableOf(id), id])).values(),
    ];
    const missing = randomUUID();
    const wanted = [...dense, ...sparse, missing];
    expect(wanted.length).toBeGreaterThanOrEqual(256);

    const found = await readPrincipalsInBulk({ directory }, tenantId, wanted);

    expect([...found.keys()].sort()).toEqual([...dense, ...sparse].sort());
    for (const [id, record] of found) expect(record.id).toBe(id);
    // The estimate reads shard 0; the dense table is one range read; the sparse ones are point reads.
    expect(directory.rangeReads.sort((a, b) => a - b)).toEqual([0, 0]);
    expect(directory.pointReads).toBe(sparse.length + (tableOf(missing) === 0 ? 0 : 1));
  });
});
