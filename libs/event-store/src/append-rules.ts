import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  WrongExpectedRevisionError,
  type AppendResult,
  type ExpectedRevision,
} from './event-store.port';
import type { LogPosition } from './log-position';
import { DuplicateEventIdError } from './sqlite/duplicate-event-id.error';

/** Where an event id already sits in the log. */
export interface RecordedPlace {
  streamName: string;
  revision: bigint;
  position: LogPosition;
}

/**
 * The rules every adapter applies before it writes, in EventStoreDB's order: a batch whose ids
 * already sit where this append would put them is a retry and answers what the first append did;
 * otherwise the expected revision must match the stream's head; otherwise no id may be recorded
 * yet. Returns the retry's result, or undefined when the batch is to be written.
 */
export function checkAppend(
  streamName: string,
  expectedRevision: ExpectedRevision,
  headRevision: bigint | undefined,
  ids: readonly string[],
  recorded: readonly (RecordedPlace | undefined)[],
): AppendResult | undefined {
  const alreadyRecorded = recorded.some((place) => place !== undefined);
  if (alreadyRecorded) {
    const replay = idempotentReplay(streamName, expectedRevision, recorded);
    if (replay) return replay;
  }
  if (!revisionMatches(expectedRevision, headRevision)) {
    throw new WrongExpectedRevisionError(streamName, expectedRevision, headRevision ?? NO_STREAM);
  }
  if (alreadyRecorded) {
    throw new DuplicateEventIdError(
      streamName,
      ids.filter((_, index) => recorded[index] !== undefined),
      'are already recorded; reused ids are accepted only as a retry of the same batch at the same place',
    );
  }
  return undefined;
}

/**
 * The batch counts as already appended when all its ids sit consecutively, in order, in this
 * stream, where the expected revision would have put them (anywhere for `any`/`stream_exists`).
 */
function idempotentReplay(
  streamName: string,
  expectedRevision: ExpectedRevision,
  recorded: readonly (RecordedPlace | undefined)[],
): AppendResult | undefined {
  const first = recorded[0];
  if (!first) return undefined;
  const inPlace = recorded.every(
    (place, index) => place !== undefined && place.streamName === streamName && place.revision === first.revision + BigInt(index),
  );
  if (!inPlace) return undefined;
  const startsWhereExpected =
    expectedRevision === ANY ||
    expectedRevision === STREAM_EXISTS ||
    (expectedRevision === NO_STREAM ? first.revision === 0n : first.revision === expectedRevision + 1n);
  if (!startsWhereExpected) return undefined;
  const last = recorded[recorded.length - 1]!;
  return { nextExpectedRevision: last.revision, position: last.position };
}

/** Whether a stream whose last revision is `actual` (undefined: no stream) takes an append expecting `expected`. */
export function revisionMatches(expected: ExpectedRevision, actual: bigint | undefined): boolean {
  switch (expected) {
    case ANY:
      return true;
    case NO_STREAM:
      return actual === undefined;
    case STREAM_EXISTS:
      return actual !== undefined;
    default:
      return actual === expected;
  }
}

export function requireStreamName(streamName: string): string {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('streamName must be a non-empty string');
  }
  return streamName;
}

export function requireExpectedRevision(expected: ExpectedRevision): ExpectedRevision {
  const valid =
    expected === ANY ||
    expected === NO_STREAM ||
    expected === STREAM_EXISTS ||
    (typeof expected === 'bigint' && expected >= 0n);
  if (!valid) throw new TypeError(`Invalid expected revision: ${String(expected)}`);
  return expected;
}
