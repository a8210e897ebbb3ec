// Queue triggers through the embedded host, against the shared Azurite.
import { describe, expect, it } from 'vitest';
import {
  messageCount,
  queueClient,
  sendMessage,
  startTestHost,
  takeMessages,
  waitFor,
} from '../support/index.js';
import { fixtureDir, fixtureEnv } from './fixture.js';

interface WorkResult {
  id: string;
  messageType: string;
  message: unknown;
  triggerMetadata: Record<string, unknown>;
}

function isWorkResult(value: unknown): value is WorkResult {
  return typeof value === 'object' && value !== null && 'id' in value && 'triggerMetadata' in value;
}

/** Reads a number at `path` inside a decoded message, failing the test when it is not there. */
function numberAt(value: unknown, ...path: string[]): number {
  let current: unknown = value;
  for (const key of path) {
    current = typeof current === 'object' && current !== null ? Reflect.get(current, key) : undefined;
  }
  if (typeof current !== 'number')
    throw new Error(`no number at ${path.join('.')} in ${JSON.stringify(value)}`);
  return current;
}

const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/;

describe('queue trigger', () => {
  it('hands a JSON message to the handler as an object with triggerMetadata, then deletes it', async () => {
    const env = fixtureEnv();
    const work = queueClient(env.WORK_QUEUE);
    await sendMessage(work, { id: 'm1', action: 'ok' });
    const host = await startTestHost({ appDir: fixtureDir, env });

    const [result] = await takeMessages(queueClient(env.RESULTS_QUEUE), 1);
    if (!isWorkResult(result)) throw new Error(`unexpected result ${JSON.stringify(result)}`);
    expect(result.messageType).toBe('object');
    expect(result.message).toEqual({ id: 'm1', action: 'ok' });
    const meta = result.triggerMetadata;
    expect(meta.dequeueCount).toBe(1);
    expect(meta.queueTrigger).toEqual({ id: 'm1', action: 'ok' });
    expect(meta.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof meta.popReceipt).toBe('string');
    for (const key of ['insertionTime', 'expirationTime', 'nextVisibleTime'])
      expect(meta[key]).toMatch(isoTime);
    expect(meta.sys).toMatchObject({ methodName: 'work' });

    await waitFor(async () => (await messageCount(work)) === 0, { message: 'work queue empty' });
    expect(host.logText()).toMatch(
      new RegExp(
        `Executing 'Functions\\.work' \\(Reason='New queue message detected on '${env.WORK_QUEUE}'\\.', Id=`,
      ),
    );
    expect(host.logText()).toMatch(
      /Executed 'Functions\.work' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)/,
    );
  });

  it('passes a non-JSON message as a string', async () => {
    const env = fixtureEnv();
    await sendMessage(queueClient(env.WORK_QUEUE), 'just text');
    await startTestHost({ appDir: fixtureDir, env });
    const [result] = await takeMessages(queueClient(env.RESULTS_QUEUE), 1);
    expect(result).toMatchObject({ id: 'just text', messageType: 'string', message: 'just text' });
  });

  it('retries a failing message through its dequeue count, then moves the original body to <queue>-poison', async () => {
    const env = fixtureEnv();
    const work = queueClient(env.WORK_QUEUE);
    const body = { id: 'bad1', action: 'fail' };
    await sendMessage(work, body);
    const host = await startTestHost({ appDir: fixtureDir, env });

    const poison = queueClient(`${env.WORK_QUEUE}-poison`);
    const [moved] = await takeMessages(poison, 1, { timeoutMs: 20_000 });
    expect(moved).toEqual(body);
    const log = host.logText();
    for (let n = 1; n <= 5; n++) expect(log).toContain(`work got bad1 (dequeueCount ${n})`);
    expect(log).not.toContain('(dequeueCount 6)');
    expect(log.match(/Executed 'Functions\.work' \(Failed/g)).toHaveLength(5);
    expect(log).toContain(
      `Message has reached MaxDequeueCount of 5. Moving message to queue '${env.WORK_QUEUE}-poison'.`,
    );
    await waitFor(async () => (await messageCount(work)) === 0, { message: 'original deleted' });
  });

  it('sends a message whose dequeue count already exceeds the maximum straight to poison', async () => {
    const env = fixtureEnv();
    const work = queueClient(env.WORK_QUEUE);
    await sendMessage(work, { id: 'old', action: 'ok' });
    for (let i = 0; i < 5; i++) {
      const [m] = (await work.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
      if (!m) throw new Error('message not received');
      await work.updateMessage(m.messageId, m.popReceipt, undefined, 0);
    }
    const host = await startTestHost({ appDir: fixtureDir, env });
    const [moved] = await takeMessages(queueClient(`${env.WORK_QUEUE}-poison`), 1);
    expect(moved).toEqual({ id: 'old', action: 'ok' });
    expect(host.logText()).not.toContain("Executing 'Functions.work'");
  });

  it('moves a message that is not valid base64 to poison at once, without invoking', async () => {
    const env = fixtureEnv();
    const work = queueClient(env.WORK_QUEUE);
    await sendMessage(work, 'not base64 at all!', { encoding: 'none' });
    const host = await startTestHost({ appDir: fixtureDir, env });
    const [moved] = await takeMessages(queueClient(`${env.WORK_QUEUE}-poison`), 1, { encoding: 'none' });
    expect(moved).toBe('not base64 at all!');
    expect(host.logText()).not.toContain("Executing 'Functions.work'");
    expect(host.logText()).toContain('is not valid base64');
  });

  it('with messageEncoding "none", reads and writes plain text', async () => {
    const env = fixtureEnv();
    await sendMessage(queueClient(env.WORK_QUEUE), { id: 'plain' }, { encoding: 'none' });
    await startTestHost({
      appDir: fixtureDir,
      env,
      hostJson: { extensions: { queues: { messageEncoding: 'none' } } },
    });
    const [result] = await takeMessages(queueClient(env.RESULTS_QUEUE), 1, { encoding: 'none' });
    expect(result).toMatchObject({ id: 'plain', message: { id: 'plain' } });
  });

  it('never runs more than batchSize + newBatchThreshold invocations at once', async () => {
    const env = fixtureEnv();
    const slow = queueClient(env.SLOW_QUEUE);
    const count = 9;
    // Uneven durations, so invocations do not finish in lock-step and the bound can actually be reached.
    for (let i = 0; i < count; i++) await sendMessage(slow, { id: `s${i}`, ms: i % 2 === 0 ? 250 : 700 });
    await startTestHost({
      appDir: fixtureDir,
      env,
      hostJson: { extensions: { queues: { batchSize: 2, newBatchThreshold: 1 } } },
    });
    const results = await takeMessages(queueClient(env.RESULTS_QUEUE), count, { timeoutMs: 30_000 });
    const maxInFlight = Math.max(
      ...results.map((r) =>
        typeof r === 'object' && r !== null && 'maxInFlight' in r ? Number(r.maxInFlight) : 0,
      ),
    );
    // 2 + 1: the bound is reached (so it is measured) and never exceeded.
    expect(maxInFlight).toBe(3);
  });

  it('keeps a long invocation’s message invisible by renewing its lease', async () => {
    const env = fixtureEnv();
    const work = queueClient(env.WORK_QUEUE);
    await sendMessage(work, { id: 'long', action: 'slow', ms: 3500 });
    const host = await startTestHost({ appDir: fixtureDir, env, queueLeaseMs: 1000 });
    await waitFor(() => host.logText().includes('work got long'), { message: 'invocation started' });
    // Past two lease lengths, the message must still be hidden from other consumers.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await work.peekMessages()).peekedMessageItems).toHaveLength(0);
    const [result] = await takeMessages(queueClient(env.RESULTS_QUEUE), 1);
    expect(result).toMatchObject({ id: 'long', triggerMetadata: { dequeueCount: 1 } });
    expect(host.logText().match(/work got long/g)).toHaveLength(1);
    expect(host.logText()).not.toContain('could not renew');
  });
});

describe('queue output bindings', () => {
  it('writes the return value and an extraOutputs array (one message per element), base64-encoded', async () => {
    const env = fixtureEnv();
    await sendMessage(queueClient(env.WORK_QUEUE), { id: 'fan', action: 'fanout', n: 4 });
    await startTestHost({ appDir: fixtureDir, env });
    // 1 work result (return) + 4 fanout results (each from a fanout message written by extraOutputs).
    const results = await takeMessages(queueClient(env.RESULTS_QUEUE), 5);
    const fanned = results.filter((r) => typeof r === 'object' && r !== null && 'fanout' in r);
    expect(fanned.map((r) => numberAt(r, 'fanout', 'index')).sort()).toEqual([0, 1, 2, 3]);
    expect(results.filter(isWorkResult)).toHaveLength(1);
  });

  it('wakes the listener of a queue written by this host at once, even when it has backed off', async () => {
    const env = fixtureEnv();
    const host = await startTestHost({
      appDir: fixtureDir,
      env,
      createQueues: true,
      hostJson: { extensions: { queues: { maxPollingInterval: '00:01:00' } } },
    });
    // Let the fan-out listener back off (100, 200, 300, 500, 900, 1700, 3300 ms ... with a 60 s cap).
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const response = await fetch(`${host.url}/api/enqueue`, {
      method: 'POST',
      body: JSON.stringify(['a', 'b', 'c']),
    });
    expect(response.status).toBe(202);
    const at = numberAt(await response.json(), 'at');
    const results = await takeMessages(queueClient(env.RESULTS_QUEUE), 3);
    const latencies = results.map((r) => numberAt(r, 'receivedAt') - at);
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });
});

describe('binding expressions', () => {
  it('resolves %SETTING% queue names at startup and lists them', async () => {
    const env = fixtureEnv();
    const host = await startTestHost({ appDir: fixtureDir, env });
    expect(host.functions.find((f) => f.name === 'work')).toMatchObject({
      trigger: 'queue',
      queueName: env.WORK_QUEUE,
    });
    expect(host.functions.find((f) => f.name === 'tick')).toMatchObject({
      trigger: 'timer',
      schedule: env.TICK_SCHEDULE,
    });
  });

  it('fails startup when a %SETTING% is missing', async () => {
    const { WORK_QUEUE: _omitted, ...env } = fixtureEnv();
    expect(process.env.WORK_QUEUE).toBeUndefined();
    await expect(startTestHost({ appDir: fixtureDir, env })).rejects.toThrow(
      "Function 'work': '%WORK_QUEUE%' does not resolve to a value",
    );
  });
});

describe('timer trigger', () => {
  it('fires on its NCRONTAB schedule with the library’s Timer object', async () => {
    const env = fixtureEnv({ TICK_SCHEDULE: '*/1 * * * * *' });
    const host = await startTestHost({ appDir: fixtureDir, env });
    const ticks = await takeMessages(queueClient(env.TIMER_RESULTS_QUEUE), 2, { timeoutMs: 10_000 });
    for (const tick of ticks) {
      expect(tick).toMatchObject({
        isPastDue: false,
        scheduleStatus: {
          last: expect.any(String),
          next: expect.any(String),
          lastUpdated: expect.any(String),
        },
      });
    }
    expect(host.logText()).toMatch(/Executing 'Functions\.tick' \(Reason='Timer fired at /);
  });
});
