import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterAll, describe, expect, it } from 'vitest';
import { azuriteMainPath, listeningPort, type RunningAzurite, startAzurite } from '../../src/host/azurite.js';
import { devConnectionString, type StoragePorts } from '../../src/host/settings.js';
import { repoRoot } from '../support/index.js';

function kept(azurite: RunningAzurite, table = 'kept'): TableClient {
  return TableClient.fromConnectionString(azurite.connectionString, table, {
    allowInsecureConnection: true,
  });
}

const TABLE_DB = '__azurite_db_table__.json';

/** The collection files the table database names (one per table, plus Azurite's own). */
function collectionFiles(location: string): Map<string, string> {
  const saved = JSON.parse(readFileSync(path.join(location, TABLE_DB), 'utf8')) as {
    files: { name: string; file: string }[];
  };
  return new Map(saved.files.map(({ name, file }) => [name, file]));
}

function fileOfTable(files: Map<string, string>, table: string): string | undefined {
  return [...files].find(([name]) => name.endsWith(`$${table}`) || name.endsWith(table))?.[1];
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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

  it('still saves when its parent is SIGKILLed, although its output pipes lose their reader', async () => {
    const location = folder();
    // A parent like npm start: it starts Azurite (with piped output), then dies at once, without any stop.
    const script = [
      `const { startAzurite } = require(${JSON.stringify(path.join(repoRoot, 'dist/src/host/azurite.js'))});`,
      `const { TableClient } = require('@azure/data-tables');`,
      `(async () => {`,
      `  const azurite = await startAzurite({ location: ${JSON.stringify(location)}, saveIntervalMs: 120_000, saveWhenQuietMs: 120_000 });`,
      `  const table = TableClient.fromConnectionString(azurite.connectionString, 'kept', { allowInsecureConnection: true });`,
      `  await table.createTable();`,
      `  await table.createEntity({ partitionKey: 'p', rowKey: 'orphaned', value: 'saved by the orphan' });`,
      `  process.stdout.write(azurite.pid + '\\n');`,
      `  process.kill(process.pid, 'SIGKILL');`,
      `})();`,
    ].join('\n');
    const parent = spawn(process.execPath, ['-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await new Promise((resolve) => parent.once('exit', resolve));
    const azuritePid = Number(output.trim());
    expect(azuritePid).toBeGreaterThan(0);
    const deadline = Date.now() + 30_000;
    while (isAlive(azuritePid) && Date.now() < deadline) await wait(100);
    expect(isAlive(azuritePid)).toBe(false);
    expect(await readBack(location, 'orphaned')).toBe('saved by the orphan');
  }, 60_000);

  it('saves once it has been quiet, so a crash right after loses nothing', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 500 });
    try {
      await kept(first).createTable();
      await kept(first).createEntity({ partitionKey: 'p', rowKey: 'quiet', value: 'saved while quiet' });
      await wait(3_000);
      process.kill(first.pid, 'SIGKILL'); // no save on the way down
    } finally {
      await first.stop();
    }
    expect(await readBack(location, 'quiet')).toBe('saved while quiet');
  }, 60_000);

  it('waits for the quiet time instead of saving on Azurite’s own 5 s timer; a kill meanwhile loses nothing', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 60_000 });
    try {
      await kept(first).createTable();
      await kept(first).createEntity({ partitionKey: 'p', rowKey: 'busy', value: 'not yet saved' });
      await wait(6_500);
      // No snapshot holds the table yet: Azurite's own timer would have saved it by now.
      expect(fileOfTable(collectionFiles(location), 'kept')).toBeUndefined();
      process.kill(first.pid, 'SIGKILL');
    } finally {
      await first.stop();
    }
    // The journal, written before Azurite answered, brings the acknowledged write back.
    expect(await readBack(location, 'busy')).toBe('not yet saved');
  }, 60_000);

  it('loses no write it answered when killed the moment it answered, even under load', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 60_000 });
    const written = 400;
    try {
      await kept(first).createTable();
      const table = kept(first);
      await Promise.all(
        Array.from({ length: written }, (_, i) =>
          table.createEntity({ partitionKey: 'p', rowKey: `w${i}`, value: `write ${i}` }),
        ),
      );
      process.kill(first.pid, 'SIGKILL'); // right after the last answer: no save, no journal timer
    } finally {
      await first.stop();
    }
    const second = await startAzurite({ location });
    try {
      expect(second.notes.join('\n')).toMatch(/__azurite_db_table__\.json restored with \d+ change\(s\)/);
      let count = 0;
      for await (const _entity of kept(second).listEntities()) count++;
      expect(count).toBe(written);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('starts from the valid part of a journal whose last record was cut short, and says so', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 60_000 });
    try {
      await kept(first).createTable();
      await kept(first).createEntity({ partitionKey: 'p', rowKey: 'before', value: 'whole' });
      process.kill(first.pid, 'SIGKILL');
    } finally {
      await first.stop();
    }
    // What a kill in the middle of a write leaves: the start of a record, no end.
    const journalFiles = readdirSync(location).filter((f) => f.startsWith('__gbl_journal__.'));
    const last = journalFiles.sort().at(-1);
    if (!last) throw new Error('no journal file');
    appendFileSync(
      path.join(location, last),
      '0badc0de 999999 __azurite_db_table__.json {"o":"i","c":"devsto',
    );
    const second = await startAzurite({ location });
    try {
      expect(second.notes.join('\n')).toMatch(
        /holds \d+ bytes after its last valid record \(a record cut short/,
      );
      const entity = await kept(second).getEntity<{ value: string }>('p', 'before');
      expect(entity.value).toBe('whole');
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('loads a collection file cut short up to its last whole document, and says so', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 300 });
    try {
      await kept(first).createTable();
      for (const rowKey of ['a', 'b', 'c'])
        await kept(first).createEntity({ partitionKey: 'p', rowKey, value: rowKey });
      await wait(2_500); // saved, and the journal folded into the snapshot
    } finally {
      await first.stop();
    }
    const file = fileOfTable(collectionFiles(location), 'kept');
    if (!file) throw new Error('no collection file for the table');
    const text = readFileSync(path.join(location, file), 'utf8');
    writeFileSync(path.join(location, file), text.slice(0, text.lastIndexOf('\n', text.length - 2) + 20));
    const second = await startAzurite({ location });
    try {
      expect(second.notes.join('\n')).toMatch(/is cut short after 2 document\(s\)/);
      let count = 0;
      for await (const _entity of kept(second).listEntities()) count++;
      expect(count).toBe(2);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('rewrites only the tables that changed, and deletes the files a save replaced', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 300 });
    let before: Map<string, string>;
    try {
      await kept(first, 'alpha').createTable();
      await kept(first, 'beta').createTable();
      await kept(first, 'alpha').createEntity({ partitionKey: 'p', rowKey: 'a1', value: 'one' });
      await kept(first, 'beta').createEntity({ partitionKey: 'p', rowKey: 'b1', value: 'two' });
      await wait(2_500);
      before = collectionFiles(location);
      await kept(first, 'alpha').createEntity({ partitionKey: 'p', rowKey: 'a2', value: 'three' });
      await wait(2_500);
    } finally {
      await first.stop();
    }
    const after = collectionFiles(location);
    expect(fileOfTable(after, 'beta')).toBeDefined();
    expect(fileOfTable(after, 'beta')).toBe(fileOfTable(before, 'beta'));
    expect(fileOfTable(after, 'alpha')).not.toBe(fileOfTable(before, 'alpha'));
    const onDisk = readdirSync(location).filter((entry) => entry.startsWith(`${TABLE_DB}.`));
    expect(onDisk.sort()).toEqual([...after.values()].sort());

    const again = await startAzurite({ location });
    try {
      const values = await Promise.all([
        kept(again, 'alpha').getEntity<{ value: string }>('p', 'a1'),
        kept(again, 'alpha').getEntity<{ value: string }>('p', 'a2'),
        kept(again, 'beta').getEntity<{ value: string }>('p', 'b1'),
      ]);
      expect(values.map((entity) => entity.value)).toEqual(['one', 'three', 'two']);
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('does not bring back the rows of a table deleted and created again', async () => {
    const location = folder();
    const first = await startAzurite({ location, saveIntervalMs: 120_000, saveWhenQuietMs: 300 });
    try {
      await kept(first).createTable();
      await kept(first).createEntity({ partitionKey: 'p', rowKey: 'gone', value: 'deleted with its table' });
      await wait(2_000);
      await kept(first).deleteTable();
      await kept(first).createTable();
      await wait(2_000);
    } finally {
      await first.stop();
    }
    expect(await readBack(location, 'gone')).toBeUndefined();
  }, 60_000);

  it('loads a data folder that Azurite saved in its own one-file format', async () => {
    const location = folder();
    // Plain Azurite, no preload: LokiJS's one-file database, as an .azurite folder from before.
    const plain = spawn(
      process.execPath,
      [
        azuriteMainPath(),
        '--location',
        location,
        '--silent',
        '--skipApiVersionCheck',
        '--disableTelemetry',
        '--blobPort',
        '0',
        '--queuePort',
        '0',
        '--tablePort',
        '0',
      ],
      { cwd: location, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const ports = await new Promise<StoragePorts>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('plain Azurite did not start')), 30_000);
        const found: Partial<StoragePorts> = {};
        let text = '';
        plain.stdout?.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          for (const line of text.split('\n')) {
            const listening = listeningPort(line);
            if (listening) found[listening.service] = listening.port;
          }
          if (found.blob && found.queue && found.table) {
            clearTimeout(timer);
            resolve({ blob: found.blob, queue: found.queue, table: found.table });
          }
        });
      });
      const client = TableClient.fromConnectionString(devConnectionString(ports), 'kept', {
        allowInsecureConnection: true,
      });
      await client.createTable();
      await client.createEntity({ partitionKey: 'p', rowKey: 'old', value: 'from a plain Azurite' });
    } finally {
      const exited = new Promise((resolve) => plain.once('exit', resolve));
      plain.kill('SIGTERM');
      await exited;
    }
    expect(JSON.parse(readFileSync(path.join(location, TABLE_DB), 'utf8'))).toHaveProperty('collections');

    expect(await readBack(location, 'old')).toBe('from a plain Azurite');
    // The first save (at the latest when it stops) converts the folder to one file per collection.
    expect(fileOfTable(collectionFiles(location), 'kept')).toBeDefined();
    expect(await readBack(location, 'old')).toBe('from a plain Azurite');
  }, 60_000);
});
