// Group processing alerts on storage and queues: a group whose work was poisoned, and a group whose job does not move
// (its request died after the commit, before its job message) — each alerted once, delivered by the host's queue
// trigger; and a decided alert survives a crash between its commit and its message (the sweep sends it).
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlert, evaluateAlerts, resendOverdueDeliveries } from '../../src/application/alerts.js';
import { assignGroupLicenses } from '../../src/application/group-licensing.js';
import { recordPoisonedWork } from '../../src/application/poison.js';
import { alertTuning } from '../../src/config/tuning.js';
import { type AlertReceiver, startAlertReceiver } from '../../src/simulator/alert-receiver.js';
import { waitFor } from '../support/index.js';
import { buy, licensedGroup, newTenant, securityGroup, usePipeline } from './support.js';

const pipeline = usePipeline();
const tuning = { ...alertTuning({}), stuckAfterSeconds: 60 };

const receivers: AlertReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function subscribed(tenantId: string) {
  const receiver = await startAlertReceiver();
  receivers.push(receiver);
  const alert = await createAlert(
    pipeline.ctx,
    tenantId,
    { kinds: ['groupProcessing'], notificationUrl: receiver.url },
    tuning,
  );
  receiver.secret = alert.secret;
  return { receiver, alert };
}

describe('groupProcessing alerts', () => {
  it('announce a group whose job could not be planned, and then a poisoned page, each once', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5);
    const { group } = await licensedGroup(ctx, tenantId, 'Unplanned', e3, 2);
    const { receiver, alert } = await subscribed(tenantId);
    expect(await evaluateAlerts(ctx, tenantId, tuning)).toBe(0);

    const jobId = (await ctx.tenants.partition(tenantId))?.groupLicenses.get(group.id)?.jobId ?? '';
    const message = { kind: 'group-job', tenantId, groupId: group.id, jobId };
    await recordPoisonedWork(ctx, 'jobs-poison', JSON.stringify(message), randomUUID());
    expect(await evaluateAlerts(ctx, tenantId, tuning)).toBe(1);
    expect(await evaluateAlerts(ctx, tenantId, tuning)).toBe(0);

    // A page of the job poisoned as well: failedPages grows, and is announced.
    const page = {
      kind: 'group-page',
      tenantId,
      groupId: group.id,
      jobId,
      page: 0,
      pages: 1,
      listGroupId: group.id,
      fromShard: 0,
      toShard: 256,
      dense: true,
    };
    await recordPoisonedWork(ctx, 'pages-poison', JSON.stringify(page), randomUUID());
    expect(await evaluateAlerts(ctx, tenantId, tuning)).toBe(1);
    expect(await evaluateAlerts(ctx, tenantId, tuning)).toBe(0);

    await waitFor(() => receiver.deliveries.length === 2, { timeoutMs: 15_000 });
    expect(receiver.deliveries.every((d) => d.signatureValid)).toBe(true);
    expect(receiver.notifications()).toEqual([
      expect.objectContaining({
        subscriptionId: alert.id,
        resource: `groups/${group.id}`,
        resourceData: expect.objectContaining({
          kind: 'groupProcessing',
          condition: 'failed',
          groupId: group.id,
          jobId,
          lastFailure: { code: 'JobNotPlanned' },
        }),
      }),
      expect.objectContaining({
        resourceData: expect.objectContaining({
          condition: 'failed',
          failedPages: 1,
          value: 2,
          previousValue: 1,
        }),
      }),
    ]);
  }, 60_000);

  it('announce a job that made no progress for stuckAfterSeconds, once; the decision survives a lost message', async () => {
    const { ctx } = pipeline;
    const tenantId = await newTenant(ctx);
    const e3 = await buy(ctx, tenantId, 'ENTERPRISEPACK', 5);
    const group = await securityGroup(ctx, tenantId, 'Stalled');
    const { receiver } = await subscribed(tenantId);
    // The request dies after its commit: the group is queued for processing, its job message never sent.
    const dying = {
      ...ctx,
      faults: (point: string) => {
        if (point === 'outbox:committed') throw new Error('injected crash');
      },
    };
    await expect(
      assignGroupLicenses(dying, tenantId, group.id, {
        addLicenses: [{ skuId: e3, disabledPlans: [] }],
        removeLicenses: [],
      }),
    ).rejects.toThrow('injected crash');

    const at = (seconds: number) => ({ ...ctx, now: () => new Date(Date.now() + seconds * 1000) });
    // Observed a minute ago and half a minute ago without progress (the clock moved back, not the test's time).
    expect(await evaluateAlerts(at(-61), tenantId, tuning)).toBe(0);
    expect(await evaluateAlerts(at(-30), tenantId, tuning)).toBe(0);
    // Decided, but the process dies before its message: the delivery stays pending in the table.
    const lost = { ...at(0), alertQueue: { evaluate: async () => {}, deliver: async () => {} } };
    expect(await evaluateAlerts(lost, tenantId, tuning)).toBe(1);
    expect(await evaluateAlerts(at(1), tenantId, tuning)).toBe(0);
    expect(receiver.deliveries).toHaveLength(0);
    // The sweep's share: a pending delivery well past its time is sent again.
    expect(await resendOverdueDeliveries(ctx, tenantId)).toBe(0);
    expect(await resendOverdueDeliveries(at(180), tenantId)).toBe(1);

    await waitFor(() => receiver.deliveries.length === 1, { timeoutMs: 15_000 });
    expect(receiver.notifications()).toEqual([
      expect.objectContaining({
        resource: `groups/${group.id}`,
        resourceData: expect.objectContaining({
          kind: 'groupProcessing',
          condition: 'stuck',
          groupId: group.id,
        }),
      }),
    ]);
  }, 60_000);
});
