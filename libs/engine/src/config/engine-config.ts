import { resolve } from 'node:path';

/** Everything the service reads from its environment, read once at start. */
export interface EngineConfig {
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
   * `worker` (default on the embedded SQLite log): this process runs the projections in a worker
   * thread, so folding never holds up a request, and the scheduler on its main thread.
   * `in-process`: both on the main thread (the default on EventStoreDB, and what tests running the
   * TypeScript sources use: a worker thread needs the built code).
   * `external`: a projector process does; the api only reads its checkpoints.
   */
  projections: ProjectionsMode;
  /**
   * `PROJECTION_WORKER_NICE`: how many nice levels the projection worker thread runs below the
   * threads that answer and commit commands (0 to 19; Linux only). 0, the default, keeps read models
   * as fresh as the machine allows; a burst of commands gets more of the CPU at a higher value,
   * while reads with X-Min-Position wait longer (see the README's "Environment").
   */
  projectionWorkerNice: number;
  /**
   * `KEY_ENCRYPTION_KEY`: the master key that wraps the data keys of product keys (32 bytes, base64 or
   * hex). Absent: a development key under `dataDir`; required when `production`.
   */
  keyEncryptionKey?: string;
  /** `AUTH_MAX_TOKEN_LIFETIME_SECONDS`: the longest a bearer token may live (exp − iat), so a far `exp` is not forever. */
  maxTokenLifetimeSeconds: number;
  /** Limits of the Node HTTP server, so slow or oversized requests cannot hold connections forever. */
  http: HttpServerLimits;
  /** Webhook delivery: `WEBHOOK_RETRY_BASE_MS`, `WEBHOOK_RETRY_WINDOW_MS`, `WEBHOOK_ALLOWED_HOSTS`. */
  webhooks: WebhookConfig;
}

export type ProjectionsMode = 'in-process' | 'worker' | 'external';

export interface WebhookConfig {
  /** Wait before the first retry of a failed delivery (default 5 s), doubling up to `retryMaxMs`. */
  retryBaseMs: number;
  /** The longest wait between two attempts: 1 h. */
  retryMaxMs: number;
  /** How long one event may keep failing before its endpoint is disabled (default 24 h). */
  retryWindowMs: number;
  /** Host names or addresses that may be loopback or private, and plain http (comma-separated in the environment). */
  allowedHosts: string[];
  /** An attempt without an answer within this counts as failed. */
  attemptTimeoutMs: number;
}

export interface HttpServerLimits {
  /** `HTTP_HEADERS_TIMEOUT_MS`: the whole header block must arrive within this (then 408). */
  headersTimeoutMs: number;
  /** `HTTP_REQUEST_TIMEOUT_MS`: the whole request, body included, must arrive within this (then 408). */
  requestTimeoutMs: number;
  /** `HTTP_MAX_HEADER_BYTES`: a larger header block is answered 431. */
  maxHeaderBytes: number;
  /** `HTTP_MAX_CONNECTIONS`: connections beyond this are closed at once. */
  maxConnections: number;
}

/** Where the stores live unless `DATA_DIR` says otherwise; the CLI's token command looks there too. */
export const DEFAULT_DATA_DIR = './data';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const config: EngineConfig = {
    // Empty counts as unset, as for the numeric settings below: `DATA_DIR=` must not put the stores in the working directory.
    dataDir: resolve(env['DATA_DIR'] || DEFAULT_DATA_DIR),
    production: env['NODE_ENV'] === 'production',
    minPositionWaitMs: 5000,
    schedulerIntervalMs: schedulerInterval(env['SCHEDULER_INTERVAL_MS']),
    projections: projectionsMode(env['PROJECTIONS'], env['EVENTSTORE_CONNECTION_STRING']),
    projectionWorkerNice: boundedInteger(env, 'PROJECTION_WORKER_NICE', 0, 0, 19),
    maxTokenLifetimeSeconds: positiveInteger(env, 'AUTH_MAX_TOKEN_LIFETIME_SECONDS', 24 * 3600, 60),
    http: {
      headersTimeoutMs: positiveInteger(env, 'HTTP_HEADERS_TIMEOUT_MS', 20_000, 100),
      requestTimeoutMs: positiveInteger(env, 'HTTP_REQUEST_TIMEOUT_MS', 60_000, 100),
      maxHeaderBytes: positiveInteger(env, 'HTTP_MAX_HEADER_BYTES', 16_384, 1024),
      maxConnections: positiveInteger(env, 'HTTP_MAX_CONNECTIONS', 1000, 1),
    },
    webhooks: {
      retryBaseMs: positiveInteger(env, 'WEBHOOK_RETRY_BASE_MS', 5_000, 1),
      retryMaxMs: 3_600_000,
      retryWindowMs: positiveInteger(env, 'WEBHOOK_RETRY_WINDOW_MS', 86_400_000, 1),
      allowedHosts: (env['WEBHOOK_ALLOWED_HOSTS'] ?? '').split(',').map((host) => host.trim().toLowerCase()).filter(Boolean),
      attemptTimeoutMs: 10_000,
    },
  };
  if (config.http.requestTimeoutMs < config.http.headersTimeoutMs) {
    throw new Error(`HTTP_REQUEST_TIMEOUT_MS (${config.http.requestTimeoutMs}) must not be shorter than HTTP_HEADERS_TIMEOUT_MS (${config.http.headersTimeoutMs})`);
  }
  if (config.projectionWorkerNice > 0 && config.projections !== 'worker') {
    throw new Error(`PROJECTION_WORKER_NICE lowers the projection worker thread's priority; with PROJECTIONS=${config.projections} there is none`);
  }
  if (env['EVENTSTORE_CONNECTION_STRING']) config.eventStoreConnectionString = env['EVENTSTORE_CONNECTION_STRING'];
  if (env['READ_MODELS_DATABASE_URL']) config.readModelsConnectionString = env['READ_MODELS_DATABASE_URL'];
  if (env['READ_MODELS_SCHEMA']) config.readModelsSchema = env['READ_MODELS_SCHEMA'];
  if (env['CATALOGUE_FILE']) config.catalogueFile = env['CATALOGUE_FILE'];
  if (env['KEY_ENCRYPTION_KEY']) config.keyEncryptionKey = env['KEY_ENCRYPTION_KEY'];
  return config;
}

function projectionsMode(text: string | undefined, eventStoreConnectionString: string | undefined): ProjectionsMode {
  if (text === undefined || text === '') return eventStoreConnectionString ? 'in-process' : 'worker';
  if (text === 'in-process' || text === 'external') return text;
  if (text === 'worker') {
    // The worker is told of each commit by the writer beside it; EventStoreDB's subscriptions need no such signal.
    if (eventStoreConnectionString) throw new Error('PROJECTIONS=worker runs on the embedded SQLite log; with EVENTSTORE_CONNECTION_STRING use in-process or external');
    return text;
  }
  throw new Error(`PROJECTIONS must be worker, in-process or external, got ${text}`);
}

/** Milliseconds, at least one second: a typo like `60s` must not turn into a pass every millisecond. */
function schedulerInterval(text: string | undefined): number {
  if (text === undefined) return 60_000;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 1000) throw new Error(`SCHEDULER_INTERVAL_MS must be whole milliseconds, at least 1000, got ${text}`);
  return ms;
}

/** A whole number of at least `minimum`, so a typo (`20s`, `0`) cannot switch a limit off. */
function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, minimum: number): number {
  return boundedInteger(env, name, fallback, minimum, Number.POSITIVE_INFINITY);
}

function boundedInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, minimum: number, maximum: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    const range = maximum === Number.POSITIVE_INFINITY ? `, at least ${minimum}` : ` from ${minimum} to ${maximum}`;
    throw new Error(`${name} must be a whole number${range}, got ${text}`);
  }
  return value;
}
