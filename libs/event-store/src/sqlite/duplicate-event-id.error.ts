/**
 * Thrown by the SQLite store when an append reuses event ids outside an idempotent retry:
 * ids repeated inside one batch, already recorded in another stream, or recorded in this
 * stream somewhere the expected revision does not put them. The log keeps ids unique so a
 * retried command can never be recorded twice.
 *
 * @example
 *   try { await store.appendToStream(name, events, { expectedRevision }); }
 *   catch (error) { if (error instanceof DuplicateEventIdError) logger.warn(error.eventIds); }
 */
export class DuplicateEventIdError extends Error {
  constructor(
    readonly streamName: string,
    readonly eventIds: readonly string[],
    reason: string,
  ) {
    super(`Stream ${streamName}: event ids ${eventIds.join(', ')} ${reason}`);
    this.name = 'DuplicateEventIdError';
  }
}
