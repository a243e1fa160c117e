import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import {
  comparePositions,
  logIntegrityOf,
  positionToString,
  SqliteEventStore,
  type EventStore,
  type LogPosition,
} from '@csp/event-store';
import { boundLogIdentity, bindToLog, furthestCheckpoint } from '@csp/read-models/log-binding';
import type { ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import type { EngineConfig } from '../config/engine-config';
import { ENGINE_CONFIG } from '../config/engine-config.token';
import { DATA_DIR_CLAIM, type DataDirClaim } from './data-dir-lock';

/** How many of the newest events the service re-hashes at every start. */
export const TAIL_VERIFIED_AT_START = 1000;

/** What the operator runs to fold a read store afresh from the log it now sits beside. */
export const REBUILD_COMMAND = 'npm run cli -- projections rebuild --all';

/** A start refused because a store is not fit to answer; the message is the one line the operator reads. */
export class StoreStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreStartupError';
  }
}

/** Where each store lives, as the operator configured it (never a connection string: it may hold a password). */
export function storeLocations(config: EngineConfig): { log: string; readStore: string } {
  return {
    log: config.eventStoreConnectionString ? 'the EventStoreDB log (EVENTSTORE_CONNECTION_STRING)' : `the event log ${join(config.dataDir, 'events.db')}`,
    readStore: config.readModelsConnectionString
      ? `the read store in PostgreSQL (READ_MODELS_DATABASE_URL${config.readModelsSchema ? `, schema ${config.readModelsSchema}` : ''})`
      : `the read store ${join(config.dataDir, 'read-models.db')}`,
  };
}

/**
 * Before anything folds or answers: the log's newest events still hash to their chain, the embedded
 * log's file passes a quick check, and the read store folds this very log and no further than its
 * head. Otherwise the start is refused with one line naming both stores and the fix.
 */
export async function checkStoresAtStart(store: EventStore, db: ReadModelDb, config: EngineConfig): Promise<void> {
  const where = storeLocations(config);
  const integrity = logIntegrityOf(store);
  if (!integrity) throw new StoreStartupError(`${where.log} keeps no identity or hash chain; this service cannot vouch for it`);

  const sqlite = innermost(store);
  if (sqlite instanceof SqliteEventStore) {
    const problem = sqlite.quickCheck();
    if (problem) {
      throw new StoreStartupError(
        `${where.log} is damaged (${problem}); restore events.db from a backup, then run npm run cli -- log verify before starting`,
      );
    }
  }

  const head = await store.headPosition();
  const from = head && head.commit > BigInt(TAIL_VERIFIED_AT_START) ? head.commit - BigInt(TAIL_VERIFIED_AT_START) + 1n : undefined;
  const tail = await integrity.verifyLog(from === undefined ? {} : { fromPosition: { commit: from, prepare: from } });
  if (!tail.intact) {
    throw new StoreStartupError(
      `${where.log} fails its hash chain at position ${positionToString(tail.firstBad.position)} (${tail.firstBad.reason}: ${tail.firstBad.detail}); ` +
        'run npm run cli -- log verify and restore the log from a backup taken before that position',
    );
  }

  const logId = await integrity.logIdentity();
  const bound = await boundLogIdentity(db);
  if (bound !== undefined && bound !== logId) {
    throw new StoreStartupError(
      `${where.readStore} folds another event log (${bound}) than ${where.log} (${logId}): the log was emptied, replaced or recreated; ` +
        `run ${REBUILD_COMMAND} with the same settings to rebuild the read store from this log, then start again`,
    );
  }
  const furthest = await furthestCheckpoint(db);
  if (furthest && isAhead(furthest.position, head)) {
    throw new StoreStartupError(
      `${where.readStore} has folded up to position ${positionToString(furthest.position)} (${furthest.name}) but ${where.log} ends at ` +
        `${head ? positionToString(head) : 'nothing'}: the log was restored from an older copy or cut; ` +
        `run ${REBUILD_COMMAND} with the same settings to rebuild the read store from this log, then start again`,
    );
  }
  if (bound === undefined) await bindToLog(db, logId);
}

function isAhead(checkpoint: LogPosition, head: LogPosition | undefined): boolean {
  return head === undefined ? checkpoint.commit > 0n : comparePositions(checkpoint, head) > 0;
}

function innermost(store: EventStore): unknown {
  let current: unknown = store;
  for (let depth = 0; depth < 10 && (current as { inner?: unknown }).inner; depth++) current = (current as { inner: unknown }).inner;
  return current;
}

/** Runs the checks while the modules initialise, so a refused start never folds or serves a request. */
@Injectable()
export class StoreStartupChecks implements OnModuleInit {
  private readonly logger = new Logger('Stores');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    @Inject(DATA_DIR_CLAIM) private readonly claim: DataDirClaim,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      await checkStoresAtStart(this.store, this.db, this.config);
    } catch (error) {
      // A refused start runs no shutdown hooks: let go of the files here, so the fix can run at once.
      await this.store.close().catch(() => undefined);
      await this.db.destroy().catch(() => undefined);
      this.claim.release();
      throw error;
    }
    this.logger.log('event log verified (newest events re-hashed) and the read store folds it');
  }
}
