import { validate as isUuid } from 'uuid';
import type { EventToAppend, JsonObject } from './event-store.port';
import { DuplicateEventIdError } from './sqlite/duplicate-event-id.error';

export interface CheckedEvent<Payload> {
  id: string;
  type: string;
  data: Payload;
  metadata: Payload;
}

/**
 * What every adapter checks of a batch before it looks at the stream: UUID ids (lower case, as
 * EventStoreDB hands them back, so idempotency checks compare alike), non-empty types, JSON objects
 * for data and metadata (written in the adapter's own form by `encode`), no id twice in the batch.
 */
export function checkedBatch<Payload>(
  streamName: string,
  events: readonly EventToAppend[],
  encode: (value: JsonObject) => Payload,
): CheckedEvent<Payload>[] {
  const checked = events.map((event): CheckedEvent<Payload> => {
    if (typeof event.id !== 'string' || !isUuid(event.id)) {
      throw new TypeError(`Stream ${streamName}: event id must be a UUID, got ${String(event.id)}`);
    }
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw new TypeError(`Stream ${streamName}: event ${event.id} needs a non-empty type`);
    }
    return {
      id: event.id.toLowerCase(),
      type: event.type,
      data: encode(jsonObject(event.data, `event ${event.id} data`)),
      metadata: encode(jsonObject(event.metadata ?? {}, `event ${event.id} metadata`)),
    };
  });
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { id } of checked) (seen.has(id) ? repeated : seen).add(id);
  if (repeated.size > 0) {
    throw new DuplicateEventIdError(streamName, [...repeated], 'appear more than once in the batch');
  }
  return checked;
}

function jsonObject(value: JsonObject, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${what} must be a JSON object`);
  }
  return value;
}
