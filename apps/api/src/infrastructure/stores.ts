import { SqliteEventStore, type EventStore } from '@csp/event-store';
import { openPostgresReadModels, openSqliteReadModels, type ReadModelDb } from '@csp/read-models';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config';

export function openEventStore(config: AppConfig): EventStore {
  return SqliteEventStore.open(join(config.dataDir, 'events.db'));
}

export function openReadModels(config: AppConfig): Promise<ReadModelDb> {
  return config.readModelsConnectionString
    ? openPostgresReadModels(config.readModelsConnectionString)
    : openSqliteReadModels(join(config.dataDir, 'read-models.db'));
}
