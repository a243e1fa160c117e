import type { RecordedEvent } from '@csp/event-store';

/**
 * The ids among `ids` whose row may have been stored before `events`: all but those whose own
 * stream (`streamOf(id)`) begins in `events` (its event at revision 0 is there). Only events of a
 * row's own stream make its row, and the log holds no event of a stream before its first, so such a
 * row cannot be stored yet and need not be read. A purchase begins its order's stream and each of
 * its subscriptions' streams; a rebuild folds most streams from their first event.
 *
 * @example
 *   idsPossiblyStored(batch, orderIds, orderStream); // the orders placed before this batch
 */
export function idsPossiblyStored(events: readonly RecordedEvent[], ids: readonly string[], streamOf: (id: string) => string): readonly string[] {
  const begun = new Set<string>();
  for (const event of events) if (event.revision === 0n) begun.add(event.streamName);
  return begun.size === 0 ? ids : ids.filter((id) => !begun.has(streamOf(id)));
}
