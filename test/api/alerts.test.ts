// Alerts through the operator API against the real host and Azurite: the handshake, one alert per burst for each
// kind a job or an operator causes, signatures checked here with the secret shown at creation, retries with
// back-off, parking, and the delivery log. (Poisoned and stuck group processing: test/pipeline/alerts.test.ts.)
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AlertReceiver, startAlertReceiver } from '../../src/simulator/alert-receiver.js';
import { waitFor } from '../support/index.js';
import { type Service, startService, type Tenant } from './support.js';

let service: Service;
beforeAll(async () => {
  service = await startService({
    ALERT_DEBOUNCE_SECONDS: '1',
    ALERT_RETRY_BASE_SECONDS: '1',
    ALERT_MAX_ATTEMPTS: '3',
    ALERT_TIMEOUT_SECONDS: '5',
    // Several pages per job, so a burst really is many pieces of work.
    LICENSE_PAGE_MEMBERS: '50',
  });
});
afterAll(async () => {
  await service?.stop();
});

const receivers: AlertReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const created = z.object({
  id: z.string(),
  kinds: z.array(z.string()),
  notificationUrl: z.string(),
  clientState: z.string().nullable(),
  seatUsagePercent: z.number(),
  secret: z.string().min(32),
  deliveries: z.string(),
});
const deliveryList = z.object({
  value: z.array(
    z.object({
      id: z.string(),
      status: z.enum(['pending', 'delivered', 'parked', 'cancelled']),
      attempts: z.number(),
      lastStatus: z.number().nullable(),
      lastError: z.string().nullable(),
      nextAttemptDateTime: z.string().nullable(),
      value: z.array(
        z.object({ subscriptionId: z.string(), resourceData: z.record(z.string(), z.unknown()) }),
      ),
    }),
  ),
});

async function receiver(): Promise<AlertReceiver> {
  const r = await startAlertReceiver();
  receivers.push(r);
  return r;
}

async function subscribe(
  tenant: Tenant,
  r: AlertReceiver,
  kinds: string[],
  extra: Record<string, unknown> = {},
) {
  const answer = await service.manage('POST', `/tenants/${tenant.id}/alerts`, {
    kinds,
    notificationUrl: r.url,
    clientState: 'secret-state',
    ...extra,
  });
  expect(answer.status, answer.text).toBe(201);
  const alert = created.parse(answer.json);
  r.secret = alert.secret;
  return alert;
}

const ofKind = (r: AlertReceiver, kind: string) =>
  r.notifications().filter((n) => n.resourceData.kind === kind);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A group of `members` users assigned E3 with only `seats` seats: the rest fail with CountViolation and wait. */
async function burst(tenant: Tenant, members: number) {
  const e3 = service.catalog.skuId('ENTERPRISEPACK');
  const group = await tenant.createGroup('Everyone');
  await tenant.importUsers(members, { memberOf: [group] });
  await tenant.graph
    .api(`/groups/${group}/assignLicense`)
    .post({ addLicenses: [{ skuId: e3 }], removeLicenses: [] });
  await tenant.waitIdle(60_000);
  return { e3, group };
}

describe('alert subscriptions', () => {
  it('are created only after the receiver echoes the validation token, and managed like other resources', async () => {
    const tenant = await service.newTenant();
    const r = await receiver();
    r.refuseHandshake = true;
    const refused = await service.manage('POST', `/tenants/${tenant.id}/alerts`, {
      kinds: ['licenseErrors'],
      notificationUrl: r.url,
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('validation');
    expect(r.handshakes).toHaveLength(1);
    const plainHttp = await service.manage('POST', `/tenants/${tenant.id}/alerts`, {
      kinds: ['licenseErrors'],
      notificationUrl: 'http://example.com/alerts',
    });
    expect(plainHttp.status).toBe(400);
    const nobody = await service.manage('POST', `/tenants/${tenant.id}/alerts`, {
      kinds: ['licenseErrors'],
      notificationUrl: 'http://127.0.0.1:1/alerts',
    });
    expect(nobody.status).toBe(400);
    expect((await service.manage('GET', `/tenants/${tenant.id}/alerts`)).json).toEqual({ value: [] });

    r.refuseHandshake = false;
    const alert = await subscribe(tenant, r, ['licenseErrors', 'seatUsage'], { seatUsagePercent: 80 });
    expect(alert).toMatchObject({ kinds: ['licenseErrors', 'seatUsage'], seatUsagePercent: 80 });
    const one = await service.manage('GET', `/tenants/${tenant.id}/alerts/${alert.id}`);
    expect(one.status).toBe(200);
    expect(one.json).not.toHaveProperty('secret');
    const list = z
      .object({ value: z.array(z.object({ id: z.string() })) })
      .parse((await service.manage('GET', `/tenants/${tenant.id}/alerts`)).json);
    expect(list.value.map((a) => a.id)).toEqual([alert.id]);
    const patched = await service.manage('PATCH', `/tenants/${tenant.id}/alerts/${alert.id}`, {
      kinds: ['waitingPrincipals'],
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json).toMatchObject({ kinds: ['waitingPrincipals'], seatUsagePercent: 80 });
    expect(
      (await service.manage('PATCH', `/tenants/${tenant.id}/alerts/${alert.id}`, { bogus: 1 })).status,
    ).toBe(400);
    expect((await service.manage('DELETE', `/tenants/${tenant.id}/alerts/${alert.id}`)).status).toBe(204);
    expect((await service.manage('GET', `/tenants/${tenant.id}/alerts/${alert.id}`)).status).toBe(404);
  });

  it('sends ONE alert per condition for a 300-member job: errors by type, seats over the threshold, waiters', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 10 } });
    const r = await receiver();
    const alert = await subscribe(tenant, r, ['licenseErrors', 'seatUsage', 'waitingPrincipals']);
    const { e3, group } = await burst(tenant, 300);

    await waitFor(() => r.notifications().length >= 3, { timeoutMs: 20_000 });
    // Later passes (heals, the sweep) find nothing new: wait beyond several debounces and look again.
    await sleep(4000);
    const errors = ofKind(r, 'licenseErrors');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      subscriptionId: alert.id,
      clientState: 'secret-state',
      changeType: 'created',
      resource: `groups/${group}`,
      tenantId: tenant.id,
      resourceData: { groupId: group, errorType: 'CountViolation', membersInError: 290, previousValue: 0 },
    });
    expect(ofKind(r, 'seatUsage')).toHaveLength(1);
    expect(ofKind(r, 'seatUsage')[0]?.resourceData).toMatchObject({
      skuId: e3,
      consumedUnits: 10,
      usableUnits: 10,
      percent: 100,
      thresholdPercent: 90,
    });
    expect(ofKind(r, 'waitingPrincipals')).toHaveLength(1);
    expect(ofKind(r, 'waitingPrincipals')[0]).toMatchObject({
      resource: `subscribedSkus/${tenant.id}_${e3}`,
      resourceData: { skuId: e3, waitingPrincipals: 290 },
    });
    // The whole job was one pass: one POST.
    expect(r.attempts).toHaveLength(1);

    // The signature, computed here from the secret shown at creation (the receiver checks it too).
    for (const delivery of r.attempts) {
      const expected = `sha256=${createHmac('sha256', alert.secret).update(delivery.body).digest('hex')}`;
      expect(delivery.signature).toBe(expected);
      expect(delivery.signatureValid).toBe(true);
    }

    // More members join and fail: the grown count is alerted once more.
    const more = await tenant.importUsers(5);
    for (const id of more) {
      await tenant.graph
        .api(`/groups/${group}/members/$ref`)
        .post({ '@odata.id': `${service.graphRoot}/directoryObjects/${id}` });
    }
    await tenant.waitIdle(30_000);
    await waitFor(() => ofKind(r, 'licenseErrors').length >= 2, { timeoutMs: 20_000 });
    await sleep(3000);
    expect(ofKind(r, 'licenseErrors')).toHaveLength(2);
    expect(ofKind(r, 'licenseErrors')[1]?.resourceData).toMatchObject({
      membersInError: 295,
      previousValue: 290,
    });

    const log = deliveryList.parse(
      (await service.manage('GET', `/tenants/${tenant.id}/alerts/${alert.id}/deliveries`)).json,
    );
    expect(log.value.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
  });

  it('alerts a subscription entering warning, suspended or lockedOut', async () => {
    const tenant = await service.newTenant({ buy: { ENTERPRISEPACK: 10 } });
    const r = await receiver();
    await subscribe(tenant, r, ['subscriptionState']);
    const e3 = service.catalog.skuId('ENTERPRISEPACK');
    const put = await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      prepaidUnits: { enabled: 10, warning: 5 },
    });
    expect(put.status, put.text).toBe(200);
    await waitFor(() => ofKind(r, 'subscriptionState').length >= 1, { timeoutMs: 15_000 });
    expect(ofKind(r, 'subscriptionState')[0]?.resourceData).toMatchObject({ skuId: e3, state: 'warning' });
    await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      prepaidUnits: { enabled: 10, warning: 5, suspended: 2 },
    });
    await waitFor(() => ofKind(r, 'subscriptionState').length >= 2, { timeoutMs: 15_000 });
    await sleep(2500);
    expect(ofKind(r, 'subscriptionState').map((n) => n.resourceData.state)).toEqual(['warning', 'suspended']);
  });

  it('retries a failing receiver with back-off until it answers', async () => {
    const tenant = await service.newTenant();
    const r = await receiver();
    r.failNext = 2;
    const alert = await subscribe(tenant, r, ['subscriptionState']);
    await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      prepaidUnits: { enabled: 1, lockedOut: 1 },
    });
    await waitFor(() => r.deliveries.length === 1, { timeoutMs: 20_000 });
    expect(r.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(new Set(r.attempts.map((a) => a.deliveryId)).size).toBe(1);
    expect(new Set(r.attempts.map((a) => a.body)).size).toBe(1);
    const log = deliveryList.parse(
      (await service.manage('GET', `/tenants/${tenant.id}/alerts/${alert.id}/deliveries`)).json,
    );
    await waitFor(async () => {
      const now = deliveryList.parse(
        (await service.manage('GET', `/tenants/${tenant.id}/alerts/${alert.id}/deliveries`)).json,
      );
      return now.value[0]?.status === 'delivered';
    });
    expect(log.value).toHaveLength(1);
  });

  it('parks a delivery after its last attempt and lists it', async () => {
    const tenant = await service.newTenant();
    const r = await receiver();
    r.failAlways = true;
    const alert = await subscribe(tenant, r, ['subscriptionState']);
    await service.manage('PUT', `/tenants/${tenant.id}/subscriptions/ENTERPRISEPACK`, {
      prepaidUnits: { enabled: 1, warning: 1 },
    });
    const parked = await waitFor(
      async () => {
        const answer = await service.manage(
          'GET',
          `/tenants/${tenant.id}/alerts/${alert.id}/deliveries?status=parked`,
        );
        const list = deliveryList.parse(answer.json);
        return list.value.length === 1 ? list.value[0] : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(parked).toMatchObject({
      status: 'parked',
      attempts: 3,
      lastStatus: 503,
      nextAttemptDateTime: null,
    });
    expect(parked.value[0]?.resourceData).toMatchObject({ kind: 'subscriptionState', state: 'warning' });
    expect(r.attempts).toHaveLength(3);
    const bad = await service.manage(
      'GET',
      `/tenants/${tenant.id}/alerts/${alert.id}/deliveries?status=lost`,
    );
    expect(bad.status).toBe(400);
  });
});
