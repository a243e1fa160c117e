import type { LiveBatchCommitted } from '@csp/read-models';
import type { EngineConfig } from '../config/engine-config';
import type { ProjectionState } from './supervised-projection';

/** What the service hands its projection worker at start. */
export interface ProjectionWorkerData {
  config: EngineConfig;
  /** The resolved master key, so the worker decrypts the fields the service encrypted. */
  masterKey: Uint8Array;
  /** The log's `CommitSignal`: the worker reads the log as soon as it is signalled, not at its next poll. */
  commitSignal: SharedArrayBuffer;
  /**
   * `catch-up`: fold what the log holds beyond the checkpoints, then close the stores and end
   * (`caught-up`); `follow`: catch up with what is left, then follow the log live (`started`).
   */
  role: 'catch-up' | 'follow';
}

export type ToProjectionWorker = { type: 'stop' };

export type LogLevel = 'log' | 'warn' | 'error' | 'debug' | 'verbose' | 'fatal';

export type FromProjectionWorker =
  /** Every projection has caught up with the log and follows it live. */
  | { type: 'started' }
  /** A catch-up thread has folded up to the log's head and closed its stores; it ends next. */
  | { type: 'caught-up' }
  /**
   * Where projections stand now, by name: one message for all the projections a batch moved, with
   * the live batches committed since the last such message (none while catching up).
   */
  | { type: 'progress'; positions: Record<string, string>; batches: LiveBatchCommitted[] }
  | { type: 'states'; states: Record<string, ProjectionState> }
  /** The worker's log lines, written by the service's logger (one format, one redaction). */
  | { type: 'log'; level: LogLevel; context: string; message: string }
  | { type: 'stopped' };
