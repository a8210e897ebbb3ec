// The storage floors beside F1 (docs/performance.md, issue 21): what plain @azure/data-tables calls against the same
// Azurite do for the work B2 and B3 need, so those workloads are read as ratios to storage, not as absolutes.
//  F2 — the writes B2's changes need at minimum: per change, its principal row and its member-list row, in
//       100-operation transactions grouped by partition, 4 in flight.
//  F3 — point reads of principal-shaped rows by 32 concurrent clients, as B3's readers do through the API.
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { inParallel } from '../storage/in-flight.js';
import { SHARD_COUNT, shardKey } from '../storage/keys.js';
import { percentile } from './workloads.js';

/** A row about the size and shape of a stored user with one license (names, upn, license entries as JSON). */
function principalRow(partitionKey: string, i: number) {
  return {
    partitionKey,
    rowKey: `u${String(i).padStart(8, '0')}`,
    displayName: `User ${i}`,
    userPrincipalName: `user${i}@floor.bench.test`,
    mailNickname: `user${i}`,
    usageLocation: 'US',
    accountEnabled: true,
    createdDateTime: new Date(0).toISOString(),
    entries: JSON.stringify([
      {
        skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900',
        assignedByGroup: '00000000-0000-4000-8000-000000000001',
        disabledPlans: [],
        state: 'Active',
        error: 'None',
        lastUpdatedDateTime: new Date(0).toISOString(),
      },
    ]),
    dd: false,
  };
}

function transactions<T extends { partitionKey: string }>(
  entities: Iterable<T>,
  kind: 'create' | 'upsert',
): TransactionAction[][] {
  const byPartition = new Map<string, T[]>();
  for (const e of entities) {
    const list = byPartition.get(e.partitionKey) ?? [];
    list.push(e);
    byPartition.set(e.partitionKey, list);
  }
  const batches: TransactionAction[][] = [];
  for (const list of byPartition.values())
    for (let i = 0; i < list.length; i += 100)
      batches.push(list.slice(i, i + 100).map((e) => [kind, e] as TransactionAction));
  return batches;
}

/** F2: `changes` changes' principal and member-list rows written in full transactions, 4 in flight. */
export async function floorF2(
  table: TableClient,
  changes: number,
): Promise<{ seconds: number; perSecond: number }> {
  await table.createTable();
  const rows: { partitionKey: string; rowKey: string }[] = [];
  for (let i = 0; i < changes; i++) {
    rows.push(principalRow(`t|${shardKey(i % SHARD_COUNT)}`, i));
    // The member-list row: a reference in the group's bucket, as the member lists keep them.
    rows.push({ partitionKey: `m|${shardKey(i % SHARD_COUNT)}`, rowKey: `g|u${String(i).padStart(8, '0')}` });
  }
  const batches = transactions(rows, 'upsert');
  const started = performance.now();
  await inParallel(batches, 4, (batch) => table.submitTransaction(batch).then(() => undefined));
  const seconds = (performance.now() - started) / 1000;
  return { seconds, perSecond: changes / seconds };
}

/** F3: 32 clients point-reading random principal-shaped rows of `rows` for `seconds`. */
export async function floorF3(
  table: TableClient,
  options: { rows: number; seconds: number; clients: number },
): Promise<{ readsPerSecond: number; p50: number; p99: number }> {
  await table.createTable();
  const entities = Array.from({ length: options.rows }, (_, i) =>
    principalRow(`t|${shardKey(i % SHARD_COUNT)}`, i),
  );
  await inParallel(transactions(entities, 'create'), 4, (batch) =>
    table.submitTransaction(batch).then(() => undefined),
  );
  const latencies: number[] = [];
  const until = performance.now() + options.seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (performance.now() < until) {
        // A fixed stride instead of randomness: every client reads rows spread over every partition.
        const entity = entities[(next++ * 7919) % entities.length];
        if (!entity) continue;
        const started = performance.now();
        await table.getEntity(entity.partitionKey, entity.rowKey);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return {
    readsPerSecond: latencies.length / options.seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
