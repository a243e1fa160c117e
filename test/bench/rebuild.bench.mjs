// A rebuild of every registered projection from the start of a log in one pass, as `npm run cli --
// projections rebuild --all` does it (built dist/), in its own process so its resident memory is its own;
// `npm run bench` starts it with the CLI's node flags (`cliNodeArgs`). Prints one JSON line.
// Usage: node [--max-semi-space-size=32] test/bench/rebuild.bench.mjs --data-dir <dir with events.db>
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { root, rssMb } from './support/processes.mjs';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
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
  const started = performance.now();
  const results = await operations.rebuildTogether(projectionRegistry.map(({ name }) => name));
  const projections = results.map(({ name, generation, eventsFolded }) => ({ name, generation, eventsFolded }));
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      events,
      projections,
      seconds: Math.round(seconds * 10) / 10,
      eventsPerSecond: Math.round(events / seconds),
      rssMb: rssMb(process.pid),
    }),
  );
} finally {
  await store.close();
  await db.destroy();
}
