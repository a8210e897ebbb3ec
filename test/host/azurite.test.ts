import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterAll, describe, expect, it } from 'vitest';
import { startAzurite } from '../../src/host/azurite.js';

describe('Azurite with a data folder', () => {
  const location = mkdtempSync(path.join(tmpdir(), 'azurite-save-'));
  afterAll(() => rmSync(location, { recursive: true, force: true }));

  it('keeps what was written before a stop, though its autosave timer has not fired yet', async () => {
    const first = await startAzurite({ location, saveIntervalMs: 120_000 });
    try {
      const table = TableClient.fromConnectionString(first.connectionString, 'kept', {
        allowInsecureConnection: true,
      });
      await table.createTable();
      await table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 'still here' });
    } finally {
      await first.stop();
    }
    const second = await startAzurite({ location });
    try {
      const table = TableClient.fromConnectionString(second.connectionString, 'kept', {
        allowInsecureConnection: true,
      });
      const entity = await table.getEntity<{ value: string }>('p', 'r');
      expect(entity.value).toBe('still here');
    } finally {
      await second.stop();
    }
  }, 60_000);
});
