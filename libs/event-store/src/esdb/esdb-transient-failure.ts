import {
  CancelledError,
  DeadlineExceededError,
  NotLeaderError,
  TimeoutError,
  UnavailableError,
  UnknownError,
} from '@eventstore/db-client';

/** gRPC status codes of a call that may be retried: CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE. */
const TRANSIENT_GRPC_CODES = new Set([1, 4, 14]);

/**
 * Whether a call failed for a reason that passes: the connection dropped, the node stepped down or
 * is not the leader, the cluster is electing. Client 6.2.1 reports some of these as its own error
 * classes, a call made while no node answers as a raw gRPC error, and a cluster it cannot discover
 * as a plain Error.
 */
export function isTransientFailure(error: unknown): boolean {
  if (
    error instanceof UnavailableError ||
    error instanceof CancelledError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError ||
    // grpc-js reports a connection reset mid-stream as INTERNAL, which the client files under unknown.
    error instanceof UnknownError
  ) {
    return true;
  }
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  return (typeof code === 'number' && TRANSIENT_GRPC_CODES.has(code)) || /Failed to discover/i.test(error.message);
}
