/**
 * Append throughput of the SQLite store with durable acknowledgements (synchronous=FULL):
 * one append at a time versus 100 concurrent single-event appends sharing group commits.
 *
 * ts-node is not installed, so compile and run (relative imports keep path aliases out of it):
 *   npx tsc --outDir /tmp/bench --strict --module commonjs --target ES2022 --esModuleInterop --skipLibCheck test/bench/sqlite-append.bench.ts
 *   NODE_PATH=$PWD/node_modules node /tmp/bench/test/bench/sqlite-append.bench.js
 * BENCH_DIR chooses the directory (and so the disk) of the database file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4, v7 } from 'uuid';
import { NO_STREAM } from '../../libs/event-store/src/event-store.port';
import { SqliteEventStore, type CommittedBatch } from '../../libs/event-store/src/sqlite/sqlite-event-store';

const SEQUENTIAL_APPENDS = 1000;
const CONCURRENCY = 100;
const APPENDS_PER_CALLER = 50;

function appendOne(store: SqliteEventStore) {
  return store.appendToStream(
    `order-${v7()}`,
    [{ id: v4(), type: 'OrderPlaced', data: { amountMinor: 4200, currency: 'EUR', placedAt: new Date().toISOString() } }],
    { expectedRevision: NO_STREAM },
  );
}

async function measure(label: string, appends: number, run: (store: SqliteEventStore) => Promise<void>) {
  const dir = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'sqlite-append-bench-'));
  const batches: CommittedBatch[] = [];
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { onBatchCommitted: (b) => batches.push(b) });
  try {
    const started = performance.now();
    await run(store);
    const seconds = (performance.now() - started) / 1000;
    const commitMs = batches.reduce((sum, b) => sum + b.durationMs, 0) / batches.length;
    console.log(
      `${label.padEnd(34)} ${Math.round(appends / seconds).toString().padStart(7)} appends/s` +
        `  (${appends} appends, ${batches.length} transactions, ${(appends / batches.length).toFixed(1)} appends/transaction,` +
        ` ${commitMs.toFixed(2)} ms/transaction)`,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  await measure('sequential, 1 at a time', SEQUENTIAL_APPENDS, async (store) => {
    for (let i = 0; i < SEQUENTIAL_APPENDS; i++) await appendOne(store);
  });
  await measure(`concurrent, ${CONCURRENCY} callers`, CONCURRENCY * APPENDS_PER_CALLER, async (store) => {
    const caller = async () => {
      for (let i = 0; i < APPENDS_PER_CALLER; i++) await appendOne(store);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
