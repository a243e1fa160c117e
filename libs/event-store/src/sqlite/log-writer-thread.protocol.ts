import { WrongExpectedRevisionError, type AppendResult, type ExpectedRevision } from '../event-store.port';
import { DuplicateEventIdError } from './duplicate-event-id.error';
import type { BatchItem } from './sqlite-log-writer';

/** What the writer thread needs to open its own connection to the log. */
export interface LogWriterThreadData {
  file: string;
  busyTimeoutMs: number;
  /** True when a checkpointer thread copies the write-ahead log, so commits must not. */
  backgroundCheckpoints: boolean;
  /** A `CommitSignal`'s memory, signalled after each commit. */
  commitSignal?: SharedArrayBuffer;
}

export type ToLogWriter = { type: 'commit'; id: number; batch: BatchItem[] } | { type: 'close' };

export type FromLogWriter =
  | { type: 'committed'; id: number; outcomes: WireOutcome[] }
  | { type: 'failed'; id: number; error: WireError };

export type WireOutcome = { ok: true; result: AppendResult | AppendResult[] } | { ok: false; error: WireError };

/**
 * An error as it crosses from the writer thread: structured cloning keeps neither an error's class
 * nor its own fields, and callers tell a revision conflict, a reused id and a full disk apart by both.
 */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  streamName?: string;
  expected?: ExpectedRevision;
  actual?: bigint | 'no_stream';
  eventIds?: string[];
}

export function toWireError(error: unknown): WireError {
  if (error instanceof WrongExpectedRevisionError) {
    return { name: error.name, message: error.message, streamName: error.streamName, expected: error.expected, actual: error.actual };
  }
  if (error instanceof DuplicateEventIdError) {
    return { name: error.name, message: error.message, streamName: error.streamName, eventIds: [...error.eventIds] };
  }
  const { name, message, code } = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown };
  return {
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

export function fromWireError(wire: WireError): Error {
  if (wire.name === 'WrongExpectedRevisionError' && wire.streamName !== undefined && wire.expected !== undefined && wire.actual !== undefined) {
    return new WrongExpectedRevisionError(wire.streamName, wire.expected, wire.actual);
  }
  if (wire.name === 'DuplicateEventIdError' && wire.streamName !== undefined && wire.eventIds) {
    return Object.assign(new DuplicateEventIdError(wire.streamName, wire.eventIds, ''), { message: wire.message });
  }
  return Object.assign(new Error(wire.message), { name: wire.name, ...(wire.code === undefined ? {} : { code: wire.code }) });
}
