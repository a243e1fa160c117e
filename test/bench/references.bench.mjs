// The machine's and SQLite's own limits, measured in the same run as the engine: fsync of a 4 KiB
// write, raw better-sqlite3 appends with synchronous=FULL (1 and 100 per transaction) into a table
// shaped like the log's (small sample events, and events the size of a purchase's), and (with
// --scan <file>) a raw scan of a log file with JSON.parse; with --batched-only, the 100-per-transaction
// appends alone. Prints one JSON line.
// Usage: node test/bench/references.bench.mjs --dir <tmp> [--scan <events.db> | --batched-only]
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
    'batched-only': { type: 'boolean', default: false },
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
const SAMPLE_EVENTS = [{ type: 'OrderPlaced', data: SAMPLE_DATA, metadata: SAMPLE_METADATA }];

/**
 * A one-line purchase appends three events whose stored JSON is about this long (the engine's log:
 * OrderPlaced, SubscriptionStarted with its installment schedule, the first InstallmentBilled; the
 * bus benchmark prints the engine's own average beside this one, so a drift shows).
 */
const PURCHASE_EVENT_SIZES = [
  { type: 'OrderPlaced', dataBytes: 812 },
  { type: 'SubscriptionStarted', dataBytes: 1977 },
  { type: 'InstallmentBilled', dataBytes: 289 },
];
const PURCHASE_METADATA_BYTES = 139;

/** JSON of exactly `bytes` characters: `sample` with a filler field. */
function jsonOfLength(sample, bytes) {
  const filler = bytes - JSON.stringify({ ...sample, filler: '' }).length;
  if (filler < 0) throw new Error(`the sample is longer than ${bytes} characters`);
  return JSON.stringify({ ...sample, filler: 'x'.repeat(filler) });
}

const PURCHASE_EVENTS = PURCHASE_EVENT_SIZES.map(({ type, dataBytes }) => ({
  type,
  data: jsonOfLength({ orderId: '0195f0c4-2b1e-7c3a-9d4e-5f6a7b8c9d0e', partnerId: 'partner-bench' }, dataBytes),
  metadata: jsonOfLength({ correlationId: 'bench', commandType: 'PurchaseSoftware' }, PURCHASE_METADATA_BYTES),
}));

function bytesPerEvent(events) {
  return Math.round(events.reduce((sum, { data, metadata }) => sum + data.length + metadata.length, 0) / events.length);
}

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

/** Events per second appended by plain inserts of `events` in turn, `perTransaction` to a commit, durable (WAL, FULL). */
function rawAppends(dir, count, perTransaction, events = SAMPLE_EVENTS) {
  const db = new Database(join(dir, `raw-${perTransaction}-${bytesPerEvent(events)}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT, stream_name TEXT NOT NULL, revision INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
    recorded_at TEXT NOT NULL, UNIQUE (stream_name, revision)) STRICT`);
  const insert = db.prepare('INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, 0, ?, ?, ?, ?, ?)');
  const commit = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const { type, data, metadata } = events[i % events.length];
      insert.run(`order-${i}`, crypto.randomUUID(), type, data, metadata, new Date().toISOString());
    }
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
  const cpuBefore = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpuBefore);
  db.close();
  return { events: count, seconds: round(seconds, 2), eventsPerSecond: Math.round(count / seconds), cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2) };
}

function round(value, digits) {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

const dir = mkdtempSync(join(values.dir, 'references-'));
try {
  const batchedAppends = () => ({
    rawAppendsPerTransaction100: rawAppends(dir, Number(values.batched), 100),
    rawAppendBytesPerEvent: bytesPerEvent(SAMPLE_EVENTS),
    rawAppendsPerTransaction100PurchaseSized: rawAppends(dir, Number(values.batched), 100, PURCHASE_EVENTS),
    purchaseSizedBytesPerEvent: bytesPerEvent(PURCHASE_EVENTS),
  });
  const figures = values.scan
    ? { scan: rawScan(values.scan) }
    : values['batched-only']
      ? batchedAppends()
      : {
          fsync4KiBPerSecond: fsyncWrites(dir, Number(values.fsyncs)),
          rawAppendsPerTransaction1: rawAppends(dir, Number(values.single), 1),
          ...batchedAppends(),
        };
  console.log(JSON.stringify(figures));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
