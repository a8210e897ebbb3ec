// Relaying what a committed change owes (src/application/outbox.ts) on the in-memory ports: audit records first,
// then the messages, then the row goes; a crash at either point leaves the row, and relaying it again (the sweep)
// neither doubles a record nor loses a message. The Table adapter keeps the same contract
// (test/storage/outbox-store.test.ts).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FaultPoint } from '../../src/application/context.js';
import { healRequest } from '../../src/application/messages.js';
import {
  type OutboxPorts,
  type OutboxWork,
  outboxEntry,
  outboxWorkOf,
  recordOutbox,
  relayOutbox,
} from '../../src/application/outbox.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { InMemoryAuditTrail, InMemoryDirectoryQueries } from '../support/in-memory-queries.js';
import { InMemoryOutbox, InMemoryTenantStore, RecordingQueues } from '../support/in-memory-stores.js';
import { outboxRecord, tenantRecord } from '../support/records.js';

const when = new Date('2026-03-01T10:00:00.000Z');

async function setUp(crashAt?: FaultPoint) {
  const tenants = new InMemoryTenantStore();
  const tenantId = randomUUID();
  await tenants.create(tenantRecord(tenantId));
  const queries = new InMemoryDirectoryQueries(loadCatalog());
  const queues = new RecordingQueues();
  let crashes = crashAt ? 1 : 0;
  const ports: OutboxPorts = {
    audit: new InMemoryAuditTrail(queries),
    queues,
    outbox: new InMemoryOutbox(tenants),
    now: () => when,
    faults: (point) => {
      if (point === crashAt && crashes-- > 0) throw new Error(`crash at ${point}`);
    },
  };
  const records = () => queries.auditRecords.filter((a) => a.tenantId === tenantId);
  return { ports, tenantId, queues, records };
}

/** What a group license change owes: its *Set group license* record and its job's message. */
function owed(tenantId: string, id: string): OutboxWork {
  return {
    audit: [
      {
        idempotencyKey: `${id}:0`,
        activityDateTime: when.toISOString(),
        activityDisplayName: 'Set group license',
        category: 'GroupManagement',
        initiatedBy: { app: { displayName: 'Microsoft Azure AD Group-Based Licensing' } },
        operationType: 'Assign',
        result: 'success',
        resultReason: '',
        targetResources: [{ id: randomUUID(), displayName: 'HR', type: 'Group', modifiedProperties: [] }],
      },
    ],
    messages: [{ queue: 'heal', body: healRequest(tenantId, randomUUID(), when) }],
  };
}

describe('relaying the outbox', () => {
  it('writes the records, sends the messages, then removes the row', async () => {
    const { ports, tenantId, queues, records } = await setUp();
    const entry = await recordOutbox(ports, tenantId, outboxEntry(ports, owed(tenantId, 'a')));
    expect(await ports.outbox.pending(tenantId)).toBe(1);
    await relayOutbox(ports, tenantId, entry);
    expect(records().map((r) => r.activityDisplayName)).toEqual(['Set group license']);
    expect(queues.to('heal')).toHaveLength(1);
    expect(await ports.outbox.pending(tenantId)).toBe(0);
  });

  for (const crashAt of ['outbox:audited', 'outbox:sent'] as const) {
    it(`leaves the row after a crash at ${crashAt}; the sweep's relay then neither doubles a record nor loses a message`, async () => {
      const { ports, tenantId, queues, records } = await setUp(crashAt);
      const entry = await recordOutbox(
        ports,
        tenantId,
        outboxEntry(ports, owed(tenantId, 'b'), { leaseMs: 0 }),
      );
      await expect(relayOutbox(ports, tenantId, entry)).rejects.toThrow(`crash at ${crashAt}`);
      expect(await ports.outbox.pending(tenantId)).toBe(1);

      const [due] = await ports.outbox.due(tenantId, when, 10);
      if (!due) throw new Error('the row is not due');
      await relayOutbox(ports, tenantId, { record: due, work: outboxWorkOf(tenantId, due) });
      expect(records()).toHaveLength(1);
      expect(queues.to('heal').length).toBeGreaterThanOrEqual(1);
      expect(await ports.outbox.pending(tenantId)).toBe(0);
    });
  }

  it('refuses a stored row whose payload is not work it knows, naming the row', async () => {
    const { ports, tenantId } = await setUp();
    const stored = await ports.outbox.put(
      tenantId,
      outboxRecord({ id: 'odd', relayAfter: when.toISOString(), payload: { launch: 'rockets' } }),
    );
    expect(() => outboxWorkOf(tenantId, stored)).toThrow(`${tenantId}/out|odd`);
  });
});
