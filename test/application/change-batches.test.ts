// Group commit of `changes` messages (src/application/change-batches.ts): a message alone runs at once; the messages
// of a tenant that arrive while its batch runs are applied together, in arrival order, under the first one's id;
// a failed batch is retried message by message so only the bad one fails; tenants and origins never mix. The seat
// safety of two runs of one reservation is the ledger's (test/storage/seat-ledger.test.ts, test/pipeline).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChangeBatches, isBatchable } from '../../src/application/change-batches.js';
import type { ChangesMessage } from '../../src/application/messages.js';

const group = randomUUID();

/** A webhook message joining the given members to one group. */
function message(tenantId: string, ids: readonly string[], origin: ChangesMessage['origin'] = 'webhook') {
  const changes: ChangesMessage['changes'] = ids.map((memberId) => ({
    type: 'member',
    op: 'add',
    groupId: group,
    memberId,
  }));
  return { kind: 'changes', tenantId, origin, changes } satisfies ChangesMessage;
}

const membersOf = (batch: ChangesMessage) =>
  batch.changes.flatMap((c) => (c.type === 'member' ? [c.memberId] : []));

/** An apply that records its calls and finishes only when the test releases it. */
function gatedApply() {
  const calls: { id: string; principals: string[]; release: (error?: Error) => void }[] = [];
  const apply = (batch: ChangesMessage, id: string) =>
    new Promise<void>((resolve, reject) => {
      const principals = membersOf(batch);
      calls.push({ id, principals, release: (error) => (error ? reject(error) : resolve()) });
    });
  return { calls, apply };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ChangeBatches', () => {
  it('runs a lone message at once, and combines the messages that arrive while it runs', async () => {
    const { calls, apply } = gatedApply();
    const batches = new ChangeBatches(apply);
    const tenant = randomUUID();
    const first = batches.submit(message(tenant, ['a']), 'm1');
    await settle();
    expect(calls.map((c) => c.id)).toEqual(['m1']);

    const second = batches.submit(message(tenant, ['b']), 'm2');
    const third = batches.submit(message(tenant, ['c', 'd']), 'm3');
    await settle();
    expect(calls).toHaveLength(1); // they wait for the running batch

    calls[0]?.release();
    await first;
    await settle();
    // A lone message runs under its own id, a batch under its first message's: that message's next delivery
    // resumes the batch's reservation should the batch die.
    expect(calls.map((c) => [c.id, c.principals])).toEqual([
      ['m1', ['a']],
      ['m2', ['b', 'c', 'd']],
    ]);
    let settled = false;
    void Promise.all([second, third]).then(() => {
      settled = true;
    });
    await settle();
    expect(settled).toBe(false); // not before their batch is written
    calls[1]?.release();
    await Promise.all([second, third]);
  });

  it('keeps tenants and origins apart', async () => {
    const { calls, apply } = gatedApply();
    const batches = new ChangeBatches(apply);
    const [one, two] = [randomUUID(), randomUUID()];
    const runs = [
      batches.submit(message(one, ['a']), 'm1'),
      batches.submit(message(two, ['b']), 'm2'),
      batches.submit(message(one, ['c'], 'system'), 'm3'),
    ];
    await settle();
    expect(calls.map((c) => c.id).sort()).toEqual(['m1', 'm2', 'm3']);
    for (const call of calls) call.release();
    await Promise.all(runs);
  });

  it('stops a batch at the size limit (a larger message still runs, alone)', async () => {
    const { calls, apply } = gatedApply();
    const batches = new ChangeBatches(apply, 3);
    const tenant = randomUUID();
    const runs = [batches.submit(message(tenant, ['a']), 'm1')];
    await settle();
    runs.push(
      batches.submit(message(tenant, ['b', 'c']), 'm2'),
      batches.submit(message(tenant, ['d']), 'm3'),
      batches.submit(message(tenant, ['e', 'f', 'g', 'h']), 'm4'),
    );
    await settle();
    for (let i = 0; i < 3; i++) {
      calls[i]?.release();
      await settle();
    }
    expect(calls.map((c) => c.principals)).toEqual([['a'], ['b', 'c', 'd'], ['e', 'f', 'g', 'h']]);
    calls[3]?.release();
    await Promise.all(runs);
  });

  it('retries a failed batch message by message, so only the bad message fails', async () => {
    const applied: string[][] = [];
    let block: (() => void) | undefined;
    const blocked = new Promise<void>((resolve) => {
      block = resolve;
    });
    const batches = new ChangeBatches(async (batch, id) => {
      const principals = membersOf(batch);
      applied.push(principals);
      if (id === 'm1') await blocked;
      if (principals.includes('bad')) throw new Error('bad principal');
    });
    const tenant = randomUUID();
    const first = batches.submit(message(tenant, ['a']), 'm1');
    await settle();
    const good = batches.submit(message(tenant, ['b']), 'm2');
    const bad = batches.submit(message(tenant, ['bad']), 'm3');
    const after = batches.submit(message(tenant, ['c']), 'm4');
    block?.();
    await first;
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('bad principal');
    await expect(after).resolves.toBeUndefined();
    expect(applied).toEqual([['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  });

  it('batches membership changes only: lifecycle changes and evaluations run alone', () => {
    const tenant = randomUUID();
    expect(isBatchable(message(tenant, ['a', 'b']))).toBe(true);
    const lifecycle: ChangesMessage = {
      ...message(tenant, ['a']),
      changes: [...message(tenant, ['a']).changes, { type: 'user', op: 'softDelete', userId: 'b' }],
    };
    expect(isBatchable(lifecycle)).toBe(false);
    expect(
      isBatchable({ ...message(tenant, []), changes: [{ type: 'evaluate', principalIds: ['a'] }] }),
    ).toBe(false);
  });
});
