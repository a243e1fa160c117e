// The machine's and SQLite's own limits, measured in the same run as the engine: fsync of a 4 KiB
// write, raw better-sqlite3 appends with synchronous=FULL (1 and 100 per transaction) into a table
// shaped like the log's, and (with --scan <file>) a raw scan of a log file with JSON.parse.
// Prints one JSON line. Usage: node test/bench/references.bench.mjs --dir <tmp> [--scan <events.db>]
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    scan: { type: 'string' },
    fsyncs: { type: 'string', default: '400' },
    single: { type: 'string', default: '400' },
    batched: { type: 'string', default: '20000' },
  },
});

const SAMPLE_DATA = JSON.stringify({
  orderId: '0195f0c4-2b1e-7c3a-9d4e-5f6a7b8c9d0e',
  partnerId: 'partner-bench',
  customerId: '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f',
  lineItems: [{ lineItemNumber: 1, skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'monthly', unitPrice: { amount: 84100, currency: 'EUR' } }],
  placedAt: '2026-03-01T09:00:00.000Z',
});
const SAMPLE_METADATA = JSON.stringify({ correlationId: 'bench', userId: 'dev-user', tenantId: 'partner-bench', principalKind: 'partner', commandType: 'PurchaseSoftware', schemaVersion: 1 });

function perSecond(count, startedMs) {
  return Math.round(count / ((performance.now() - startedMs) / 1000));
}

function fsyncWrites(dir, count) {
  const file = join(dir, 'fsync.bin');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 7);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    writeSync(fd, block, 0, block.length, 0);
    fsyncSync(fd);
  }
  const result = perSecond(count, started);
  closeSync(fd);
  return result;
}

/** Events per second appended by plain inserts, `perTransaction` to a commit, durable (WAL, FULL). */
function rawAppends(dir, count, perTransaction) {
  const db = new Database(join(dir, `raw-${perTransaction}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT, stream_name TEXT NOT NULL, revision INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
    recorded_at TEXT NOT NULL, UNIQUE (stream_name, revision)) STRICT`);
  const insert = db.prepare('INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, 0, ?, ?, ?, ?, ?)');
  const commit = db.transaction((from, to) => {
    for (let i = from; i < to; i++) insert.run(`order-${i}`, crypto.randomUUID(), 'OrderPlaced', SAMPLE_DATA, SAMPLE_METADATA, new Date().toISOString());
  });
  const started = performance.now();
  for (let i = 0; i < count; i += perTransaction) commit(i, Math.min(count, i + perTransaction));
  const result = perSecond(count, started);
  db.close();
  return result;
}

/** Every event of a log file read in position order, data and metadata parsed: the floor under any rebuild. */
function rawScan(file) {
  const db = new Database(file, { readonly: true });
  const select = db.prepare('SELECT position, stream_name, revision, event_id, type, data, metadata, recorded_at FROM events WHERE position > ? ORDER BY position LIMIT 5000');
  const started = performance.now();
  let count = 0;
  let after = 0;
  for (;;) {
    const rows = select.all(after);
    if (rows.length === 0) break;
    for (const row of rows) {
      JSON.parse(row.data);
      JSON.parse(row.metadata);
    }
    count += rows.length;
    after = rows.at(-1).position;
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return { events: count, seconds: round(seconds, 2), eventsPerSecond: Math.round(count / seconds) };
}

function round(value, digits) {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

const dir = mkdtempSync(join(values.dir, 'references-'));
try {
  const figures = values.scan
    ? { scan: rawScan(values.scan) }
    : {
        fsync4KiBPerSecond: fsyncWrites(dir, Number(values.fsyncs)),
        rawAppendsPerTransaction1: rawAppends(dir, Number(values.single), 1),
        rawAppendsPerTransaction100: rawAppends(dir, Number(values.batched), 100),
      };
  console.log(JSON.stringify(figures));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
