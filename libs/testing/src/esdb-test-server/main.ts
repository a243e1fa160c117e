/**
 * Runs the EventStoreDB test server on its own, for the api or a manual client to talk to.
 *
 * @example
 *   npm run esdb:test-server -- --port 2113 [--host 127.0.0.1] [--db var/esdb-test.ndjson] [--no-batch-append]
 *     [--max-append-size 1048576] [--no-system-events]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_APPEND_SIZE, startEsdbTestServer } from './esdb-test-server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '2113' },
      host: { type: 'string', default: '127.0.0.1' },
      db: { type: 'string' },
      'no-batch-append': { type: 'boolean', default: false },
      'max-append-size': { type: 'string', default: String(DEFAULT_MAX_APPEND_SIZE) },
      'no-system-events': { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got ${values.port}`);
  const maxAppendSize = Number(values['max-append-size']);
  if (!Number.isSafeInteger(maxAppendSize) || maxAppendSize < 1) {
    throw new Error(`--max-append-size must be a positive number of bytes, got ${values['max-append-size']}`);
  }
  const server = await startEsdbTestServer({
    port,
    host: values.host,
    file: values.db,
    batchAppend: !values['no-batch-append'],
    systemEvents: !values['no-system-events'],
    maxAppendSize,
  });
  console.log(`EventStoreDB test server listening on ${server.host}:${server.port} (${server.connectionString})`);
  const shutdown = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
