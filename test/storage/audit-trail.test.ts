// The audit trail port (src/application/ports.ts): one suite against the Table adapter on a real Azurite and
// against the in-memory double, read back through the directory listings as Graph serves them.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { AuditTrail, DirectoryQueries } from '../../src/application/ports.js';
import type { AuditInput, DirectoryAudit } from '../../src/application/records.js';
import { loadCatalog } from '../../src/catalog/load.js';
import { AuditLog } from '../../src/storage/audit.js';
import { TableDirectoryQueries } from '../../src/storage/directory-queries.js';
import { StorageTables } from '../../src/storage/tables.js';
import { InMemoryAuditTrail, InMemoryDirectoryQueries } from '../support/in-memory-queries.js';
import { uniqueName } from '../support/index.js';

function input(activityDisplayName: string, activityDateTime: string, resultReason = ''): AuditInput {
  return {
    activityDateTime,
    activityDisplayName,
    category: 'UserManagement',
    initiatedBy: { app: null },
    operationType: 'Add',
    result: 'success',
    resultReason,
    targetResources: [],
  };
}

async function all(queries: DirectoryQueries, tenantId: string): Promise<DirectoryAudit[]> {
  return [...(await queries.audits(tenantId, [], { top: 100 })).items];
}

function contract(name: string, setUp: () => Promise<{ trail: AuditTrail; queries: DirectoryQueries }>) {
  describe(`AuditTrail: ${name}`, () => {
    it('keeps one record per idempotency key however often it is appended, and reads newest first', async () => {
      const { trail, queries } = await setUp();
      const tenantId = randomUUID();
      await trail.append(tenantId, [input('Add user', '2026-03-01T10:00:00.000Z')]);
      await trail.append(tenantId, [input('Add user', '2026-03-01T10:00:00.000Z')]);
      const keyed = {
        ...input('Add member to group', '2026-03-01T11:00:00.000Z'),
        idempotencyKey: 'change-1',
      };
      await trail.append(tenantId, [keyed, keyed]);
      await trail.append(tenantId, [keyed]);
      await trail.append(randomUUID(), [keyed]);
      const records = await all(queries, tenantId);
      expect(records.map((r) => r.activityDisplayName)).toEqual([
        'Add member to group',
        'Add user',
        'Add user',
      ]);
      expect(records[0]).toMatchObject({
        loggedByService: 'Core Directory',
        correlationId: records[0]?.id,
        additionalDetails: [],
      });
    });
  });
}

contract('Table adapter (real Azurite)', async () => {
  const tables = new StorageTables(inject('storageConnectionString'), uniqueName('at'));
  await tables.ensure();
  return { trail: new AuditLog(tables), queries: new TableDirectoryQueries(tables) };
});

contract('in-memory double', async () => {
  const queries = new InMemoryDirectoryQueries(loadCatalog());
  return { trail: new InMemoryAuditTrail(queries), queries };
});
