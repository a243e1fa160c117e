import { createHash, randomBytes } from 'node:crypto';

/**
 * Names of the PostgreSQL schemas the e2e suite puts read models in. Every test run on this machine
 * shares one database, and a run's teardown must not drop the schemas of another run still going (a
 * CI clone beside a local `npm test`; the likeliest cause of one app that failed at its start with
 * "relation read_store_log_binding does not exist"). So each run names its schemas
 * `csp_e2e_<run>_<data directory hash>`, where `<run>` is the second it started in base 36 and a
 * random part, and its teardown drops its own and those of runs started more than a day ago.
 */
const PREFIX = 'csp_e2e_';
/** Where a run's name passes from jest's global setup to its workers and its teardown. */
export const SCHEMA_RUN_ENV = 'CSP_E2E_SCHEMA_RUN';
const STALE_AFTER_SECONDS = 24 * 60 * 60;

function newRun(now: Date): string {
  return `${Math.floor(now.getTime() / 1000).toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Names this run's schemas from now on; the jest workers started after it inherit the name. */
export function startSchemaRun(now = new Date()): string {
  return (process.env[SCHEMA_RUN_ENV] = newRun(now));
}

/** The schema of a data directory's read models: the same for every restart on that directory in this run. */
export function readModelsSchemaFor(dataDir: string): string {
  return `${PREFIX}${currentSchemaRun()}_${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`;
}

/**
 * Whether this run's teardown drops `schema`: the run's own, a run's older than a day (one killed
 * before its teardown), and names without a run (written before runs were named).
 */
export function isSweptAfterRun(schema: string, run: string, now = new Date()): boolean {
  if (!schema.startsWith(PREFIX)) return false;
  const parts = schema.slice(PREFIX.length).split('_');
  if (parts.length !== 3) return parts.length === 1;
  const [started, random] = parts;
  if (`${started}_${random}` === run) return true;
  const startedAt = parseInt(started!, 36);
  return Number.isFinite(startedAt) && now.getTime() / 1000 - startedAt > STALE_AFTER_SECONDS;
}

/** The run `startSchemaRun` named, in jest's process (the teardown) or a worker it started. */
export function currentSchemaRun(): string {
  const run = process.env[SCHEMA_RUN_ENV];
  if (run === undefined) throw new Error(`${SCHEMA_RUN_ENV} is not set: the e2e-postgres global setup did not name this run`);
  return run;
}
