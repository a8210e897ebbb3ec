// The alert store port (src/application/ports.ts): one suite against the Table adapter on a real Azurite and
// against the in-memory double — subscriptions under ETags, a decision committed all or nothing with its
// deliveries, the delivery log by status, overdue deliveries for the sweep, and the coalescing marker.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { AlertStore } from '../../src/application/ports.js';
import type { AlertDeliveryRecord, AlertSubscriptionRecord } from '../../src/application/records.js';
import { TableAlertStore } from '../../src/storage/alerts.js';
import { isConflict } from '../../src/storage/properties.js';
import { StorageTables } from '../../src/storage/tables.js';
import { InMemoryAlertStore } from '../support/in-memory-alerts.js';
import { uniqueName } from '../support/index.js';

const start = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(start + seconds * 1000);

function subscription(tenantId: string): AlertSubscriptionRecord {
  return {
    tenantId,
    id: randomUUID(),
    kinds: ['licenseErrors', 'seatUsage'],
    notificationUrl: 'https://receiver.example/alerts',
    clientState: 'state',
    secret: 'a-secret-of-enough-length-0123456789',
    seatUsagePercent: 85,
    createdDateTime: at(0).toISOString(),
    baseline: {},
  };
}

function delivery(sub: AlertSubscriptionRecord, id: string, nextAttemptSeconds: number): AlertDeliveryRecord {
  return {
    tenantId: sub.tenantId,
    alertId: sub.id,
    id,
    createdDateTime: at(0).toISOString(),
    status: 'pending',
    attempts: 0,
    nextAttemptDateTime: at(nextAttemptSeconds).toISOString(),
    lastAttemptDateTime: null,
    lastStatus: null,
    lastError: null,
    notifications: [
      {
        subscriptionId: sub.id,
        clientState: sub.clientState,
        changeType: 'created',
        resource: 'groups/g',
        tenantId: sub.tenantId,
        resourceData: { kind: 'licenseErrors', membersInError: 3 },
      },
    ],
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected a rejection');
}

function contract(name: string, setUp: () => Promise<AlertStore>) {
  describe(`AlertStore: ${name}`, () => {
    it('keeps subscriptions under ETags and deletes them once', async () => {
      const store = await setUp();
      const tenantId = randomUUID();
      const created = await store.createSubscription(subscription(tenantId));
      expect(isConflict(await rejection(store.createSubscription(created)))).toBe(true);
      const read = await store.subscription(tenantId, created.id);
      expect(read).toMatchObject({
        kinds: ['licenseErrors', 'seatUsage'],
        seatUsagePercent: 85,
        baseline: {},
      });
      const replaced = await store.replaceSubscription({ ...created, seatUsagePercent: 70 });
      expect(
        isConflict(await rejection(store.replaceSubscription({ ...created, seatUsagePercent: 60 }))),
      ).toBe(true);
      expect((await store.subscriptions(tenantId)).map((s) => s.seatUsagePercent)).toEqual([70]);
      expect(await store.subscriptions(randomUUID())).toEqual([]);
      expect(replaced.etag).toBeDefined();
      expect(await store.deleteSubscription(tenantId, created.id)).toBe(true);
      expect(await store.deleteSubscription(tenantId, created.id)).toBe(false);
      expect(await store.subscription(tenantId, created.id)).toBeUndefined();
    });

    it('commits a decision with its deliveries, or nothing when the baseline moved', async () => {
      const store = await setUp();
      const tenantId = randomUUID();
      const sub = await store.createSubscription(subscription(tenantId));
      await store.commitDecision({ ...sub, baseline: { 'licenseErrors|g|CountViolation': 3 } }, [
        delivery(sub, '20260301100000000-aaaaaaaa-0', 0),
      ]);
      // The same read again: it lost the race, and its delivery is not written.
      expect(
        isConflict(
          await rejection(
            store.commitDecision({ ...sub, baseline: { x: 1 } }, [
              delivery(sub, '20260301100000000-bbbbbbbb-0', 0),
            ]),
          ),
        ),
      ).toBe(true);
      expect((await store.subscription(tenantId, sub.id))?.baseline).toEqual({
        'licenseErrors|g|CountViolation': 3,
      });
      const log = await store.deliveries(tenantId, sub.id);
      expect(log.map((d) => d.id)).toEqual(['20260301100000000-aaaaaaaa-0']);
      expect(log[0]?.notifications[0]?.resourceData).toEqual({ kind: 'licenseErrors', membersInError: 3 });
    });

    it('lists deliveries by status, and pending ones overdue for the sweep', async () => {
      const store = await setUp();
      const tenantId = randomUUID();
      const sub = await store.createSubscription(subscription(tenantId));
      await store.commitDecision(sub, [
        delivery(sub, '20260301100000000-aaaaaaaa-0', 0),
        delivery(sub, '20260301100000000-aaaaaaaa-1', 600),
      ]);
      const first = await store.delivery(tenantId, sub.id, '20260301100000000-aaaaaaaa-0');
      if (!first) throw new Error('not written');
      const parked = await store.replaceDelivery({
        ...first,
        status: 'parked',
        attempts: 3,
        lastStatus: 503,
      });
      expect(isConflict(await rejection(store.replaceDelivery({ ...first, status: 'delivered' })))).toBe(
        true,
      );
      expect(parked.status).toBe('parked');
      expect((await store.deliveries(tenantId, sub.id, { status: 'parked' })).map((d) => d.attempts)).toEqual(
        [3],
      );
      expect((await store.deliveries(tenantId, sub.id, { status: 'pending' })).map((d) => d.id)).toEqual([
        '20260301100000000-aaaaaaaa-1',
      ]);
      expect(await store.overdueDeliveries(tenantId, at(599), 10)).toEqual([]);
      expect((await store.overdueDeliveries(tenantId, at(600), 10)).map((d) => d.id)).toEqual([
        '20260301100000000-aaaaaaaa-1',
      ]);
    });

    it('coalesces evaluation requests until the queued pass has run', async () => {
      const store = await setUp();
      const tenantId = randomUUID();
      expect(await store.markEvaluationQueued(tenantId, at(0), at(30))).toBe(true);
      expect(await store.markEvaluationQueued(tenantId, at(10), at(40))).toBe(false);
      expect(await store.markEvaluationQueued(tenantId, at(30), at(60))).toBe(true);
      expect(await store.markEvaluationQueued(randomUUID(), at(10), at(40))).toBe(true);
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('alr'));
  await tables.alerts.createTable();
  return new TableAlertStore(tables);
});

contract('in-memory double', async () => new InMemoryAlertStore());
