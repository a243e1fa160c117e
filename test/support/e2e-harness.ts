import { signToken } from '@csp/application/auth/jwt';
import type { PrincipalKind, Role } from '@csp/application/auth/principal';
import { ManualClock } from '@csp/testing/manual-clock';
import { EVENT_CODEC, EVENT_STORE } from '@csp/application/tokens';
import type { EventCodec, EventStore, RecordedEvent } from '@csp/event-store';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { AppModule } from '../../apps/api/src/app.module';
import { configFromEnv, type EngineConfig } from '@csp/engine/config/engine-config';
import { configureHttp, createHttpAdapter } from '../../apps/api/src/http/configure-http';
import { LifecycleTicker } from '@csp/engine/scheduling/lifecycle-ticker.service';
import { openEventStore } from '@csp/engine/stores/stores';
import { startEsdbTestServer, type EsdbTestServer } from '@csp/testing/esdb-test-server';
import { TEST_POSTGRES_URL } from '@csp/testing/test-postgres-url';
import { readModelsSchemaFor } from './e2e-schema-names';
import { checkingAnswers, validatorFor, type OpenApiAnswerValidator } from './openapi-answer-validator';

/**
 * `E2E_EVENT_STORE=esdb` runs the same e2e suite on the EventStoreDB adapter, over real gRPC to the
 * EventStoreDB-protocol test server (its log kept in the data directory, so restarts find it again).
 */
const onEventStoreDb = (): boolean => process.env['E2E_EVENT_STORE'] === 'esdb';

/**
 * `E2E_READ_MODELS=postgres` runs the same e2e suite with the read models in the real PostgreSQL,
 * in a schema named after the data directory, so a restart on the same directory finds them again.
 */
const onPostgres = (): boolean => process.env['E2E_READ_MODELS'] === 'postgres';

async function onTestPostgres<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export const TEST_JWT_SECRET = 'e2e-secret-that-is-long-enough-for-hs256-0123456789';

export interface TokenSpec {
  roles: Role[];
  kind?: PrincipalKind;
  /** Partner id, or the customer's tenant GUID for customer users. */
  tenant?: string;
  sub?: string;
  name?: string;
}

export interface StartOptions {
  /** Reuse a data directory (restart tests); a fresh temp directory otherwise. */
  dataDir?: string;
  /** Where the test clock starts. */
  now?: string;
  env?: NodeJS.ProcessEnv;
  /** Wraps the store the app would open (fault injection); the app then uses the wrapper everywhere. */
  wrapEventStore?: (store: EventStore) => EventStore;
  /** Changes the served OpenAPI document before answers are checked against it (the test that the check bites). */
  adjustOpenApiDocument?: (document: Record<string, unknown>) => Record<string, unknown>;
}


/**
 * The real service over HTTP for e2e tests: real SQLite files in a temp DATA_DIR, a ManualClock,
 * a known JWT secret. `http()` is a supertest agent; `events()` reads the real log.
 *
 * @example
 *   const app = await E2eApp.start();
 *   const admin = await app.token({ roles: ['AdminAgent'] });
 *   await app.http().post('/v1/customers').set('Authorization', admin).send({...}).expect(201);
 *   await app.stop();
 */
export class E2eApp {
  private constructor(
    readonly app: INestApplication,
    readonly clock: ManualClock,
    readonly dataDir: string,
    /** The environment the app was configured from (another process on the same stores reuses it). */
    readonly env: NodeJS.ProcessEnv,
    private readonly ownsDataDir: boolean,
    private readonly esdbServer: EsdbTestServer | undefined,
    /** Every answer of `http()` is checked against the served OpenAPI document. */
    private readonly answers: OpenApiAnswerValidator,
  ) {}

  static start(options: StartOptions = {}): Promise<E2eApp> {
    return E2eApp.open(options.dataDir ?? mkdtempSync(join(tmpdir(), 'csp-e2e-')), options, options.dataDir === undefined);
  }

  /**
   * Stops this app keeping its data and starts another on the same directory, which then owns the
   * directory as this one did: a temporary directory is still removed when the restarted app stops.
   */
  async restart(options: Omit<StartOptions, 'dataDir'> = {}): Promise<E2eApp> {
    await this.stop({ keepData: true });
    return E2eApp.open(this.dataDir, options, this.ownsDataDir);
  }

  private static async open(dataDir: string, options: StartOptions, ownsDataDir: boolean): Promise<E2eApp> {
    const clock = new ManualClock(options.now ?? '2026-11-30T08:00:00.000Z');
    const esdbServer = onEventStoreDb() ? await startEsdbTestServer({ port: 0, file: join(dataDir, 'esdb-log.jsonl') }) : undefined;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      DATA_DIR: dataDir,
      ...(esdbServer ? { EVENTSTORE_CONNECTION_STRING: esdbServer.connectionString } : {}),
      ...(onPostgres() ? { READ_MODELS_DATABASE_URL: TEST_POSTGRES_URL, READ_MODELS_SCHEMA: readModelsSchemaFor(dataDir) } : {}),
    };
    const fromEnv = configFromEnv(env);
    // jest runs the TypeScript sources and a worker thread needs the built code: the projections
    // fold on the main thread here; the smoke suite runs the built service with its worker.
    const projections = fromEnv.projections === 'worker' ? 'in-process' : fromEnv.projections;
    const config: EngineConfig = { ...fromEnv, projections, schedulerIntervalMs: 3_600_000 };
    const builder = Test.createTestingModule({
      imports: [AppModule.forRoot({ config, env, clock, jwtSecret: TEST_JWT_SECRET })],
    });
    const wrap = options.wrapEventStore;
    const moduleRef = await (
      wrap ? builder
            .overrideProvider(EVENT_STORE)
            .useFactory({ factory: (codec: EventCodec) => wrap(openEventStore(config, codec)), inject: [EVENT_CODEC] }) : builder
    ).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(), { logger: false, bodyParser: false });
    configureHttp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const answers = validatorFor((await request(app.getHttpServer()).get('/docs-json').expect(200)).text, options.adjustOpenApiDocument);
    return new E2eApp(app, clock, dataDir, env, ownsDataDir, esdbServer, answers);
  }

  /** A supertest agent whose every answer must match the served OpenAPI document (status, media type, body, contract headers). */
  http() {
    return checkingAnswers(request(this.app.getHttpServer()), this.answers);
  }

  /** `Bearer <jwt>` for the given roles (partner `partner-1` unless told otherwise). */
  async token(spec: TokenSpec): Promise<string> {
    const token = await signToken(
      {
        sub: spec.sub ?? `user-${spec.roles.join('-') || 'none'}`,
        tid: spec.tenant ?? 'partner-1',
        kind: spec.kind ?? 'partner',
        roles: spec.roles,
        ...(spec.name ? { name: spec.name } : {}),
      },
      TEST_JWT_SECRET,
      { expiresIn: '1h' },
    );
    return `Bearer ${token}`;
  }

  get eventStore(): EventStore {
    return this.app.get<EventStore>(EVENT_STORE);
  }

  /** Every event in the log, oldest first. */
  async events(): Promise<RecordedEvent[]> {
    const all: RecordedEvent[] = [];
    for await (const event of this.eventStore.readAll()) all.push(event);
    return all;
  }

  /** Runs the lifecycle scheduler once at the clock's current time and waits for the read models. */
  async runScheduler(): Promise<void> {
    await this.app.get(LifecycleTicker).runNow();
  }

  /** Stops the app; keeps the data directory when `keepData` (restart tests) or when it was passed in. */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    await this.app.close();
    await this.esdbServer?.stop();
    if (this.ownsDataDir && !options.keepData) {
      await E2eApp.discardReadModels(this.dataDir);
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  /** Throws away the read store of a stopped app's data directory, whichever dialect holds it; the log stays. */
  static async discardReadModels(dataDir: string): Promise<void> {
    if (!onPostgres()) {
      for (const file of ['read-models.db', 'read-models.db-wal', 'read-models.db-shm']) rmSync(join(dataDir, file), { force: true });
      return;
    }
    await onTestPostgres((client) => client.query(`DROP SCHEMA IF EXISTS ${readModelsSchemaFor(dataDir)} CASCADE`));
  }

  /** Whether the data directory has a read store (SQLite file, or PostgreSQL schema with its tables). */
  static async hasReadModels(dataDir: string): Promise<boolean> {
    if (!onPostgres()) return existsSync(join(dataDir, 'read-models.db'));
    const result = await onTestPostgres((client) =>
      client.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [
        readModelsSchemaFor(dataDir),
        'projection_checkpoints',
      ]),
    );
    return result.rowCount === 1;
  }
}
