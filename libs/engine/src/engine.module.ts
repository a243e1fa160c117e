import { PrimaryDomains } from '@csp/application/customers/primary-domains';
import { OwedFulfilment } from '@csp/application/fulfilment/owed-fulfilment';
import { CustomerDirectory } from '@csp/application/access/customer-directory';
import { SubscriptionDirectory } from '@csp/application/access/subscription-directory';
import { loadCatalogue } from '@csp/application/catalogue/catalogue.loader';
import { CommandRunner } from '@csp/application/command-handling/command-runner';
import { CommandPipeline } from '@csp/application/command-handling/command-pipeline';
import { IdempotencyKeys } from '@csp/application/command-handling/idempotency-keys';
import { LifecycleScheduler } from '@csp/application/fulfilment/lifecycle-scheduler';
import { SubscriptionLifecycle } from '@csp/application/fulfilment/subscription-lifecycle';
import { Clock, SystemClock } from '@csp/application/ports/clock.port';
import { IdGenerator, Uuid7Generator } from '@csp/application/ports/id-generator.port';
import { AttachmentStore } from '@csp/application/support-requests/attachment-store.port';
import { EVENT_CODEC, EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { Catalogue } from '@csp/domain/catalogue/catalogue';
import type { EventCodec, EventStore } from '@csp/event-store';
import { EmbeddedKeyIssuer } from '@csp/application/keys/embedded-key-issuer';
import { derivedKey, KEY_ENCRYPTION_KEY, resolveKeyEncryptionKey } from '@csp/application/keys/key-encryption-key';
import { KeyIssuer } from '@csp/application/keys/key-issuer.port';
import { KeyVault, SqlIssuedKeyRegistry } from '@csp/application/keys/key-vault';
import { WebhookDispatcher } from '@csp/application/webhooks/webhook-dispatcher';
import { HttpWebhookSender, WebhookSender } from '@csp/application/webhooks/webhook-sender';
import { WEBHOOK_SETTINGS, type WebhookSettings } from '@csp/application/webhooks/webhook-settings';
import { WebhookSecretBox } from '@csp/application/webhooks/webhook-signing';
import { projectionRegistry, type AnyProjection, type ReadModelDb } from '@csp/read-models';
import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { join } from 'node:path';
import type { EngineConfig } from './config/engine-config';
import { ENGINE_CONFIG } from './config/engine-config.token';
import { MetricsModule } from './observability/metrics.module';
import { Metrics } from './observability/metrics.service';
import { ProjectionSupervisor } from './projections/projection-supervisor.service';
import { PROJECTIONS } from './projections/projections.token';
import { LifecycleTicker } from './scheduling/lifecycle-ticker.service';
import { FilesystemAttachmentStore } from './stores/filesystem-attachment-store';
import { WebhookDelivery } from './webhooks/webhook-delivery.service';
import { openEventStore, openReadModels } from './stores/stores';
import { engineEventCodec } from './stores/event-codec';
import { ProjectionWorkerHost } from './projections/projection-worker-host';
import { StoreStartupChecks } from './stores/store-startup-checks';
import { DATA_DIR_CLAIM, DataDirClaim, type DataDirRole } from './stores/data-dir-lock';

/**
 * How often the read store's write-ahead log is copied into its file. The projections' many small
 * commits rewrite the same table and index pages, about 12,000 pages a second at 500 purchases/s;
 * copied once a second, that copy and its fsync took 35 to 70 ms, and every purchase answered
 * meanwhile stalled with it (the slow answers began when each copy began, though the copy holds no
 * lock the log needs): p99 at 500/s 22 to 29 ms, the whole tail one burst a second. A quarter of it
 * at a time: p99 10 to 14 ms in nine runs (13.7 to 17.1 in the benchmark, probes and all),
 * saturated purchases and cancellations per second unchanged (four paired runs). Every 100 ms gave as short a tail but a fifth fewer purchases in two paired runs
 * (the same hot pages copied ten times as often).
 */
const READ_STORE_CHECKPOINT_MS = 250;

/**
 * The read store's write-ahead log is started over only once it holds 64 MiB, not at
 * every copy. Starting it over (a RESTART) holds the projection worker's next transaction off while
 * it copies the last frames and syncs: 1 to 14 ms at 500 purchases/s, and SQLite's busy handler,
 * sleeping 1, 2, 5, then 10 ms between tries, let the worker in 8 to 19 ms later. Four times a
 * second, that was the tail of the projection lag (every probe over 10 ms began at one). Past 64 MiB
 * it happens every 1.5 to 6 s at that rate: lag p99 4.7 to 6.4 ms in three runs against 6.7 to 10.1
 * (700 probes each, after a burst of purchases and cancellations, as in the benchmark).
 */
const READ_STORE_RESTART_PAST_BYTES = 64 * 1024 * 1024;

/**
 * Between its copies, the read store's write-ahead log is synced as it grows. The projection
 * worker commits at `synchronous = NORMAL`, so its frames waited in the page cache until each copy
 * synced them at once: at 500 purchases/s 16 frames of 8 KiB a purchase (1.16 distinct pages),
 * about 16 MB a copy, 20 to 45 ms each, and the purchases committed meanwhile waited behind it on
 * the disk. The answers over 15 ms came in bursts 250 ms apart. Synced every 15 ms, in six
 * alternated pairs of the benchmark's HTTP phase: p99 at 500/s 16.5 to 34.4 ms (median 20)
 * against 23.7 to 30.4 (median 25); see "Thirtieth round" in docs/benchmark-history.md.
 */
const READ_STORE_LOG_SYNC_MS = 15;

/** Closes the stores last, after every consumer (projection, scheduler) has stopped in onModuleDestroy. */
@Injectable()
class StoreCloser implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(DATA_DIR_CLAIM) private readonly claim: DataDirClaim,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    await this.db.destroy();
    this.claim.release();
  }
}

/** The master key, resolved once; a generated development key is announced, never its value. */
function keyEncryptionKeyOf(config: EngineConfig): Buffer {
  const resolved = resolveKeyEncryptionKey({ configured: config.keyEncryptionKey, production: config.production, dataDir: config.dataDir });
  if (resolved.source === 'dev-file') {
    new Logger('KeyEncryption').warn(
      `KEY_ENCRYPTION_KEY is not set: product keys are encrypted under a development key kept in ${resolved.file}; set KEY_ENCRYPTION_KEY in production`,
    );
  }
  return resolved.key;
}

function webhookSettingsOf({ webhooks }: EngineConfig): WebhookSettings {
  return {
    retry: { baseMs: webhooks.retryBaseMs, maxMs: webhooks.retryMaxMs, windowMs: webhooks.retryWindowMs },
    allowedHosts: webhooks.allowedHosts,
    attemptTimeoutMs: webhooks.attemptTimeoutMs,
  };
}

export interface EngineOptions {
  config: EngineConfig;
  /** Tests pass a clock they move; the service uses the system clock. */
  clock?: Clock;
  /** The projections to run; the registry unless a test says otherwise. */
  projections?: readonly AnyProjection[];
  /**
   * What this process does with the embedded stores (one process per role per DATA_DIR). Default:
   * `api` and, unless `PROJECTIONS=external`, `projector`.
   */
  roles?: readonly DataDirRole[];
}

/**
 * What every process of the engine shares: the ports and their adapters (event store, read store,
 * catalogue, clock, ids), the use-case services, projection supervision and the lifecycle ticker.
 * The api, the projector and the CLI each compose it.
 */
@Global()
@Module({})
export class EngineModule {
  static forRoot({ config, clock, projections = projectionRegistry, roles }: EngineOptions): DynamicModule {
    const lockRoles = roles ?? (config.projections === 'external' ? ['api'] : ['api', 'projector']);
    const shared = [
      // Taken before either store opens (each asks for the lock first), so a refused second process changes nothing on disk.
      {
        provide: DATA_DIR_CLAIM,
        useFactory: () => (config.eventStoreConnectionString ? DataDirClaim.notNeeded() : DataDirClaim.take(config.dataDir, lockRoles)),
      },
      { provide: ENGINE_CONFIG, useValue: config },
      { provide: PROJECTIONS, useValue: projections },
      { provide: KEY_ENCRYPTION_KEY, useFactory: () => keyEncryptionKeyOf(config) },
      {
        provide: KeyVault,
        inject: [READ_MODEL_DB, KEY_ENCRYPTION_KEY, Clock],
        useFactory: (db: ReadModelDb, masterKey: Buffer, engineClock: Clock) => new KeyVault(db, masterKey, engineClock),
      },
      {
        provide: KeyIssuer,
        inject: [READ_MODEL_DB, KEY_ENCRYPTION_KEY, Clock],
        useFactory: (db: ReadModelDb, masterKey: Buffer, engineClock: Clock) =>
          new EmbeddedKeyIssuer(new SqlIssuedKeyRegistry(db, engineClock), derivedKey(masterKey, 'issued-key-fingerprints')),
      },
      {
        provide: EVENT_CODEC,
        inject: [KeyVault],
        useFactory: (vault: KeyVault) => engineEventCodec(vault),
      },
      {
        provide: ProjectionWorkerHost,
        inject: [KEY_ENCRYPTION_KEY],
        // Absent unless the projections fold in a worker thread of this process.
        useFactory: (masterKey: Buffer) => (config.projections === 'worker' ? new ProjectionWorkerHost(config, masterKey, projections) : undefined),
      },
      {
        provide: EVENT_STORE,
        inject: [EVENT_CODEC, ProjectionWorkerHost, DATA_DIR_CLAIM, Metrics],
        useFactory: (codec: EventCodec, worker: ProjectionWorkerHost | undefined, claim: DataDirClaim, metrics: Metrics) => {
          claim.throwIfRefused();
          return openEventStore(config, codec, {
            onBatchCommitted: ({ appends, durationMs }) => metrics.observeLogCommit(appends, durationMs),
            // A thread of its own copies the write-ahead log into the file, not a commit on the thread answering requests.
            walCheckpoints: { everyMs: 1000 },
            // Nor does the thread answering requests wait for a commit's fsync.
            writer: 'own-thread',
            ...(worker ? { commitSignal: worker.commitSignal } : {}),
          });
        },
      },
      // As the log's: the projections' commits (and the key vault's) do not wait for the copy into the file.
      {
        provide: READ_MODEL_DB,
        inject: [DATA_DIR_CLAIM],
        useFactory: (claim: DataDirClaim) => {
          claim.throwIfRefused();
          return openReadModels(config, projections, {
            walCheckpoints: { everyMs: READ_STORE_CHECKPOINT_MS, restartPastBytes: READ_STORE_RESTART_PAST_BYTES, syncLogEveryMs: READ_STORE_LOG_SYNC_MS },
          });
        },
      },
      { provide: Catalogue, useFactory: () => loadCatalogue(config.catalogueFile) },
      { provide: Clock, useValue: clock ?? new SystemClock() },
      { provide: IdGenerator, useClass: Uuid7Generator },
      { provide: AttachmentStore, useFactory: () => new FilesystemAttachmentStore(join(config.dataDir, 'attachments')) },
      {
        provide: CommandRunner,
        inject: [EVENT_STORE, IdGenerator],
        useFactory: (store: EventStore, ids: IdGenerator) => new CommandRunner(store, ids),
      },
      IdempotencyKeys,
      CommandPipeline,
      CustomerDirectory,
      PrimaryDomains,
      SubscriptionDirectory,
      SubscriptionLifecycle,
      OwedFulfilment,
      LifecycleScheduler,
      ProjectionSupervisor,
      LifecycleTicker,
      { provide: WEBHOOK_SETTINGS, useValue: webhookSettingsOf(config) },
      { provide: WebhookSecretBox, inject: [KEY_ENCRYPTION_KEY], useFactory: (masterKey: Buffer) => new WebhookSecretBox(masterKey) },
      { provide: WebhookSender, useFactory: () => new HttpWebhookSender(config.webhooks.allowedHosts) },
      {
        provide: WebhookDispatcher,
        inject: [READ_MODEL_DB, EVENT_STORE, WebhookSender, WebhookSecretBox, Clock, WEBHOOK_SETTINGS],
        useFactory: (db: ReadModelDb, store: EventStore, sender: WebhookSender, secrets: WebhookSecretBox, engineClock: Clock, settings: WebhookSettings) =>
          new WebhookDispatcher(db, store, sender, secrets, engineClock, settings),
      },
      WebhookDelivery,
    ];
    return {
      module: EngineModule,
      imports: [CqrsModule.forRoot(), MetricsModule],
      providers: [...shared, StoreCloser, StoreStartupChecks],
      exports: shared.map((provider) => ('provide' in provider ? provider.provide : provider)),
    };
  }
}
