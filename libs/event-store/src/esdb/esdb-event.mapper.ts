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
  if (event.type.startsWith('$') || event.streamId.startsWith('$')) return false;
  // An empty list filters nothing, as an absent one: the SQLite store reads it the same way.
  return !streamPrefixes?.length || streamPrefixes.some((prefix) => event.streamId.startsWith(prefix));
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
    metadata: event.metadata === undefined ? {} : (requireJsonObject(event, event.metadata, 'metadata') as EventMetadata),
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
