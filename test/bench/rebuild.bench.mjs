// A rebuild of every registered projection from the start of a log in one pass, as `npm run cli --
// projections rebuild --all` does it (built dist/), in its own process so its resident memory is its own;
// `npm run bench` starts it with the CLI's node flags (`cliNodeArgs`). Prints one JSON line, with the
// time to the last folded batch, the time building the deferred indexes after it, and the CPU time
// of all the process's threads over the whole rebuild (it moves with the machine's speed, which the
// wall time alone cannot tell from waiting), also as its user and kernel parts (the kernel's
// includes SQLite's reads and writes of pages, one system call each).
// `--projections a,b` rebuilds only those: "Where a rebuild spends its time" in the README gives each
// projection rebuilt alone. On a machine whose speed moves from minute to minute, the whole rebuild
// less the rebuild without one projection moved with the machine more than with the projection
// (docs/benchmark-history.md, "Forty-eighth round").
// Usage: node [--max-semi-space-size=32 --heap-growing-percent=50] test/bench/rebuild.bench.mjs --data-dir <dir with events.db> [--projections a,b]
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { root, rssMb } from './support/processes.mjs';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, projections: { type: 'string' } } });
const dataDir = values['data-dir'];
const require = createRequire(import.meta.url);
const built = (path) => require(join(root, 'dist', path));
const { configFromEnv } = built('libs/engine/src/config/engine-config.js');
const { openEventStore, openReadModels } = built('libs/engine/src/stores/stores.js');
const { ProjectionOperations, REBUILD_READ_STORE } = built('libs/engine/src/projections/projection-operations.js');
const { projectionRegistry } = built('libs/read-models/src/index.js');

for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `read-models.db${suffix}`), { force: true });
const config = configFromEnv({ DATA_DIR: dataDir });
const store = openEventStore(config);
const db = await openReadModels(config, projectionRegistry, REBUILD_READ_STORE);
try {
  const operations = new ProjectionOperations(store, db, projectionRegistry);
  const events = Number((await store.headPosition())?.commit ?? 0n);
  const names = values.projections?.split(',') ?? projectionRegistry.map(({ name }) => name);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let lastBatchAt = started;
  let indexesStartedAt;
  const results = await operations.rebuildTogether(names, {
    onProgress: () => (lastBatchAt = performance.now()),
    onIndexProgress: () => (indexesStartedAt ??= performance.now()),
  });
  const finished = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const projections = results.map(({ name, generation, eventsFolded }) => ({ name, generation, eventsFolded }));
  const seconds = (finished - started) / 1000;
  const tenths = (milliseconds) => Math.round(milliseconds / 100) / 10;
  console.log(
    JSON.stringify({
      events,
      projections,
      seconds: Math.round(seconds * 10) / 10,
      foldSeconds: tenths(lastBatchAt - started),
      indexSeconds: indexesStartedAt === undefined ? 0 : tenths(finished - indexesStartedAt),
      eventsPerSecond: Math.round(events / seconds),
      cpuSeconds: tenths((cpu.user + cpu.system) / 1000),
      userCpuSeconds: tenths(cpu.user / 1000),
      kernelCpuSeconds: tenths(cpu.system / 1000),
      rssMb: rssMb(process.pid),
    }),
  );
} finally {
  await store.close();
  await db.destroy();
}
