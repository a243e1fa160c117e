import type { HttpServerLimits } from '@csp/engine/config/engine-config';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { codeForStatus, PROBLEM_CONTENT_TYPE, problemDocument } from './problem-document';

/** How often Node looks for requests past their header or request deadline (its default is 30 s). */
const DEADLINE_CHECK_MS = 1000;

interface ServerWithHeaderLimit extends Server {
  /** Read by Node for each new connection; the constructor option of the same name only sets it. */
  maxHeaderSize?: number;
  /** Read by Node when the server starts listening (undocumented as a property, typed as an option). */
  connectionsCheckingInterval?: number;
}

/**
 * Puts the configured limits on the Node server under the app, before it listens: a slow client
 * (slowloris) holds a connection no longer than the header or request deadline, a header block
 * beyond the limit is refused, and connections beyond the cap are closed at once.
 */
export function applyServerLimits(server: Server, limits: HttpServerLimits): void {
  const limited = server as ServerWithHeaderLimit;
  limited.headersTimeout = limits.headersTimeoutMs;
  limited.requestTimeout = limits.requestTimeoutMs;
  limited.maxHeaderSize = limits.maxHeaderBytes;
  limited.maxConnections = limits.maxConnections;
  limited.connectionsCheckingInterval = Math.min(DEADLINE_CHECK_MS, limits.headersTimeoutMs);
}

/**
 * Node refuses some requests before any route runs (431, 408, 400); these answers are problem+json
 * with a code, like every other refusal of the service. Fastify's `clientErrorHandler`.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: { headersSent?: boolean } }): void {
  const status = statusOf(error.code);
  // A reset connection has no one to answer, and an answer already started cannot be replaced.
  if (status === undefined || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const code = status === 431 ? 'REQUEST_HEADER_FIELDS_TOO_LARGE' : status === 408 ? 'REQUEST_TIMEOUT' : codeForStatus(status);
  const body = JSON.stringify(problemDocument(status, code, detailOf(status)));
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function statusOf(code: string | undefined): number | undefined {
  if (code === 'ECONNRESET') return undefined;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

function detailOf(status: number): string {
  if (status === 431) return 'the request headers are larger than the service accepts';
  if (status === 408) return 'the request did not arrive in time; send it again';
  return 'the request is not valid HTTP';
}
