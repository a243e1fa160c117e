import type { Principal, Role } from '@csp/application/auth/principal';
import type { CommandContext } from '@csp/application/command-handling/command-context';
import { CommandPipeline } from '@csp/application/command-handling/command-pipeline';
import { GetCustomerHandler } from '@csp/application/customers/get-customer.handler';
import { RegisterCustomerHandler } from '@csp/application/customers/register-customer.handler';
import { eventUpcasters } from '@csp/application/event-codec/event-upcasters';
import { LifecycleScheduler, type SchedulerRun } from '@csp/application/fulfilment/lifecycle-scheduler';
import { CancelPerpetualHandler } from '@csp/application/orders/cancel-perpetual.handler';
import { GetOrderHandler, ListOrdersHandler } from '@csp/application/orders/order-queries.handler';
import { PurchaseSoftwareHandler } from '@csp/application/orders/purchase-software.handler';
import { ListProductsHandler } from '@csp/application/products/list-products.handler';
import { CancelSubscriptionHandler, ToggleAutorenewHandler } from '@csp/application/subscriptions/subscription-commands.handler';
import { GetSubscriptionHandler, ListSubscriptionsHandler } from '@csp/application/subscriptions/subscription-queries.handler';
import { EVENT_STORE } from '@csp/application/tokens';
import { Catalogue } from '@csp/domain/catalogue/catalogue';
import { configFromEnv, type EngineConfig } from '@csp/engine/config/engine-config';
import { EngineModule } from '@csp/engine/engine.module';
import { ProjectionSupervisor } from '@csp/engine/projections/projection-supervisor.service';
import { CodecEventStore, InMemoryEventStore, UpcastingCodec, type EventStore, type RecordedEvent } from '@csp/event-store';
import { Test, type TestingModule } from '@nestjs/testing';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureSkus } from './fixtures/catalogue.fixture';
import { ManualClock } from './manual-clock';

/** How long a harness waits for the projections to reach the log head; far below jest's timeout. */
const CATCH_UP_MS = 5000;

export interface ApplicationHarnessOptions {
  /** Where the manual clock starts. */
  now: string;
  /** The fixture catalogue unless a test needs another. */
  catalogue?: Catalogue;
}

/**
 * The application layer without HTTP: the engine's real wiring (command pipeline, runner,
 * idempotency keys, directories, lifecycle scheduler, projection supervision) with every command
 * and query handler, on an in-memory log (through the same upcasting codec as the service), real
 * SQLite read models in a temp directory, a manual clock and the fixture catalogue.
 *
 * The lifecycle ticker does not wake on clock moves here: `moveClockTo` only moves time, and a test
 * runs the scheduler itself with `runScheduler`, so what a pass appends is the test's to observe.
 *
 * @example
 *   const app = await ApplicationHarness.start({ now: '2026-03-01T09:00:00.000Z' });
 *   const admin = app.context(partnerUser('partner-1', ['AdminAgent']));
 *   await app.commands.execute(new RegisterCustomerCommand(admin, { id, companyName, domain, country: 'DE' }));
 *   await app.settle();
 *   const orders = await app.queries.execute(new ListOrdersQuery(admin.principal, id));
 *   await app.close();
 */
export class ApplicationHarness {
  private correlationCount = 0;

  private constructor(
    readonly module: TestingModule,
    readonly clock: ManualClock,
    /** The log as the service sees it (decoded by the codec). */
    readonly store: EventStore,
    private readonly dataDir: string,
  ) {}

  static async start(options: ApplicationHarnessOptions): Promise<ApplicationHarness> {
    const dataDir = await mkdtemp(join(tmpdir(), 'csp-application-'));
    const clock = new ManualClock(options.now);
    const config: EngineConfig = {
      ...configFromEnv({}),
      dataDir,
      production: false,
      minPositionWaitMs: CATCH_UP_MS,
      // Passes run when a test asks; the interval only has to stay out of the way.
      schedulerIntervalMs: 24 * 60 * 60 * 1000,
      projections: 'in-process',
    };
    const store = new CodecEventStore(new InMemoryEventStore({ now: () => clock.now() }), new UpcastingCodec(eventUpcasters));
    try {
      const module = await Test.createTestingModule({
        imports: [EngineModule.forRoot({ config, clock })],
        providers: [
          RegisterCustomerHandler,
          GetCustomerHandler,
          PurchaseSoftwareHandler,
          CancelPerpetualHandler,
          ToggleAutorenewHandler,
          CancelSubscriptionHandler,
          ListOrdersHandler,
          GetOrderHandler,
          ListSubscriptionsHandler,
          GetSubscriptionHandler,
          ListProductsHandler,
        ],
      })
        .overrideProvider(EVENT_STORE)
        .useValue(store)
        .overrideProvider(Catalogue)
        .useValue(options.catalogue ?? new Catalogue(fixtureSkus))
        .compile();
      module.useLogger(false);
      await module.init();
      return new ApplicationHarness(module, clock, store, dataDir);
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  get commands(): CommandBus {
    return this.module.get(CommandBus);
  }

  get queries(): QueryBus {
    return this.module.get(QueryBus);
  }

  get pipeline(): CommandPipeline {
    return this.module.get(CommandPipeline);
  }

  /** A command context for `principal`; with `idempotencyKey`, a request the caller may retry. */
  context(principal: Principal, idempotency?: { key: string; requestHash: string }): CommandContext {
    this.correlationCount += 1;
    return { principal, correlationId: `application-test-${this.correlationCount}`, ...(idempotency ? { idempotency } : {}) };
  }

  /** Waits until every projection reflects the whole log, so queries see what commands wrote. */
  async settle(): Promise<void> {
    await this.module.get(ProjectionSupervisor).catchUpWithLog(CATCH_UP_MS);
  }

  /** Moves the clock without waking anything: nothing happens until the test runs the scheduler. */
  moveClockTo(instant: string): void {
    this.clock.set(instant, { notify: false });
  }

  /** One scheduler pass at the clock's time, on read models that reflect the whole log; settles after it. */
  async runScheduler(): Promise<SchedulerRun> {
    await this.settle();
    const run = await this.module.get(LifecycleScheduler).runDue();
    await this.settle();
    return run;
  }

  /** Every event in the log, oldest first; only the streams starting with `prefix` when given. */
  async events(prefix?: string): Promise<RecordedEvent[]> {
    const all: RecordedEvent[] = [];
    for await (const event of this.store.readAll(prefix ? { streamPrefixes: [prefix] } : {})) all.push(event);
    return all;
  }

  /** Stops the projections, closes the stores and removes the read models' directory. */
  async close(): Promise<void> {
    try {
      await this.module.close();
    } finally {
      // The read store's checkpointer thread closes its connection just after the module does, and
      // SQLite may still be removing the write-ahead log files as the directory is emptied.
      await rm(this.dataDir, { recursive: true, force: true, maxRetries: 5 });
    }
  }
}

/** A partner's user with `roles`; the partner id is the tenant its customers belong to. */
export function partnerUser(partnerId: string, roles: Role[]): Principal {
  return { userId: `user-${partnerId}-${roles.join('-') || 'none'}`, tenantId: partnerId, kind: 'partner', roles };
}

/** A customer tenant's user. */
export function customerUser(tenantId: string, roles: Role[]): Principal {
  return { userId: `user-${tenantId}`, tenantId, kind: 'customer', roles };
}
