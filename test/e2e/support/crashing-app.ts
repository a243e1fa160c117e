/**
 * A service instance whose event store "dies" after a given number of appends, to interrupt a
 * lifecycle catch-up half-way in a way that does not depend on timing.
 *
 * Why not just `app.stop()` during the catch-up: `LifecycleTicker.onModuleDestroy` waits for the pass
 * in flight, so a graceful stop always lets the catch-up finish. A crash is what interrupts it, and
 * for the log a crash looks like this: appends up to some point are durable, the one in flight may
 * be durable without the process ever hearing so, and nothing after it is written. The wrapper does
 * exactly that: append N is committed to the real SQLite file and then throws (committed, never
 * acknowledged), and every later append throws without writing. The scheduler pass aborts on the
 * error like a dead process would, the module closes, and the next instance on the same DATA_DIR
 * must finish the work from the log alone.
 */
import { TEST_JWT_SECRET } from '@csp/testing/e2e-harness';
import { startEsdbTestServer, type EsdbTestServer } from '@csp/testing/esdb-test-server';
import { ManualClock } from '@csp/application/ports/clock.port';
import { EVENT_STORE } from '@csp/application/tokens';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  EventToAppend,
  LogPosition,
  LogSubscription,
  ReadAllOptions,
  RecordedEvent,
  SubscribeOptions,
} from '@csp/event-store';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { join } from 'node:path';
import { AppModule } from '../../../apps/api/src/app.module';
import { configFromEnv, type AppConfig } from '../../../apps/api/src/config/app-config';
import { configureHttp } from '../../../apps/api/src/http/configure-http';
import { openEventStore } from '../../../apps/api/src/infrastructure/stores';

export class SimulatedCrash extends Error {
  constructor(readonly append: number) {
    super(`simulated crash at append ${append}`);
    this.name = 'SimulatedCrash';
  }
}

export class CrashingEventStore implements EventStore {
  private appends = 0;
  /** Appends that reached the real store (the crashing one included). */
  committedAppends = 0;
  private signalCrash!: () => void;
  readonly crashed = new Promise<void>((resolve) => (this.signalCrash = resolve));

  constructor(
    private readonly inner: EventStore,
    private readonly crashAtAppend: number,
  ) {}

  async appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    const number = ++this.appends;
    if (number > this.crashAtAppend) throw new SimulatedCrash(number);
    const result = await this.inner.appendToStream(streamName, events, options);
    this.committedAppends++;
    if (number === this.crashAtAppend) {
      this.signalCrash();
      throw new SimulatedCrash(number);
    }
    return result;
  }

  readStream(streamName: string): Promise<RecordedEvent[]> {
    return this.inner.readStream(streamName);
  }

  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return this.inner.readAll(options);
  }

  subscribeToAll(options?: SubscribeOptions): LogSubscription {
    return this.inner.subscribeToAll(options);
  }

  headPosition(): Promise<LogPosition | undefined> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface CrashingApp {
  app: INestApplication;
  store: CrashingEventStore;
  clock: ManualClock;
  /** Every event in the log as the crashed instance left it (reads still work after the crash). */
  events(): Promise<RecordedEvent[]>;
  /** Closes the app (and, on EventStoreDB, the test server, as `E2eApp.stop` does). */
  close(): Promise<void>;
}

/**
 * The real AppModule (as `E2eApp.start` builds it) on `dataDir`, with the event store wrapped.
 * Its start-up catch-up (LifecycleTicker.onApplicationBootstrap) begins during `init()`.
 */
export async function startCrashingApp(options: { dataDir: string; now: string; crashAtAppend: number }): Promise<CrashingApp> {
  const clock = new ManualClock(options.now);
  // Same store selection as E2eApp.start: the `e2e-eventstoredb` jest project runs on EventStoreDB.
  const esdbServer: EsdbTestServer | undefined =
    process.env['E2E_EVENT_STORE'] === 'esdb'
      ? await startEsdbTestServer({ port: 0, file: join(options.dataDir, 'esdb-log.jsonl') })
      : undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: options.dataDir,
    ...(esdbServer ? { EVENTSTORE_CONNECTION_STRING: esdbServer.connectionString } : {}),
  };
  const config: AppConfig = { ...configFromEnv(env), schedulerIntervalMs: 3_600_000 };
  let store: CrashingEventStore | undefined;
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot({ config, env, clock, jwtSecret: TEST_JWT_SECRET })],
  })
    .overrideProvider(EVENT_STORE)
    .useFactory({ factory: () => (store = new CrashingEventStore(openEventStore(config), options.crashAtAppend)) })
    .compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
  configureHttp(app);
  await app.init();
  return {
    app,
    store: store!,
    clock,
    async events() {
      const all: RecordedEvent[] = [];
      for await (const event of store!.readAll()) all.push(event);
      return all;
    },
    async close() {
      await app.close();
      await esdbServer?.stop();
    },
  };
}
