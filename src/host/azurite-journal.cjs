'use strict';
// The change journal of npm start's Azurite (loaded by azurite-preload.cjs, in Azurite's process). Every change to
// every LokiJS database of the process — tables, queue messages, extents, blobs — is appended, in the order it
// happened, to one file beside the snapshots; a start replays it over the last snapshot of each database, and a
// snapshot folds it away. So after Azurite is killed, the store comes back as it was when it last answered a request:
// - the journal is written to the file (the OS's page cache) before any response leaves Azurite, so whatever a
//   client was told is done survives a SIGKILL; changes of requests still running are lost whole, as the request;
// - one journal for all databases: tables and queues come back to the same moment (a processed message never
//   outlives the table writes it made, a table change never loses its message);
// - a torn or corrupt record ends the journal: what is before it is used, what is after is reported and set aside.
//
// Line format: `<seq> <database> <json>\n`, json = { o, c, ... }. A record is whole when its line ends (a kill
// mid-write leaves a last line without its newline), its seq follows the one before, and its JSON parses:

//   o: 'a' collection added (c, opts) · 'x' collection removed · 'i' insert (doc, m = maxId after) ·
//   'u' update (doc) · 'r' remove (ids) · 'c' collection cleared.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const SEGMENT_PREFIX = '__gbl_journal__.';
const SEGMENT_SUFFIX = '.log';
/** A new segment is started past this size, so old ones can be deleted as snapshots cover them. */
const SEGMENT_BYTES = 64 * 1024 * 1024;
const READ_CHUNK = 8 * 1024 * 1024;
const FLUSH_EVERY_MS = 50;

function segmentName(firstSeq) {
  return `${SEGMENT_PREFIX}${String(firstSeq).padStart(16, '0')}${SEGMENT_SUFFIX}`;
}

/** Calls `onLine(text, endOffset)` for each complete line of a file, reading it in chunks (it may exceed V8's string limit). */
function forEachLine(file, onLine) {
  const fd = fs.openSync(file, 'r');
  try {
    let carry = Buffer.alloc(0);
    let offset = 0;
    const chunk = Buffer.alloc(READ_CHUNK);
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, READ_CHUNK, offset);
      if (read === 0) break;
      offset += read;
      let bytes =
        carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let start = 0;
      const base = offset - bytes.length;
      for (;;) {
        const end = bytes.indexOf(10, start);
        if (end === -1) break;
        if (onLine(bytes.toString('utf8', start, end), base + end + 1) === false) return;
        start = end + 1;
      }
      bytes = bytes.subarray(start);
      carry = Buffer.from(bytes);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A record's parts, or undefined when the line is not a record (its JSON is parsed when it is replayed). */
function parseLine(line) {
  const first = line.indexOf(' ');
  const second = line.indexOf(' ', first + 1);
  if (first <= 0 || second <= first || line.charCodeAt(second + 1) !== 123 || !line.endsWith('}'))
    return undefined;
  const seq = Number(line.slice(0, first));
  if (!Number.isSafeInteger(seq)) return undefined;
  return { seq, db: line.slice(first + 1, second), json: line.slice(second + 1) };
}

class Journal {
  constructor(folder, report) {
    this.folder = folder;
    this.report = report;
    /** Segments in order: { file, firstSeq, lastSeq, bytes }. */
    this.segments = [];
    this.seq = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.fd = undefined;
    /** Database → the seq its last snapshot holds everything up to. */
    this.savedSeq = new Map();
    /** Databases whose snapshot is being written: their changes are not on disk until it is renamed in place. */
    this.saving = new Set();
    /** Databases loaded in this process (their dirty state decides what the journal must keep). */
    this.databases = new Map();
    /**
     * Every database the folder or the journal names. Until one is loaded (and its part of the journal replayed), the
     * journal is kept from its snapshot on: the databases load one after another at start, and the first one saved
     * must not take the others' changes with it.
     */
    this.known = new Set();
    this.collectionDb = new WeakMap();
    this.suppressed = 0;
    this.scan();
  }

  /** Reads every segment once: the last seq, and the valid prefix (a torn or corrupt record ends the journal). */
  scan() {
    for (const name of fs.readdirSync(this.folder)) {
      if (!/^__azurite_db_[a-z_]+__\.json$/.test(name)) continue;
      this.known.add(name);
      try {
        // The snapshot's own record of how much of the journal it holds (a small JSON container).
        const saved = JSON.parse(fs.readFileSync(path.join(this.folder, name), 'utf8'));
        if (typeof saved.journalSeq === 'number') this.savedSeq.set(name, saved.journalSeq);
      } catch {
        // Unreadable: its load reports it; until then nothing of the journal is given up.
        this.savedSeq.set(name, 0);
      }
    }
    const names = fs
      .readdirSync(this.folder)
      .filter((name) => name.startsWith(SEGMENT_PREFIX) && name.endsWith(SEGMENT_SUFFIX))
      .sort();
    let broken = false;
    for (const name of names) {
      const file = path.join(this.folder, name);
      if (broken) {
        this.setAside(file, 'it follows a corrupt record');
        continue;
      }
      const segment = { file, firstSeq: 0, lastSeq: 0, bytes: 0 };
      let valid = 0;
      let bad;
      forEachLine(file, (line, end) => {
        const record = parseLine(line);
        if (!record || record.seq <= this.seq) {
          bad = line.length > 60 ? `${line.slice(0, 60)}…` : line;
          return false;
        }
        if (segment.firstSeq === 0) segment.firstSeq = record.seq;
        segment.lastSeq = record.seq;
        this.known.add(record.db);
        this.seq = record.seq;
        valid = end;
        return true;
      });
      const size = fs.statSync(file).size;
      if (valid < size) {
        const isLast = name === names[names.length - 1];
        this.report(
          `Azurite journal: ${path.basename(file)} holds ${size - valid} bytes after its last valid record ` +
            `(${bad === undefined ? 'a record cut short, written as Azurite was killed' : `a corrupt record: ${bad}`}); ` +
            `the store is restored up to that record${isLast ? '' : ', and later journal files are set aside'}.`,
        );
        const aside = `${file}.torn-${Date.now()}`;
        fs.copyFileSync(file, aside);
        fs.truncateSync(file, valid);
        if (bad !== undefined && !isLast) broken = true;
      }
      segment.bytes = valid;
      if (segment.lastSeq === 0) fs.rmSync(file, { force: true });
      else this.segments.push(segment);
    }
  }

  setAside(file, why) {
    const aside = `${file}.unused-${Date.now()}`;
    fs.renameSync(file, aside);
    this.report(
      `Azurite journal: ${path.basename(file)} was not replayed (${why}); kept as ${path.basename(aside)}.`,
    );
  }

  dbKey(db) {
    return path.basename(db.filename);
  }

  /** Appends a change (kept in memory until the next flush, which comes before any response). */
  append(db, record) {
    if (this.suppressed > 0) return;
    this.seq += 1;
    const line = `${this.seq} ${db} ${JSON.stringify(record)}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  /** Writes what is pending to the journal file, synchronously: called before every response. */
  flush() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    const firstSeq = this.seq - this.pending.length + 1;
    this.pending = [];
    this.pendingBytes = 0;
    let segment = this.segments[this.segments.length - 1];
    if (this.fd === undefined || segment === undefined || segment.bytes >= SEGMENT_BYTES) {
      if (this.fd !== undefined) fs.closeSync(this.fd);
      segment = { file: path.join(this.folder, segmentName(firstSeq)), firstSeq, lastSeq: 0, bytes: 0 };
      this.fd = fs.openSync(segment.file, 'a');
      this.segments.push(segment);
    }
    const buffer = Buffer.from(text);
    let written = 0;
    while (written < buffer.length) written += fs.writeSync(this.fd, buffer, written);
    segment.bytes += buffer.length;
    segment.lastSeq = this.seq;
  }

  /** A snapshot of `db` holds every change up to `seq`: journal files nobody needs any more are deleted. */
  saved(db, seq) {
    this.savedSeq.set(this.dbKey(db), seq);
    let covered = this.seq;
    for (const key of new Set([...this.known, ...this.databases.keys()])) {
      const loaded = this.databases.get(key);
      const upToDate = loaded !== undefined && !loaded.autosaveDirty() && !this.saving.has(key);
      if (!upToDate) covered = Math.min(covered, this.savedSeq.get(key) ?? 0);
    }
    // The open segment is kept; older ones go once every database's snapshot covers them.
    while (this.segments.length > 1 && this.segments[0].lastSeq <= covered) {
      const [old] = this.segments.splice(0, 1);
      fs.rmSync(old.file, { force: true });
    }
  }

  /** Applies the journal's changes of one database that its snapshot does not hold yet (called after its load). */
  replay(db, Loki) {
    const key = this.dbKey(db);
    const fromSeq = this.savedSeq.get(key) ?? 0;
    let applied = 0;
    let skipped = 0;
    let firstSkipped;
    this.suppressed += 1;
    try {
      for (const segment of this.segments) {
        if (segment.lastSeq <= fromSeq) continue;
        forEachLine(segment.file, (line, end) => {
          if (end > segment.bytes) return false;
          const record = parseLine(line);
          if (!record) return false;
          if (record.db !== key || record.seq <= fromSeq) return true;
          let change;
          try {
            change = JSON.parse(record.json);
          } catch {
            this.report(
              `Azurite journal: record #${record.seq} of ${key} is corrupt; ${key} is restored up to it.`,
            );
            return false;
          }
          if (applyChange(db, Loki, change)) applied += 1;
          else {
            skipped += 1;
            firstSkipped ??= `#${record.seq} ${change.o} in ${change.c}`;
          }
          return true;
        });
      }
    } finally {
      this.suppressed -= 1;
    }
    if (applied + skipped > 0) {
      this.report(
        `Azurite journal: ${key} restored with ${applied} change(s) made after its last snapshot` +
          `${skipped > 0 ? ` (${skipped} could not be applied, the first ${firstSkipped})` : ''}.`,
      );
    }
  }
}

function withoutIdentity(doc) {
  const copy = { ...doc };
  delete copy.$loki;
  delete copy.meta;
  return copy;
}

/** One journal record applied to a loaded database; false when it no longer fits (it is reported, not fatal). */
function applyChange(db, _Loki, change) {
  if (change.o === 'a') {
    db.addCollection(change.c, change.opts ?? {});
    return true;
  }
  if (change.o === 'x') {
    if (!db.getCollection(change.c)) return false;
    db.removeCollection(change.c);
    return true;
  }
  const collection = db.getCollection(change.c);
  if (!collection) return false;
  switch (change.o) {
    case 'i': {
      const id = change.doc.$loki;
      if (collection.get(id)) {
        collection.update({ ...change.doc, meta: collection.get(id).meta });
      } else {
        if (collection.maxId >= id) return false;
        collection.maxId = id - 1;
        collection.insertOne(withoutIdentity(change.doc));
      }
      collection.maxId = Math.max(collection.maxId, change.m ?? id);
      return true;
    }
    case 'u': {
      const current = collection.get(change.doc.$loki);
      if (!current) return false;
      collection.update({ ...change.doc, meta: change.doc.meta ?? current.meta });
      return true;
    }
    case 'r': {
      let removed = true;
      for (const id of change.ids) {
        const current = collection.get(id);
        if (current) collection.remove(current);
        else removed = false;
      }
      return removed;
    }
    case 'c':
      collection.clear();
      return true;
    default:
      return false;
  }
}

/** Hooks LokiJS and the HTTP responses of this process so every change is journaled before it is acknowledged. */
function installJournal(Loki, journal) {
  const C = Loki.Collection.prototype;
  const dbOf = (collection) => journal.collectionDb.get(collection);

  const insertOne = C.insertOne;
  C.insertOne = function (doc, bulkInsert) {
    const result = insertOne.call(this, doc, bulkInsert);
    const db = dbOf(this);
    if (db !== undefined && result !== undefined && result !== null) {
      // Without cloning (Azurite never clones) the returned object is the stored one.
      const stored = this.cloneObjects ? this.get(result.$loki) : result;
      if (stored) journal.append(db, { o: 'i', c: this.name, doc: stored, m: this.maxId });
    }
    return result;
  };

  const update = C.update;
  C.update = function (doc) {
    const result = update.call(this, doc);
    const db = dbOf(this);
    if (db !== undefined && !Array.isArray(doc) && doc && doc.$loki !== undefined) {
      const stored = this.cloneObjects ? this.get(doc.$loki) : doc;
      if (stored) journal.append(db, { o: 'u', c: this.name, doc: stored });
    }
    return result;
  };

  const remove = C.remove;
  C.remove = function (doc) {
    const db = dbOf(this);
    const id = typeof doc === 'number' ? doc : doc && !Array.isArray(doc) ? doc.$loki : undefined;
    const result = remove.call(this, doc);
    if (db !== undefined && id !== undefined && !this.get(id))
      journal.append(db, { o: 'r', c: this.name, ids: [id] });
    return result;
  };

  const removeBatch = C.removeBatchByPositions;
  C.removeBatchByPositions = function (positions) {
    const db = dbOf(this);
    const ids = positions.map((position) => this.data[position]?.$loki).filter((id) => id !== undefined);
    const result = removeBatch.call(this, positions);
    if (db !== undefined) {
      const gone = ids.filter((id) => !this.get(id));
      if (gone.length > 0) journal.append(db, { o: 'r', c: this.name, ids: gone });
    }
    return result;
  };

  const clear = C.clear;
  C.clear = function (options) {
    const result = clear.call(this, options);
    const db = dbOf(this);
    if (db !== undefined) journal.append(db, { o: 'c', c: this.name });
    return result;
  };

  const addCollection = Loki.prototype.addCollection;
  Loki.prototype.addCollection = function (name, options) {
    const existed = this.getCollection(name) !== null;
    const collection = addCollection.call(this, name, options);
    if (this.persistenceMethod !== 'fs') return collection;
    const key = journal.dbKey(this);
    journal.collectionDb.set(collection, key);
    journal.databases.set(key, this);
    if (!existed) journal.append(key, { o: 'a', c: name, opts: options ?? {} });
    return collection;
  };

  const removeCollection = Loki.prototype.removeCollection;
  Loki.prototype.removeCollection = function (name) {
    const existed = this.getCollection(name) !== null;
    const result = removeCollection.call(this, name);
    if (existed && this.persistenceMethod === 'fs') journal.append(journal.dbKey(this), { o: 'x', c: name });
    return result;
  };

  // Before any response leaves Azurite, the changes it stands for are in the journal file.
  const writeHead = http.ServerResponse.prototype.writeHead;
  http.ServerResponse.prototype.writeHead = function (...args) {
    journal.flush();
    return writeHead.apply(this, args);
  };
}

/** Azurite's extent garbage collector deletes files by the in-memory state: that state is journaled first. */
function flushBeforeExtentDeletes(journal) {
  try {
    const file = path.join(path.dirname(process.argv[1]), 'common', 'persistence', 'FSExtentStore.js');
    const { default: FSExtentStore } = require(file);
    const deleteExtents = FSExtentStore.prototype.deleteExtents;
    FSExtentStore.prototype.deleteExtents = function (...args) {
      journal.flush();
      return deleteExtents.apply(this, args);
    };
  } catch (error) {
    journal.report(`Azurite journal: could not hook the extent collector (${error.message}).`);
  }
}

module.exports = { Journal, installJournal, flushBeforeExtentDeletes };
