import { chainHash, LENGTH_PREFIXED_LINK, NO_STREAM, SqliteEventStore, StorageFailureError, type EventToAppend } from '@csp/event-store';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';

const position = (n: number) => ({ commit: BigInt(n), prepare: BigInt(n) });
const events = (count: number): EventToAppend[] =>
  Array.from({ length: count }, (_, index) => ({ id: uuid(), type: 'AmountRecorded', data: { amount: 1000 + index } }));

describe('SqliteEventStore log identity and hash chain', () => {
  let dir: string;
  let file: string;
  const opened: SqliteEventStore[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sqlite-log-integrity-'));
    file = join(dir, 'events.db');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const open = () => {
    const store = SqliteEventStore.open(file);
    opened.push(store);
    return store;
  };
  /** Five events at positions 1..5, then the store closed so the file can be edited as an intruder would. */
  const writeFiveAndClose = async () => {
    const store = SqliteEventStore.open(file);
    await store.appendToStream('ledger-1', events(3), { expectedRevision: NO_STREAM });
    await store.appendToStream('ledger-2', events(2), { expectedRevision: NO_STREAM });
    const identity = await store.logIdentity();
    await store.close();
    return identity;
  };
  const edit = (statement: string) => {
    const raw = new Database(file);
    raw.exec(statement);
    raw.close();
  };

  it('keeps its identity across restarts, and a new file gets another one', async () => {
    const identity = await writeFiveAndClose();
    expect(await open().logIdentity()).toBe(identity);
    await rm(file);
    expect(await open().logIdentity()).not.toBe(identity);
  });

  it('verifies an untouched log: the count and the last position', async () => {
    await writeFiveAndClose();
    expect(await open().verifyLog()).toEqual({ intact: true, eventsChecked: 5, lastPosition: position(5) });
    expect(await open().verifyLog({ fromPosition: position(4) })).toEqual({ intact: true, eventsChecked: 2, lastPosition: position(5) });
  });

  it('names the position of an event whose stored number was edited', async () => {
    await writeFiveAndClose();
    edit(`UPDATE events SET data = '{"amount":1}' WHERE position = 2`);
    const report = await open().verifyLog();
    expect(report).toMatchObject({ intact: false, eventsChecked: 1, firstBad: { position: position(2), reason: 'altered' } });
  });

  it('names edited metadata and a swapped order', async () => {
    await writeFiveAndClose();
    edit(`UPDATE events SET metadata = '{"actor":"someone else"}' WHERE position = 4`);
    expect(await open().verifyLog()).toMatchObject({ intact: false, firstBad: { position: position(4) } });
  });

  it('names the gap where an event was removed from the middle, and the end where the tail was cut', async () => {
    await writeFiveAndClose();
    edit('DELETE FROM events WHERE position = 3');
    expect(await open().verifyLog()).toMatchObject({ intact: false, firstBad: { position: position(4), reason: 'removed' } });
    await Promise.all(opened.splice(0).map((store) => store.close()));

    await rm(file);
    await writeFiveAndClose();
    edit('DELETE FROM events WHERE position = 5');
    expect(await open().verifyLog()).toMatchObject({ intact: false, eventsChecked: 4, firstBad: { position: position(5), reason: 'removed' } });
  });

  it('an append after a cut tail links to the vanished event, so the cut stays visible', async () => {
    await writeFiveAndClose();
    edit('DELETE FROM events WHERE position = 5');
    const store = open();
    await store.appendToStream('ledger-3', events(1), { expectedRevision: NO_STREAM });
    expect(await store.verifyLog()).toMatchObject({ intact: false, firstBad: { position: position(6) } });
  });

  it('hashes the rows of a log written before events carried hashes, so the whole log is covered from then on', async () => {
    const legacy = new Database(file);
    legacy.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_name TEXT NOT NULL, revision INTEGER NOT NULL,
      event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL,
      UNIQUE (stream_name, revision)) STRICT`);
    const insert = legacy.prepare('INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    insert.run('old-1', 0, uuid(), 'Old', '{"amount":5}', '{}', '2026-01-01T00:00:00.000Z');
    insert.run('old-1', 1, uuid(), 'Old', '{"amount":6}', '{}', '2026-01-01T00:00:00.000Z');
    legacy.close();

    const store = open();
    await store.appendToStream('new-1', events(1), { expectedRevision: NO_STREAM });
    expect(await store.verifyLog()).toEqual({ intact: true, eventsChecked: 3, lastPosition: position(3) });
    expect((await store.readStream('old-1')).map((event) => event.data)).toEqual([{ amount: 5 }, { amount: 6 }]);
  });

  /** `count` rows as a version before hashes wrote them, after whatever the file holds, in one stream. */
  const writeUnhashedRows = (count: number, streamName: string) => {
    const legacy = new Database(file);
    legacy.exec(`CREATE TABLE IF NOT EXISTS events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_name TEXT NOT NULL, revision INTEGER NOT NULL,
      event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL,
      UNIQUE (stream_name, revision)) STRICT`);
    const insert = legacy.prepare('INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    legacy.transaction(() => {
      for (let revision = 0; revision < count; revision++) insert.run(streamName, revision, uuid(), 'Old', `{"amount":${revision}}`, '{}', '2026-01-01T00:00:00.000Z');
    })();
    legacy.close();
  };

  it('hashes an older log of many pages into one chain, its head on the last row', async () => {
    writeUnhashedRows(12_345, 'old-many');
    const store = open();
    expect(await store.verifyLog()).toEqual({ intact: true, eventsChecked: 12_345, lastPosition: position(12_345) });
    await store.appendToStream('new-1', events(1), { expectedRevision: NO_STREAM });
    expect(await store.verifyLog({ fromPosition: position(12_340) })).toEqual({ intact: true, eventsChecked: 7, lastPosition: position(12_346) });
  });

  it('goes on from the chain\'s head where hashing an older log stopped short, as after a start that was killed', async () => {
    await writeFiveAndClose();
    // What a cut-short adoption leaves: hashed rows up to the head, unhashed ones after it.
    writeUnhashedRows(7_000, 'old-after-head');
    const store = open();
    expect(await store.verifyLog()).toEqual({ intact: true, eventsChecked: 7_005, lastPosition: position(7_005) });
    expect((await store.readStream('old-after-head')).at(-1)?.data).toEqual({ amount: 6_999 });
  });

  it('verifies a log whose older links are JSON-array links and whose newer ones are length-prefixed, and finds edits in either', async () => {
    await writeFiveAndClose();
    // Relink positions 1..5 as the versions before length-prefixed links wrote them.
    const raw = new Database(file);
    raw.defaultSafeIntegers(true);
    const { log_id: logId } = raw.prepare('SELECT log_id FROM log_identity').get() as { log_id: string };
    let previous = logId;
    for (const row of raw.prepare('SELECT * FROM events ORDER BY position').all() as Record<string, string & bigint>[]) {
      previous = chainHash(previous, [row.position, row.stream_name, row.revision, row.event_id, row.type, row.data, row.metadata, row.recorded_at]);
      raw.prepare('UPDATE events SET hash = ? WHERE position = ?').run(previous, row.position);
    }
    raw.prepare('UPDATE log_identity SET head_hash = ?').run(previous);
    raw.close();

    const store = open();
    await store.appendToStream('ledger-3', events(2), { expectedRevision: NO_STREAM });
    expect(await store.verifyLog()).toEqual({ intact: true, eventsChecked: 7, lastPosition: position(7) });
    const links = new Database(file, { readonly: true });
    const stored = links.prepare('SELECT hash FROM events ORDER BY position').pluck().all() as string[];
    links.close();
    expect(stored.slice(0, 5).every((link) => /^[0-9a-f]{64}$/.test(link))).toBe(true);
    expect(stored.slice(5).every((link) => link.startsWith(LENGTH_PREFIXED_LINK))).toBe(true);
    await Promise.all(opened.splice(0).map((each) => each.close()));

    edit(`UPDATE events SET data = '{"amount":1}' WHERE position = 6`);
    expect(await open().verifyLog()).toMatchObject({ intact: false, eventsChecked: 5, firstBad: { position: position(6), reason: 'altered' } });
    await Promise.all(opened.splice(0).map((each) => each.close()));
    edit(`UPDATE events SET data = '{"amount":1}' WHERE position = 2`);
    expect(await open().verifyLog()).toMatchObject({ intact: false, eventsChecked: 1, firstBad: { position: position(2), reason: 'altered' } });
  });

  it('does not take an older link passed off as a length-prefixed one', async () => {
    await writeFiveAndClose();
    edit(`UPDATE events SET hash = '${LENGTH_PREFIXED_LINK}' || hash WHERE position = 3`);
    expect(await open().verifyLog()).toMatchObject({ intact: false, firstBad: { position: position(3), reason: 'altered' } });
  });

  it('a file that reported corruption takes no further append, even once the file answers again', async () => {
    const store = open();
    const batches = store as unknown as { commitBatch: (batch: unknown[]) => unknown };
    const realCommit = batches.commitBatch;
    batches.commitBatch = () => {
      throw Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
    };
    await expect(store.appendToStream('a-1', events(1), { expectedRevision: NO_STREAM })).rejects.toMatchObject({ kind: 'corrupt' });
    batches.commitBatch = realCommit;
    await expect(store.appendToStream('a-2', events(1), { expectedRevision: NO_STREAM })).rejects.toBeInstanceOf(StorageFailureError);
    expect(await store.headPosition()).toBeUndefined();
  });
});
