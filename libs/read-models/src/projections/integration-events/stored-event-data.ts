import {
  INTEGRATION_EVENT_DATA_FIELDS,
  type IntegrationEvent,
  type IntegrationEventType,
} from '@csp/domain/integration-events/integration-event';

/**
 * How the feed's store keeps an event's `data` since version 2 of its projection: the values of its
 * type's fields (`INTEGRATION_EVENT_DATA_FIELDS`) as a JSON array, without the field names every row
 * would repeat (a ledger entry's 352 bytes become about 230; ledger entries are most of the feed).
 * Data whose fields differ from the list in any way (another order, one missing or undefined, one
 * more) is kept whole, as JSON of the object, as version 1 kept every row; readers take both.
 */
export function storedEventData(type: IntegrationEventType, data: IntegrationEvent['data']): string {
  const fields = INTEGRATION_EVENT_DATA_FIELDS[type] as readonly string[];
  const values = data as unknown as Record<string, unknown>;
  const keys = Object.keys(values);
  const listed = keys.length === fields.length && keys.every((key, index) => key === fields[index] && values[key] !== undefined);
  return JSON.stringify(listed ? fields.map((field) => values[field]) : data);
}

/** The event's `data` as the mapping made it, from either stored form. */
export function eventDataOfStored(type: IntegrationEventType, stored: string): IntegrationEvent['data'] {
  const parsed: unknown = JSON.parse(stored);
  if (!Array.isArray(parsed)) return parsed as IntegrationEvent['data'];
  const fields = INTEGRATION_EVENT_DATA_FIELDS[type] as readonly string[];
  const data: Record<string, unknown> = {};
  fields.forEach((field, index) => {
    if (index < parsed.length) data[field] = parsed[index];
  });
  return data as unknown as IntegrationEvent['data'];
}
