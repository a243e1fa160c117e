import { resolve } from 'node:path';

/** Everything the service reads from its environment, read once at start. */
export interface EngineConfig {
  port: number;
  dataDir: string;
  production: boolean;
  /** `esdb://...` selects EventStoreDB; absent: the embedded SQLite store under `dataDir`. */
  eventStoreConnectionString?: string;
  /** `postgres://...` puts the read models on PostgreSQL; absent: SQLite under `dataDir`. */
  readModelsConnectionString?: string;
  /** PostgreSQL schema for the read models (created when missing); the server's search_path when absent. */
  readModelsSchema?: string;
  catalogueFile?: string;
  /** How long a query waits for X-Min-Position before 503 PROJECTION_LAGGING. */
  minPositionWaitMs: number;
  /** How often the lifecycle scheduler looks for due renewals, expiries and installments. */
  schedulerIntervalMs: number;
  /**
   * `in-process` (default): this process runs the projection and the scheduler.
   * `external`: a projector process does; the api only reads its checkpoint.
   */
  projections: 'in-process' | 'external';
  /**
   * `KEY_ENCRYPTION_KEY`: the master key that wraps the data keys of product keys (32 bytes, base64 or
   * hex). Absent: a development key under `dataDir`; required when `production`.
   */
  keyEncryptionKey?: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const port = Number(env['PORT'] ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env['PORT']}`);
  const config: EngineConfig = {
    port,
    dataDir: resolve(env['DATA_DIR'] ?? './data'),
    production: env['NODE_ENV'] === 'production',
    minPositionWaitMs: 5000,
    schedulerIntervalMs: schedulerInterval(env['SCHEDULER_INTERVAL_MS']),
    projections: env['PROJECTIONS'] === 'external' ? 'external' : 'in-process',
  };
  if (env['EVENTSTORE_CONNECTION_STRING']) config.eventStoreConnectionString = env['EVENTSTORE_CONNECTION_STRING'];
  if (env['READ_MODELS_DATABASE_URL']) config.readModelsConnectionString = env['READ_MODELS_DATABASE_URL'];
  if (env['READ_MODELS_SCHEMA']) config.readModelsSchema = env['READ_MODELS_SCHEMA'];
  if (env['CATALOGUE_FILE']) config.catalogueFile = env['CATALOGUE_FILE'];
  if (env['KEY_ENCRYPTION_KEY']) config.keyEncryptionKey = env['KEY_ENCRYPTION_KEY'];
  return config;
}

/** Milliseconds, at least one second: a typo like `60s` must not turn into a pass every millisecond. */
function schedulerInterval(text: string | undefined): number {
  if (text === undefined) return 60_000;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 1000) throw new Error(`SCHEDULER_INTERVAL_MS must be whole milliseconds, at least 1000, got ${text}`);
  return ms;
}
