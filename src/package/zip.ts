// Writing and reading the deployment zip: yazl writes (streaming, and it lets us fix every entry's time and mode,
// so the same files give the same bytes), yauzl reads (it refuses entries whose names would escape the folder).
import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import yazl from 'yazl';

export interface ZipSource {
  /** Path inside the zip, forward slashes, relative. */
  readonly name: string;
  /** File on disk. */
  readonly file: string;
}

/**
 * One fixed time for every entry, so a zip depends only on the files' names and contents. Zip (DOS) times have no
 * time zone, so it is local midnight: the same bytes in every zone.
 */
const ENTRY_TIME = new Date(2000, 0, 1);

/** Writes `sources` (in the order given) to `zipPath`, atomically: a temporary file, then a rename. */
export async function writeZip(zipPath: string, sources: readonly ZipSource[]): Promise<void> {
  mkdirSync(path.dirname(zipPath), { recursive: true });
  const partial = `${zipPath}.partial`;
  const zip = new yazl.ZipFile();
  for (const source of sources)
    zip.addFile(source.file, source.name, { mtime: ENTRY_TIME, mode: 0o100644, forceDosTimestamp: true });
  zip.end();
  try {
    await pipeline(zip.outputStream, createWriteStream(partial));
    await rename(partial, zipPath);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

export interface ZipEntryInfo {
  readonly name: string;
  readonly size: number;
}

/** The entries of a zip (folders, whose names end in `/`, left out). */
export async function listZip(zipPath: string): Promise<ZipEntryInfo[]> {
  const zip = await yauzl.openPromise(zipPath, {
    lazyEntries: true,
    autoClose: false,
    strictFileNames: true,
  });
  const entries: ZipEntryInfo[] = [];
  try {
    for await (const entry of zip.eachEntry())
      if (!entry.fileName.endsWith('/')) entries.push({ name: entry.fileName, size: entry.uncompressedSize });
  } finally {
    zip.close();
  }
  return entries;
}

/** Unpacks a zip into `targetDir` (created if missing); returns the number of files written. */
export async function extractZip(zipPath: string, targetDir: string): Promise<number> {
  const root = path.resolve(targetDir);
  const zip = await yauzl.openPromise(zipPath, {
    lazyEntries: true,
    autoClose: false,
    strictFileNames: true,
  });
  let files = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const target = path.resolve(root, entry.fileName);
      if (target !== root && !target.startsWith(`${root}${path.sep}`))
        throw new Error(`zip entry ${entry.fileName} would land outside ${root}`);
      if (entry.fileName.endsWith('/')) {
        mkdirSync(target, { recursive: true });
        continue;
      }
      mkdirSync(path.dirname(target), { recursive: true });
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
      files++;
    }
  } finally {
    zip.close();
  }
  return files;
}
