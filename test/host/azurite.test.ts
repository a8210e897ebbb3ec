import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningAzurite, startAzurite } from '../../src/host/azurite.js';

function kept(azurite: RunningAzurite): TableClient {
  return TableClient.fromConnectionString(azurite.connectionString, 'kept', {
    allowInsecureConnection: true,
  });
}

/** Whether the entity written by a test is in Azurite's data folder: started again on it, and read. */
async function readBack(location: string, rowKey: string): Promise<string | undefined> {
  const azurite = await startAzurite({ location });
  try {
    const entity = await kept(azurite)
      .getEntity<{ value: string }>('p', rowKey)
      .catch(() => undefined);
    return entity?.value;
  } finally {
    await azurite.stop();
  }
}

describe('Azurite with a data folder', () => {
  const folders: string[] = [];
  const folder = () => {
    const location = mkdtempSync(path.join(tmpdir(), 'azurite-save-'));
    folders.push(location);
    return location;
  };
  afterAll(() => {
    for (const location of folders) rmSync(location, { recursive: true, force: true });
  });

  it('keeps what was written before a stop, though no autosave has run yet', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 120_000 });
    try {
      await kept(first).createTable();
      await kept(first).createEntity({ partitionKey: 'p', rowKey: 'r', value: 'still here' });
    } finally {
      await first.stop();
    }
    expect(await readBack(location, 'r')).toBe('still here');
  }, 60_000);

  it('saves once it has been quiet, so a crash right after loses nothing', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 500 });
    try {
      await kept(first).createTable();
      await kept(first).createEntity({ partitionKey: 'p', rowKey: 'quiet', value: 'saved while quiet' });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      process.kill(first.pid, 'SIGKILL'); // no save on the way down
    } finally {
      await first.stop();
    }
    expect(await readBack(location, 'quiet')).toBe('saved while quiet');
  }, 60_000);

  it('waits for the quiet time instead of saving on Azurite’s own 5 s timer', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 60_000 });
    try {
      await kept(first).createTable();
      await kept(first).createEntity({ partitionKey: 'p', rowKey: 'busy', value: 'not yet saved' });
      await new Promise((resolve) => setTimeout(resolve, 6_500));
      process.kill(first.pid, 'SIGKILL');
    } finally {
      await first.stop();
    }
    expect(await readBack(location, 'busy')).toBeUndefined();
  }, 60_000);
});
