// The work queues on a real Azurite: names carry the prefix, ensure creates each queue and its poison queue, and a
// message is JSON in base64 (what the Functions queue trigger decodes by default); a message too large for the
// service is refused before anything is sent.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAX_MESSAGE_BYTES, WorkQueues } from '../../src/storage/queues.js';
import { messageCount, queueClient, takeMessages, uniqueName } from '../support/index.js';

let queues: WorkQueues;
let prefix: string;

const allQueues = () => Object.values(queues.names).flatMap((name) => [name, `${name}-poison`]);

beforeAll(async () => {
  prefix = uniqueName('wq');
  queues = new WorkQueues(inject('storageConnectionString'), prefix);
  await queues.ensure();
});
afterAll(async () => {
  if (queues) await Promise.all(allQueues().map((name) => queueClient(name).deleteIfExists()));
});

describe('WorkQueues (real Azurite)', () => {
  it('creates every work queue and its poison queue under the prefix, idempotently', async () => {
    expect(queues.names).toEqual({
      jobs: `${prefix}-jobs`,
      pages: `${prefix}-pages`,
      changes: `${prefix}-changes`,
      heal: `${prefix}-heal`,
    });
    await queues.ensure();
    for (const name of allQueues()) expect(await queueClient(name).exists()).toBe(true);
  });

  it('sends JSON in base64, as the queue trigger decodes it', async () => {
    const body = { tenantId: 't1', jobId: 'j1', note: 'é ✓' };
    await queues.send('jobs', body);
    const [raw] = (await queueClient(queues.names.jobs).peekMessages()).peekedMessageItems;
    expect(Buffer.from(raw?.messageText ?? '', 'base64').toString('utf8')).toBe(JSON.stringify(body));
    expect(await takeMessages(queueClient(queues.names.jobs), 1, { timeoutMs: 10_000 })).toEqual([body]);
  });

  it('sends every message of a batch, and reports the depth of each queue', async () => {
    const messages = Array.from({ length: 20 }, (_, i) => ({ page: i }));
    await queues.sendAll('pages', messages);
    expect((await queues.depth())[queues.names.pages]).toBe(20);
    const received = await takeMessages(queueClient(queues.names.pages), 20, { timeoutMs: 10_000 });
    expect(received).toEqual(expect.arrayContaining(messages));
  });

  it('refuses a message larger than the service takes, sending nothing', async () => {
    const big = { ids: 'x'.repeat(MAX_MESSAGE_BYTES) };
    await expect(queues.send('changes', big)).rejects.toThrow(/exceeds/);
    expect(await messageCount(queueClient(queues.names.changes))).toBe(0);
    // Just under the limit goes through (base64 of it still fits the service's 64 KiB).
    await queues.send('changes', { ids: 'x'.repeat(MAX_MESSAGE_BYTES - 20) });
    expect(await messageCount(queueClient(queues.names.changes))).toBe(1);
  });
});
