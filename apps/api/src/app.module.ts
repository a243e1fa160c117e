import { CustomerDirectory } from '@csp/application/access/customer-directory';
import { GetCustomerHandler } from '@csp/application/customers/get-customer.handler';
import { RegisterCustomerHandler } from '@csp/application/customers/register-customer.handler';
import { CancelPerpetualHandler } from '@csp/application/orders/cancel-perpetual.handler';
import { PurchaseSoftwareHandler } from '@csp/application/orders/purchase-software.handler';
import type { Clock } from '@csp/application/ports/clock.port';
import { GetOrderHandler, ListOrdersHandler } from '@csp/application/orders/order-queries.handler';
import { ListProductsHandler } from '@csp/application/products/list-products.handler';
import { GetSubscriptionHandler, ListSubscriptionsHandler } from '@csp/application/subscriptions/subscription-queries.handler';
import { CancelSubscriptionHandler, ToggleAutorenewHandler } from '@csp/application/subscriptions/subscription-commands.handler';
import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import type { EventStore } from '@csp/event-store';
import type { ReadModelDb } from '@csp/read-models';
import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module';
import type { EngineConfig } from '@csp/engine/config/engine-config';
import { CustomersController } from './controllers/customers.controller';
import { ImportController, OrdersController } from './controllers/orders.controller';
import { ProductsController } from './controllers/products.controller';
import { SubscriptionsController } from './controllers/subscriptions.controller';
import { ActivityLogController } from './controllers/activity-log.controller';
import { DownloadsController } from './controllers/downloads.controller';
import { SoftwareController } from './controllers/software.controller';
import { softwareProviders } from '@csp/application/software/software.providers';
import { LedgerController } from './controllers/ledger.controller';
import { SupportRequestsController } from './controllers/support-requests.controller';
import { ExportLedgerHandler, GetLedgerHandler, GetLedgerPeriodHandler } from '@csp/application/ledger/ledger-queries.handler';
import { LedgerReader } from '@csp/application/ledger/ledger-reader';
import { ApproveSupportRequestHandler, RejectSupportRequestHandler, SubmitSupportRequestHandler } from '@csp/application/support-requests/support-request-commands.handler';
import { GetSupportRequestHandler } from '@csp/application/support-requests/support-request-queries.handler';
import { CommandGateway } from './http/command-gateway';
import { IntegrationEventsController } from './controllers/integration-events.controller';
import { WebhooksController } from './controllers/webhooks.controller';
import { IntegrationFeed } from '@csp/application/integration-events/integration-feed';
import { WebhookEndpoints } from '@csp/application/webhooks/webhook-endpoints.service';
import { ConsistencyGuard } from './http/consistency.guard';
import { EngineModule } from '@csp/engine/engine.module';
import { buildLoggerParams } from '@csp/engine/observability/logging';
import { ObservabilityModule } from './observability/observability.module';
import { engineReadinessChecks } from '@csp/engine/observability/engine-readiness';
import { ProjectionSupervisor } from '@csp/engine/projections/projection-supervisor.service';
import { LifecycleTicker } from '@csp/engine/scheduling/lifecycle-ticker.service';

export interface AppOptions {
  config: EngineConfig;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Tests pass the secret they sign with; the service resolves it from the environment. */
  jwtSecret?: string;
}

/** The whole service in one process: HTTP api, read-model projection and lifecycle scheduler. */
@Module({})
export class AppModule {
  static forRoot({ config, env = process.env, clock, jwtSecret }: AppOptions): DynamicModule {
    const engine = EngineModule.forRoot(clock ? { config, clock } : { config });
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(buildLoggerParams({ env, stdoutIsTty: Boolean(process.stdout.isTTY) })),
        engine,
        jwtSecret ? AuthModule.forRoot({ secret: jwtSecret }) : AuthModule.forRootFromEnv({ env, dataDir: config.dataDir }),
        ObservabilityModule.forRoot({
          imports: [engine],
          readinessChecks: {
            inject: [EVENT_STORE, READ_MODEL_DB, ProjectionSupervisor, LifecycleTicker],
            useFactory: (store: EventStore, db: ReadModelDb, supervisor: ProjectionSupervisor, ticker: LifecycleTicker) =>
              engineReadinessChecks({ store, db, supervisor, ticker }),
          },
        }),
      ],
      controllers: [CustomersController, ProductsController, OrdersController, ImportController, SubscriptionsController, LedgerController, SupportRequestsController, SoftwareController, DownloadsController, ActivityLogController, IntegrationEventsController, WebhooksController],
      providers: [
        CommandGateway,
        ConsistencyGuard,
        CustomerDirectory,
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
        LedgerReader, GetLedgerHandler, ExportLedgerHandler, GetLedgerPeriodHandler,
        SubmitSupportRequestHandler, ApproveSupportRequestHandler, RejectSupportRequestHandler, GetSupportRequestHandler,
        ...softwareProviders,
        IntegrationFeed, WebhookEndpoints,
      ],
    };
  }
}
