// The alert pass on the in-memory ports: a job's errors are held back until it completes, a condition alerts when
// it appears or grows (not when it stays or shrinks, and again when it grows back), seat usage when it crosses the
// threshold, and a delivery retried with back-off is parked after its last attempt.
import { describe, expect, it } from 'vitest';
import {
  createAlert,
  deliverAlert,
  evaluateAlerts,
  parkDelivery,
  retryDelaySeconds,
} from '../../src/application/alerts.js';
import { applyChanges } from '../../src/application/changes.js';
import { assignGroupLicenses } from '../../src/application/group-licensing.js';
import { alertTuning } from '../../src/config/tuning.js';
import { inMemoryContext, licensingTenant } from '../support/in-memory-context.js';

const tuning = { ...alertTuning({}), maxAttempts: 3, retryBaseSeconds: 2, retryMaxSeconds: 5 };

async function setUp(seats: number) {
  const ctx = inMemoryContext();
  const tenant = await licensingTenant(ctx, { seats });
  const alert = await createAlert(
    ctx,
    tenant.tenantId,
    { kinds: ['licenseErrors', 'seatUsage', 'waitingPrincipals'], notificationUrl: 'https://r.example/a' },
    tuning,
  );
  const fired = () =>
    [...ctx.alerts.rows.values()].flatMap((d) =>
      d.notifications.map((n) => `${String(n.resourceData.kind)}:${String(n.resourceData.value)}`),
    );
  return { ctx, tenant, alert, fired };
}

describe('the alert pass', () => {
  it('holds a running job back, then alerts what appeared once, and only growth after', async () => {
    const { ctx, tenant, fired } = await setUp(2);
    for (let i = 0; i < 5; i++) await tenant.user(`User ${i}`);
    await assignGroupLicenses(ctx, tenant.tenantId, tenant.group.id, {
      addLicenses: [{ skuId: tenant.skuId, disabledPlans: [] }],
      removeLicenses: [],
    });
    // Queued for processing: the group's errors and the SKU's waiters are not judged yet; seats are.
    expect(await evaluateAlerts(ctx, tenant.tenantId, tuning)).toBe(0);
    await ctx.work();
    expect(await evaluateAlerts(ctx, tenant.tenantId, tuning)).toBe(1);
    expect(fired().sort()).toEqual(['licenseErrors:3', 'seatUsage:1', 'waitingPrincipals:3']);
    expect(await evaluateAlerts(ctx, tenant.tenantId, tuning)).toBe(0);

    // One more member in error: the count grew.
    await tenant.user('User 5');
    await ctx.work();
    const ids = [...(await ctx.members.listRange(tenant.tenantId, tenant.group.id))].map((m) => m.id);
    await applyChanges(
      ctx,
      {
        kind: 'changes',
        tenantId: tenant.tenantId,
        changes: [{ type: 'evaluate', principalIds: ids }],
        origin: 'system',
      },
      'evaluate-all',
    );
    expect(await evaluateAlerts(ctx, tenant.tenantId, tuning)).toBe(1);
    expect(fired().filter((f) => f.startsWith('licenseErrors'))).toEqual([
      'licenseErrors:3',
      'licenseErrors:4',
    ]);
    // Enough seats for everyone: errors and waiters go, usage stays over the threshold (6 of 6): nothing new.
    await tenant.buy(6);
    await ctx.work();
    await applyChanges(
      ctx,
      {
        kind: 'changes',
        tenantId: tenant.tenantId,
        changes: [{ type: 'evaluate', principalIds: ids }],
        origin: 'system',
      },
      'evaluate-again',
    );
    await ctx.work();
    expect(await evaluateAlerts(ctx, tenant.tenantId, tuning)).toBe(0);
    expect(await tenant.consumed()).toBe(6);
  });

  it('retries a delivery with back-off and parks it after its last attempt', async () => {
    const { ctx, tenant, alert } = await setUp(1);
    await tenant.user('A');
    await tenant.user('B');
    await tenant.license();
    expect(await evaluateAlerts(ctx, tenant.tenantId, tuning)).toBe(1);
    ctx.receivers.answer = () => ({ status: 500, contentType: '', text: '' });
    const sent = ctx.alertQueue.deliveries[0];
    if (!sent) throw new Error('no delivery message');
    let clock = Date.now();
    const later = { ...ctx, now: () => new Date(clock) };
    expect(await deliverAlert(later, sent, tuning)).toBe('pending');
    // A duplicate message before the back-off has run out does nothing.
    expect(await deliverAlert(later, sent, tuning)).toBe('skipped');
    clock += retryDelaySeconds(1, tuning) * 1000;
    expect(await deliverAlert(later, sent, tuning)).toBe('pending');
    clock += retryDelaySeconds(2, tuning) * 1000;
    expect(await deliverAlert(later, sent, tuning)).toBe('parked');
    expect(ctx.alertQueue.deliveries.map((d) => d.delaySeconds)).toEqual([0, 2, 4]);
    const [parked] = await ctx.alerts.deliveries(tenant.tenantId, alert.id, { status: 'parked' });
    expect(parked).toMatchObject({ attempts: 3, lastStatus: 500 });
    const posts = ctx.receivers.requests.filter((r) => !r.url.includes('validationToken'));
    expect(new Set(posts.map((p) => p.headers['x-alert-signature'])).size).toBe(1);
  });

  it('parks a delivery whose message was poisoned by the service, and cancels one whose subscription went', async () => {
    const { ctx, tenant, alert } = await setUp(1);
    await tenant.user('A');
    await tenant.user('B');
    await tenant.license();
    expect(await evaluateAlerts(ctx, tenant.tenantId, tuning)).toBe(1);
    const [sent] = ctx.alertQueue.deliveries;
    if (!sent) throw new Error('no delivery message');
    await parkDelivery(ctx, sent);
    expect(await ctx.alerts.deliveries(tenant.tenantId, alert.id, { status: 'parked' })).toHaveLength(1);
    expect(await deliverAlert(ctx, sent, tuning)).toBe('skipped');

    await tenant.buy(1);
    await tenant.user('C');
    await ctx.work();
    await tenant.license();
    expect(await evaluateAlerts(ctx, tenant.tenantId, tuning)).toBe(1);
    const next = ctx.alertQueue.deliveries.at(-1);
    if (!next) throw new Error('no delivery message');
    await ctx.alerts.deleteSubscription(tenant.tenantId, alert.id);
    expect(await deliverAlert(ctx, next, tuning)).toBe('cancelled');
  });
});
