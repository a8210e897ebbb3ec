'use strict';
// Loaded into Azurite's node process (`node --require`) by azurite.ts, before Azurite's own CLI entry.
// 1. Azurite exits when its parent dies (the IPC channel closes), so no orphan keeps the ports.
// 2. With a data folder (GBL_AZURITE_SAVE set), Azurite's LokiJS databases are saved differently:
//    - when quiet: a changed database is saved once no collection has changed for `quietMs`, or `maxMs` after the
//      last save while it stays busy, instead of on Azurite's fixed 5 s timer (a save blocks its only thread);
//    - one file per collection, rewritten only when that collection changed, written line by line: LokiJS's own
//      file adapter serialises a whole database into one string, and past V8's string limit (~512 MB, a few
//      100,000-user tenants) the save throws and Azurite dies.
// A save is atomic: changed collections go to new files, then the database file (which names each collection's
// file) is replaced by a rename, then the files it no longer names are deleted. A crash at any point leaves the
// previous complete save. A database file in LokiJS's own format (an older .azurite folder) still loads.
// 3. With a data folder, every change is also journaled (azurite-journal.cjs) before Azurite answers the request
//    that made it; a start replays the journal over the snapshots, so a killed Azurite loses no acknowledged write.
//    A collection file cut short (a disk that filled up) loads up to its last whole document, and says so.
const fs = require('node:fs');
const path = require('node:path');
const { Journal, installJournal, flushBeforeExtentDeletes } = require('./azurite-journal.cjs');

/**
 * Lines for npm start to show (azurite.ts prints lines that begin with "Azurite journal:" or "Azurite store:"). On
 * stdout, the stream Azurite announces its listening ports on: a database is restored before its service listens,
 * so whoever waits for the ports has read these lines too (on stderr they could arrive after the ports).
 */
function report(line) {
  console.log(line);
}

// When the parent dies, the pipes of stdout and stderr lose their reader: Azurite's stop path logs as it closes, and
// a write to a pipe nobody reads fails with EPIPE, an 'error' nobody handles, which killed Azurite before its final
// save. So output is dropped from then on, and write errors never kill the process.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
process.on('disconnect', () => {
  for (const stream of [process.stdout, process.stderr]) stream.write = () => true;
  process.kill(process.pid, 'SIGTERM');
});
process.on('SIGTERM', () => {
  if (process.connected) process.disconnect();
});

const FORMAT = 'gbl-collection-files-1';
/**
 * Collection → the file holding its last saved state. Keyed by the object, not the name: a table deleted and created
 * again is a new, empty collection that must be written even if nothing was inserted yet.
 */
const savedFileOf = new WeakMap();
const CHUNK_CHARS = 8 * 1024 * 1024;

const saveSettings = process.env.GBL_AZURITE_SAVE ? JSON.parse(process.env.GBL_AZURITE_SAVE) : undefined;
/** The journal of this process's changes (with a data folder only). */
let journal;

/** The lokijs Azurite itself uses (its own dependency, resolved from its entry script). */
function loadLoki() {
  const azuriteMain = process.argv[1];
  return require(require.resolve('lokijs', { paths: [path.dirname(azuriteMain)] }));
}

function installPersistence(Loki, quietMs, maxMs) {
  let changedAt = 0;
  for (const method of ['insert', 'insertOne', 'update', 'remove', 'removeBatchByPositions', 'clear']) {
    const original = Loki.Collection.prototype[method];
    Loki.Collection.prototype[method] = function (...args) {
      changedAt = Date.now();
      return original.apply(this, args);
    };
  }

  Loki.prototype.autosaveEnable = function (_options, callback) {
    this.autosave = true;
    let savedAt = Date.now();
    let saving = false;
    let failedAt = 0;
    this.autosaveHandle = setInterval(() => {
      if (saving || this.ignoreAutosave || !this.autosaveDirty()) return;
      const now = Date.now();
      if (now - failedAt < 30_000) return;
      if (now - changedAt < quietMs && now - savedAt < maxMs) return;
      saving = true;
      this.saveDatabase((error) => {
        saving = false;
        savedAt = Date.now();
        // The changes stay marked as unsaved; try again in 30 s (and when Azurite stops).
        if (error) {
          failedAt = Date.now();
          process.stderr.write(`Saving ${this.filename} failed: ${error.stack ?? error}\n`);
        }
        if (callback) callback(error);
      });
    }, 1000);
  };

  // Loki builds its 'fs' adapter from a private table, so the adapter's class is extended in place.
  const FsAdapter = Loki.LokiFsAdapter;
  for (const name of ['loadDatabase', 'load', 'save']) {
    FsAdapter.prototype[name] = CollectionFiles.prototype[name];
  }
  // The collections a load just created are the ones in the files it read.
  const originalLoadJson = Loki.prototype.loadJSONObject;
  Loki.prototype.loadJSONObject = function (...args) {
    journal.suppressed += 1;
    let result;
    try {
      result = originalLoadJson.apply(this, args);
    } finally {
      journal.suppressed -= 1;
    }
    journal.databases.set(journal.dbKey(this), this);
    journal.replay(this, Loki);
    const loaded = this.persistenceAdapter?.loadedFiles;
    if (loaded) {
      for (const collection of this.collections) {
        const file = loaded.get(collection.name);
        if (file !== undefined) savedFileOf.set(collection, file);
      }
      this.persistenceAdapter.loadedFiles = undefined;
    }
    return result;
  };
  const originalSave = Loki.prototype.saveDatabaseInternal;
  Loki.prototype.saveDatabaseInternal = function (callback) {
    const done =
      callback ??
      ((error) => {
        if (error) throw error;
      });
    if (!(this.persistenceAdapter instanceof FsAdapter)) return originalSave.call(this, callback);
    this.persistenceAdapter.save(this).then(
      () => done(null),
      (error) => done(error),
    );
  };
}

/**
 * The methods given to LokiJS's file adapter: its load returns the database object; saves go through `save` (see
 * saveDatabaseInternal). `referenced` holds the files the database file names now.
 */
class CollectionFiles {
  loadDatabase(dbFile, callback) {
    try {
      callback(this.load(dbFile));
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
    }
  }

  load(dbFile) {
    this.referenced = new Set();
    this.loadedFiles = new Map();
    if (!fs.existsSync(dbFile)) return null;
    let saved;
    try {
      saved = JSON.parse(fs.readFileSync(dbFile, 'utf8'));
    } catch (error) {
      // Written by rename, so only a damaged disk gets here: start from the journal alone rather than not at all.
      const aside = `${dbFile}.unreadable-${Date.now()}`;
      fs.renameSync(dbFile, aside);
      report(
        `Azurite store: ${path.basename(dbFile)} could not be read (${error.message}); kept as ${path.basename(aside)}, ` +
          'and the database starts from what the journal holds.',
      );
      return null;
    }
    if (saved.format !== FORMAT) return saved; // LokiJS's own format: everything in this one file
    if (typeof saved.journalSeq === 'number') journal.savedSeq.set(path.basename(dbFile), saved.journalSeq);
    const db = saved.db;
    db.collections = saved.files.map(({ name, file }) => {
      this.referenced.add(file);
      this.loadedFiles.set(name, file);
      return readCollection(path.join(path.dirname(dbFile), file), name);
    });
    removeUnnamedFiles(dbFile, this.referenced);
    return db;
  }

  async save(db) {
    const dbFile = db.filename;
    this.referenced ??= new Set();
    this.generation = (this.generation ?? 0) + 1;
    const stamp = `${Date.now().toString(36)}-${this.generation}`;
    // Serialised synchronously: a consistent snapshot of every changed collection. Changes made while the files
    // are written mark their collection dirty again, for the next save.
    const writes = [];
    const files = [];
    const key = path.basename(dbFile);
    // Everything journaled so far is in the state serialised below, in this same synchronous stretch.
    const journalSeq = journal.seq;
    journal.saving.add(key);
    for (const collection of db.collections) {
      const current = savedFileOf.get(collection);
      if (current !== undefined && !collection.dirty) {
        files.push({ name: collection.name, file: current });
        continue;
      }
      // Readable names (`…table__.json.devstoreaccount1_names3.<stamp>`), made unique within the save.
      let file = `${path.basename(dbFile)}.${collection.name.replace(/[^A-Za-z0-9_-]/g, '_')}.${stamp}`;
      while (writes.some((write) => write.file === file)) file += '_';
      writes.push({ collection, file, chunks: serializeCollection(db, collection) });
      files.push({ name: collection.name, file });
    }
    for (const write of writes) write.collection.dirty = false;
    const container =
      `{"format":"${FORMAT}","journalSeq":${journalSeq},"files":${JSON.stringify(files)},` +
      `"db":${JSON.stringify(db, (key, value) => (key === 'collections' ? [] : db.serializeReplacer(key, value)))}}`;
    const folder = path.dirname(dbFile);
    try {
      for (const write of writes) await writeChunks(path.join(folder, write.file), write.chunks);
      await fs.promises.writeFile(`${dbFile}~`, container);
      await fs.promises.rename(`${dbFile}~`, dbFile);
    } catch (error) {
      journal.saving.delete(key);
      for (const write of writes) {
        write.collection.dirty = true;
        await fs.promises.rm(path.join(folder, write.file), { force: true });
      }
      throw error;
    }
    journal.saving.delete(key);
    journal.saved(db, journalSeq);
    for (const write of writes) savedFileOf.set(write.collection, write.file);
    const referenced = new Set(files.map(({ file }) => file));
    const replaced = [...this.referenced].filter((file) => !referenced.has(file));
    this.referenced = referenced;
    for (const file of replaced) await fs.promises.rm(path.join(folder, file), { force: true });
  }
}

/** The collection's settings and indexes on the first line, then one document per line, in chunks of text. */
function serializeCollection(db, collection) {
  const data = collection.data;
  let header;
  collection.data = [];
  try {
    header = JSON.stringify(collection, db.serializeReplacer);
  } finally {
    collection.data = data;
  }
  const chunks = [];
  let lines = [header];
  let size = header.length;
  for (const document of data) {
    const line = JSON.stringify(document);
    lines.push(line);
    size += line.length + 1;
    if (size >= CHUNK_CHARS) {
      chunks.push(Buffer.from(`${lines.join('\n')}\n`));
      lines = [];
      size = 0;
    }
  }
  if (lines.length > 0) chunks.push(Buffer.from(`${lines.join('\n')}\n`));
  return chunks;
}

async function writeChunks(file, chunks) {
  const handle = await fs.promises.open(file, 'w');
  try {
    for (const chunk of chunks) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a collection file as bytes and parses it line by line (its text may exceed V8's string limit). A file cut
 * short keeps the documents before the cut, and says so.
 */
function readCollection(file, name) {
  const bytes = fs.readFileSync(file);
  let start = 0;
  let collection;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end === -1) end = bytes.length;
    if (end > start) {
      let value;
      try {
        value = JSON.parse(bytes.toString('utf8', start, end));
      } catch {
        report(
          `Azurite store: ${path.basename(file)} is cut short after ${collection ? collection.data.length : 0} ` +
            `document(s) of ${name}; ${bytes.length - start} bytes could not be read and are left out.`,
        );
        break;
      }
      if (collection === undefined) collection = value;
      else collection.data.push(value);
    }
    start = end + 1;
  }
  if (collection === undefined) throw new Error(`${file} is empty`);
  return collection;
}

/** Files of this database left by a save that never finished (a crash before its rename). */
function removeUnnamedFiles(dbFile, named) {
  const prefix = `${path.basename(dbFile)}.`;
  const folder = path.dirname(dbFile);
  for (const entry of fs.readdirSync(folder)) {
    if (entry.startsWith(prefix) && !named.has(entry)) fs.rmSync(path.join(folder, entry), { force: true });
  }
}

// Last: the class declarations above are not hoisted.
if (saveSettings) {
  const Loki = loadLoki();
  journal = new Journal(process.cwd(), report);
  process.on('exit', () => journal.flush());
  installJournal(Loki, journal);
  flushBeforeExtentDeletes(journal);
  installPersistence(Loki, saveSettings.quietMs, saveSettings.maxMs);
}
