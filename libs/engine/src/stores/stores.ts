import { CodecEventStore, SqliteEventStore, UpcastingCodec, type EventCodec, type EventStore, type SqliteEventStoreOptions } from '@csp/event-store';
import type { EsdbEventStoreOptions } from '@csp/event-store/esdb';
import {
  openPostgresReadModels,
  openSqliteReadModels,
  projectionRegistry,
  type AnyProjection,
  type ReadModelDb,
  type SqliteReadStoreOptions,
} from '@csp/read-models';
import { join } from 'node:path';
import type { EngineConfig } from '../config/engine-config';

/**
 * EventStoreDB when `EVENTSTORE_CONNECTION_STRING` is set; otherwise the embedded SQLite log under
 * DATA_DIR. Every event passes `codec` on its way in and out (upcasting, field encryption).
 */
export function openEventStore(
  config: EngineConfig,
  codec: EventCodec = new UpcastingCodec([]),
  sqliteOptions: SqliteEventStoreOptions = {},
): EventStore {
  return new CodecEventStore(openLog(config, sqliteOptions), codec);
}

function openLog(config: EngineConfig, sqliteOptions: SqliteEventStoreOptions): EventStore {
  if (!config.eventStoreConnectionString) return openSqliteLog(config, sqliteOptions);
  // Required here, as the client is below: the projection worker opens the log through this module
  // and has no other use for Nest.
  const { Logger } = require('@nestjs/common') as typeof import('@nestjs/common');
  const logger = new Logger('EventStoreDB');
  return connectWithoutLeakingCredentials(config.eventStoreConnectionString, {
    reconnect: {
      onRetry: (error, attempt, delayMs) =>
        logger.warn(`subscription lost (${error instanceof Error ? error.message : String(error)}); retry ${attempt} in ${delayMs} ms`),
    },
  });
}

/** The embedded log under DATA_DIR, with what to do when the file cannot be opened. */
export function openSqliteLog(config: EngineConfig, options: SqliteEventStoreOptions = {}): SqliteEventStore {
  const file = join(config.dataDir, 'events.db');
  try {
    return SqliteEventStore.open(file, options);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(
      `the event log ${file} cannot be opened (${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}); ` +
        'check that DATA_DIR is writable by this user and has space, or restore events.db from a backup',
      { cause: error },
    );
  }
}

/** How a process opens the SQLite read store; ignored on PostgreSQL. */
export type SqliteFileOptions = Pick<SqliteReadStoreOptions, 'walCheckpoints' | 'pageCacheKib'>;

export function openReadModels(
  config: EngineConfig,
  projections: readonly AnyProjection[] = projectionRegistry,
  sqlite: SqliteFileOptions = {},
): Promise<ReadModelDb> {
  return config.readModelsConnectionString
    ? openPostgresReadModels(config.readModelsConnectionString, {
        projections,
        ...(config.readModelsSchema ? { schema: config.readModelsSchema } : {}),
      })
    : openSqliteReadModels(join(config.dataDir, 'read-models.db'), { projections, ...sqlite }).catch((error: unknown) => {
        const code = (error as { code?: unknown }).code;
        throw new Error(
          `the read store ${join(config.dataDir, 'read-models.db')} cannot be opened (${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}); ` +
            'check that DATA_DIR is writable and has space, or restore read-models.db from a backup (it also holds the key vault)',
          { cause: error },
        );
      });
}

/** The client's parse errors quote the whole connection string, user and password included. */
function connectWithoutLeakingCredentials(connectionString: string, options: EsdbEventStoreOptions): EventStore {
  // Loaded only here: on the embedded default neither the service's thread nor its projection worker
  // carries the EventStoreDB client and gRPC (about 7.5 MiB of V8 heap in each).
  const { EsdbEventStore } = require('@csp/event-store/esdb') as typeof import('@csp/event-store/esdb');
  try {
    return EsdbEventStore.connect(connectionString, options);
  } catch {
    throw new Error('EVENTSTORE_CONNECTION_STRING is not a valid esdb:// connection string');
  }
}
