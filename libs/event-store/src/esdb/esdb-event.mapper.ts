/**
 * Translation between `@eventstore/db-client` shapes and the port's: positions, recorded events,
 * and which events of `$all` belong to the application at all.
 */
import type { Position, RecordedEvent as ClientRecordedEvent } from '@eventstore/db-client';
import type { EventMetadata, JsonObject, RecordedEvent } from '../event-store.port';
import type { LogPosition } from '../log-position';

export function toLogPosition(position: Position): LogPosition {
  return { commit: position.commit, prepare: position.prepare };
}

export function toClientPosition(position: LogPosition): Position {
  return { commit: position.commit, prepare: position.prepare };
}

/**
 * Application events only: EventStoreDB's own (`$metadata`, `$streamDeleted`, `$>` links, stats) have a
 * type starting with `$`, and system streams (`$$order-1`, `$stats-…`) a name starting with `$`.
 */
export function isApplicationEvent(event: ClientRecordedEvent, streamPrefixes?: readonly string[]): boolean {
  if (event.type.startsWith('$') || event.streamId.startsWith('$') || event.streamId === LOG_IDENTITY_STREAM) return false;
  // An empty list filters nothing, as an absent one: the SQLite store reads it the same way.
  return !streamPrefixes?.length || streamPrefixes.some((prefix) => event.streamId.startsWith(prefix));
}

/**
 * The stream that holds the log's identity: one `LogCreated` event written with `no_stream` by the
 * first process to ask. A new database behind the same connection string has none and gets a new one.
 */
export const LOG_IDENTITY_STREAM = 'log-identity';

/**
 * The metadata key under which the adapter keeps an event's chain link (see EsdbEventStore). Reserved:
 * it is stripped from what readers get, so their metadata is what they appended.
 */
export const CHAIN_HASH_KEY = '$cspChainHash';

/** The chain link stored with `event`, if it has one. */
export function storedChainHash(event: ClientRecordedEvent): string | undefined {
  const metadata = event.metadata as Record<string, unknown> | undefined;
  const hash = event.isJson && metadata && typeof metadata === 'object' ? metadata[CHAIN_HASH_KEY] : undefined;
  return typeof hash === 'string' ? hash : undefined;
}

/** The metadata as the appender gave it: without the chain link. */
export function appendedMetadata(event: ClientRecordedEvent): EventMetadata {
  if (event.metadata === undefined) return {};
  const { [CHAIN_HASH_KEY]: _link, ...metadata } = requireJsonObject(event, event.metadata, 'metadata');
  return metadata as EventMetadata;
}

export function toRecordedEvent(event: ClientRecordedEvent): RecordedEvent {
  if (!event.position) {
    // Only events read from $all or a stream carry one, and those are the only ones handed here.
    throw new Error(`EventStoreDB returned event ${event.id} of ${event.streamId} without a position`);
  }
  return {
    id: event.id,
    streamName: event.streamId,
    revision: event.revision,
    position: toLogPosition(event.position),
    type: event.type,
    data: requireJsonObject(event, event.data, 'data'),
    metadata: appendedMetadata(event),
    recordedAt: event.created.toISOString(),
  };
}

function requireJsonObject(event: ClientRecordedEvent, value: unknown, part: string): JsonObject {
  if (event.isJson && typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)) {
    return value as JsonObject;
  }
  // Every writer of this log stores JSON objects; anything else means another writer, so fail loudly.
  throw new Error(`Event ${event.id} in ${event.streamId} has ${part} that is not a JSON object`);
}
