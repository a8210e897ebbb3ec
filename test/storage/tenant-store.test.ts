// The tenant store port (src/application/ports.ts): one suite, run against the Table adapter on a real Azurite and
// against the in-memory double the use-case tests rely on, so the double answers — and refuses — as storage does.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { TenantStore } from '../../src/application/ports.js';
import type {
  GroupLicenseRecord,
  MembershipRuleRecord,
  OutboxRecord,
  SubscriptionRecord,
  TenantRecord,
} from '../../src/application/records.js';
import { retryOnConflict } from '../../src/storage/optimistic.js';
import { Outbox } from '../../src/storage/outbox.js';
import { isConflict } from '../../src/storage/properties.js';
import { StorageTables } from '../../src/storage/tables.js';
import { encodeGroupLicense, TableTenantStore } from '../../src/storage/tenant-records.js';
import { InMemoryTenantStore } from '../support/in-memory-stores.js';
import { uniqueName } from '../support/index.js';
import { outboxRecord } from '../support/records.js';

const sku = 'c7df2760-2c81-4ef7-b578-5b5392b571df';

function tenant(): TenantRecord {
  return {
    id: randomUUID(),
    displayName: 'Contoso',
    countryLetterCode: 'US',
    licenseErrorHealing: 'automatic',
    clientState: 'secret',
    createdDateTime: '2026-03-01T10:00:00.000Z',
  };
}

function subscription(enabled: number): SubscriptionRecord {
  return {
    skuId: sku,
    prepaidUnits: { enabled, warning: 0, suspended: 0, lockedOut: 0 },
    consumedUnits: 0,
    createdDateTime: '2026-03-01T10:00:00.000Z',
  };
}

/** A group license being processed by job `jobId`. */
function groupLicense(groupId: string, jobId: string): GroupLicenseRecord {
  return {
    groupId,
    licenses: [{ skuId: sku, disabledPlans: [] }],
    licensedSince: null,
    jobId,
    processingState: 'ProcessingInProgress',
    updatedDateTime: '2026-03-01T10:00:00.000Z',
  };
}

/** How each store gets a group license into a tenant's partition (group licensing writes it in its transactions). */
type PutGroupLicense = (tenantId: string, groupId: string, jobId: string) => Promise<void>;
/** How each store's outbox rows are read back (the outbox adapter, or the double's read-out). */
type ReadOutbox = (tenantId: string, id: string) => Promise<OutboxRecord | undefined>;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

function contract(
  name: string,
  setUp: () => Promise<{ store: TenantStore; putGroupLicense: PutGroupLicense; readOutbox: ReadOutbox }>,
) {
  describe(`TenantStore: ${name}`, () => {
    it('creates a tenant once, reads it back alone and with its partition', async () => {
      const { store } = await setUp();
      const created = tenant();
      await store.create(created);
      expect(isConflict(await rejection(store.create(created)))).toBe(true);
      expect(await store.read(created.id)).toMatchObject({ ...created, etag: expect.any(String) });
      const partition = await store.partition(created.id);
      expect(partition?.tenant.displayName).toBe('Contoso');
      expect(partition?.subscriptions.size).toBe(0);
      expect(await store.read(randomUUID())).toBeUndefined();
      expect(await store.partition(randomUUID())).toBeUndefined();
    });

    it('writes a tenant back only under the ETag it was read with', async () => {
      const { store } = await setUp();
      const created = tenant();
      await store.create(created);
      const read = await store.read(created.id);
      if (!read) throw new Error('not created');
      const renamed = await store.replace({ ...read, displayName: 'Fabrikam' });
      expect(renamed.etag).not.toBe(read.etag);
      expect((await store.read(created.id))?.displayName).toBe('Fabrikam');
      // The first read is stale now: writing it back would lose the rename.
      expect(isConflict(await rejection(store.replace({ ...read, displayName: 'Lost' })))).toBe(true);
      expect((await store.read(created.id))?.displayName).toBe('Fabrikam');
    });

    it('creates a subscription once, then replaces it under its ETag', async () => {
      const { store } = await setUp();
      const created = tenant();
      await store.create(created);
      const first = await store.saveSubscription(created.id, subscription(10));
      expect(isConflict(await rejection(store.saveSubscription(created.id, subscription(20))))).toBe(true);
      const raised = await store.saveSubscription(created.id, {
        ...first,
        prepaidUnits: { ...first.prepaidUnits, enabled: 30 },
      });
      expect(isConflict(await rejection(store.saveSubscription(created.id, first)))).toBe(true);
      const stored = (await store.partition(created.id))?.subscriptions.get(sku);
      expect(stored?.prepaidUnits.enabled).toBe(30);
      expect(stored?.etag).toBe(raised.etag);
    });

    it('lets concurrent read-modify-writes of a subscription all land, none lost', async () => {
      const { store } = await setUp();
      const created = tenant();
      await store.create(created);
      await store.saveSubscription(created.id, subscription(0));
      await Promise.all(
        Array.from({ length: 5 }, () =>
          retryOnConflict('subscription', async () => {
            const current = (await store.partition(created.id))?.subscriptions.get(sku);
            if (!current) throw new Error('missing');
            const units = { ...current.prepaidUnits, enabled: current.prepaidUnits.enabled + 1 };
            await store.saveSubscription(created.id, { ...current, prepaidUnits: units });
          }),
        ),
      );
      expect((await store.partition(created.id))?.subscriptions.get(sku)?.prepaidUnits.enabled).toBe(5);
    });

    it('marks a group license failed only if it is the one that was read', async () => {
      const { store, putGroupLicense } = await setUp();
      const created = tenant();
      await store.create(created);
      const groupId = randomUUID();
      await putGroupLicense(created.id, groupId, 'job-1');
      const read = (await store.partition(created.id))?.groupLicenses.get(groupId);
      if (!read) throw new Error('no group license');
      await store.markGroupLicenseFailed(created.id, read, 'poisoned');
      const failed = (await store.partition(created.id))?.groupLicenses.get(groupId);
      expect(failed).toMatchObject({
        processingState: 'ProcessingComplete',
        lastFailure: 'poisoned',
        jobId: 'job-1',
      });
      expect(isConflict(await rejection(store.markGroupLicenseFailed(created.id, read, 'again')))).toBe(true);
      await store.deleteGroupLicense(created.id, groupId);
      expect((await store.partition(created.id))?.groupLicenses.has(groupId)).toBe(false);
      await store.deleteGroupLicense(created.id, groupId); // gone already: fine (a retried group deletion)
    });

    it('commits license rows with the outbox row that owes their work, all or nothing', async () => {
      const { store, readOutbox } = await setUp();
      const created = tenant();
      await store.create(created);
      const groupId = randomUUID();
      const first = { ...groupLicense(groupId, 'job-1'), processingState: 'QueuedForProcessing' as const };
      const owed = outboxRecord({ payload: { jobs: ['job-1'] } });
      const { outboxEtag } = await store.commitGroupLicensing(created.id, {
        licenses: [{ current: undefined, next: first }],
        createOutbox: owed,
      });
      expect(outboxEtag).toBeTruthy();
      expect((await readOutbox(created.id, owed.id))?.payload).toEqual({ jobs: ['job-1'] });
      const read = (await store.partition(created.id))?.groupLicenses.get(groupId);
      if (!read) throw new Error('no group license');
      expect(read.processingState).toBe('QueuedForProcessing');

      // A second commit from the same read fails whole: neither its license row nor its outbox row lands.
      const second = { ...first, jobId: 'job-2' };
      const lost = outboxRecord({ payload: { jobs: ['job-2'] } });
      await store.commitGroupLicensing(created.id, {
        licenses: [{ current: read, next: second }],
        createOutbox: outboxRecord({ payload: { jobs: ['job-2'] } }),
      });
      const stale = store.commitGroupLicensing(created.id, {
        licenses: [{ current: read, next: { ...first, jobId: 'job-3' } }],
        createOutbox: lost,
      });
      expect(isConflict(await rejection(stale))).toBe(true);
      expect(await readOutbox(created.id, lost.id)).toBeUndefined();
      const now = (await store.partition(created.id))?.groupLicenses.get(groupId);
      expect(now?.jobId).toBe('job-2');

      // A job's state moves under its ETag, with the record it owes; the owing row is replaced under its own.
      if (!now) throw new Error('no group license');
      const finish = outboxRecord({ payload: { finish: groupId } });
      await store.commitGroupLicensing(created.id, {
        processingState: { current: now, state: 'ProcessingComplete' },
        createOutbox: finish,
      });
      expect((await store.partition(created.id))?.groupLicenses.get(groupId)).toMatchObject({
        jobId: 'job-2',
        processingState: 'ProcessingComplete',
      });
      const stored = await readOutbox(created.id, owed.id);
      if (!stored) throw new Error('no outbox row');
      await store.commitGroupLicensing(created.id, { replaceOutbox: { ...stored, payload: { jobs: [] } } });
      expect((await readOutbox(created.id, owed.id))?.payload).toEqual({ jobs: [] });
      expect(
        isConflict(
          await rejection(
            store.commitGroupLicensing(created.id, {
              replaceOutbox: { ...stored, payload: { jobs: ['x'] } },
            }),
          ),
        ),
      ).toBe(true);
    });

    it('commits a membership rule with the outbox row owing its evaluation, replaces it under its ETag, deletes it', async () => {
      const { store, readOutbox } = await setUp();
      const created = tenant();
      await store.create(created);
      const groupId = randomUUID();
      const rule: MembershipRuleRecord = {
        groupId,
        membershipRule: 'user.department -eq "Sales"',
        processingState: 'On',
        jobId: 'job-1',
        status: 'Running',
        lastMembershipUpdated: null,
        errorMessage: null,
        updatedDateTime: '2026-03-01T10:00:00.000Z',
      };
      const owed = outboxRecord({ payload: { pages: 16 } });
      const { outboxEtag } = await store.commitMembershipRule(created.id, {
        groupId,
        current: undefined,
        next: rule,
        createOutbox: owed,
      });
      expect(outboxEtag).toBeTruthy();
      expect((await readOutbox(created.id, owed.id))?.payload).toEqual({ pages: 16 });
      const read = (await store.partition(created.id))?.membershipRules.get(groupId);
      expect(read).toMatchObject(rule);
      if (!read) throw new Error('no rule');

      // Creating it again, or writing it back from a stale read, is refused whole (no outbox row lands).
      const lost = outboxRecord({ payload: { pages: 1 } });
      const again = store.commitMembershipRule(created.id, {
        groupId,
        current: undefined,
        next: rule,
        createOutbox: lost,
      });
      expect(isConflict(await rejection(again))).toBe(true);
      const done = {
        ...read,
        status: 'Succeeded' as const,
        lastMembershipUpdated: '2026-03-01T10:05:00.000Z',
      };
      await store.commitMembershipRule(created.id, { groupId, current: read, next: done });
      const stale = store.commitMembershipRule(created.id, {
        groupId,
        current: read,
        next: { ...read, processingState: 'Paused' },
        createOutbox: lost,
      });
      expect(isConflict(await rejection(stale))).toBe(true);
      expect(await readOutbox(created.id, lost.id)).toBeUndefined();
      expect((await store.partition(created.id))?.membershipRules.get(groupId)).toMatchObject({
        status: 'Succeeded',
        processingState: 'On',
        lastMembershipUpdated: '2026-03-01T10:05:00.000Z',
      });

      const latest = (await store.partition(created.id))?.membershipRules.get(groupId);
      await store.commitMembershipRule(created.id, { groupId, current: latest, next: null });
      expect((await store.partition(created.id))?.membershipRules.size).toBe(0);
    });

    it('records heal passes and lists every tenant', async () => {
      const { store } = await setUp();
      const one = tenant();
      const two = tenant();
      await store.create(one);
      await store.create(two);
      await store.recordHealPass(one.id, sku, '2026-03-01T11:00:00.000Z');
      expect((await store.partition(one.id))?.healPasses.get(sku)).toBe('2026-03-01T11:00:00.000Z');
      const ids: string[] = [];
      for await (const id of store.ids()) ids.push(id);
      expect(ids).toEqual(expect.arrayContaining([one.id, two.id]));
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('ts'));
  await tables.ensure();
  return {
    store: new TableTenantStore(tables),
    putGroupLicense: async (tenantId, groupId, jobId) => {
      await tables.tenants.createEntity(encodeGroupLicense(tenantId, groupLicense(groupId, jobId)));
    },
    readOutbox: (tenantId, id) => new Outbox(tables).read(tenantId, id),
  };
});

contract('in-memory double', async () => {
  const store = new InMemoryTenantStore();
  return {
    store,
    putGroupLicense: async (tenantId, groupId, jobId) => {
      store.putGroupLicense(tenantId, groupLicense(groupId, jobId));
    },
    readOutbox: async (tenantId, id) => store.outboxOf(tenantId).get(id),
  };
});
