import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainError, DomainErrorCategory } from '@csp/domain/shared/domain-error';
import { EventStoreUnavailableError, EventTooLargeError } from '@csp/event-store/event-store.port';
import { storageFailureKind, type StorageFailureKind } from '@csp/event-store';
import { Metrics } from '@csp/engine/observability/metrics.service';
import { ProblemException } from './problem.exception';
import { codeForStatus, PROBLEM_CONTENT_TYPE, ProblemDocument, problemDocument } from './problem-document';
import { RequestValidationError } from './request-validation.error';

/** Set by successful commands only (API.md "Consistency"): an error appended nothing to point at. */
export const LOG_POSITION_HEADER = 'X-Log-Position';

const STATUS_BY_CATEGORY: Record<DomainErrorCategory, number> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  gone: 410,
  conflict: 409,
  unprocessable: 422,
  unavailable: 503,
};

/** Seconds a client should wait: space is freed by an operator, a device comes back slower still. */
const RETRY_AFTER_SECONDS: Record<StorageFailureKind, number> = { full: 30, 'read-only': 60, io: 60, corrupt: 300 };

/** 10,000 bad line items must not turn into a response far larger than the request. */
const MAX_FIELD_ERRORS = 100;

/** What Fastify throws for a request it refuses itself (a body over the limit, a broken length). */
interface FrameworkClientError {
  statusCode: number;
  code: string;
  message: string;
}

/**
 * Turns everything thrown while serving a request, including Fastify's own refusals (a body over
 * the limit) and unknown routes that never reach a controller, into `application/problem+json`.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  constructor(private readonly metrics?: Metrics) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    this.answer(exception, host.switchToHttp().getResponse<FastifyReply>());
  }

  /** Also for refusals Fastify makes before Nest's handlers run. */
  answer(exception: unknown, reply: FastifyReply): void {
    // The request's id (its X-Request-Id) is in every line logged here: the caller of a 500 or 503
    // was told the cause has been logged, and this is how an operator finds it.
    const reqId = reply.request.id;
    const problem = this.toProblem(exception, reqId);
    this.metrics?.recordHttpError(problem.code);
    if (reply.sent || reply.raw.headersSent) {
      // A streamed answer already promised success; cutting the connection keeps a truncated body from looking complete.
      this.logger.error({ reqId }, `failed after the response started: ${problem.code}`);
      reply.raw.destroy();
      return;
    }
    reply.removeHeader(LOG_POSITION_HEADER);
    if (problem.status === 401) reply.header('WWW-Authenticate', 'Bearer');
    if (problem.code === 'EVENT_STORE_UNAVAILABLE') reply.header('Retry-After', '1');
    if (typeof problem['retryAfterSeconds'] === 'number') reply.header('Retry-After', String(problem['retryAfterSeconds']));
    void reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
  }

  private toProblem(exception: unknown, reqId: string): ProblemDocument {
    const storageFault = storageFailureKind(exception);
    if (storageFault) return this.storageFailure(exception, storageFault, reqId);
    if (exception instanceof DomainError) {
      return problemDocument(STATUS_BY_CATEGORY[exception.category], exception.code, exception.message, withFieldCodes(exception.details));
    }
    if (exception instanceof EventStoreUnavailableError) {
      this.logger.warn({ reqId }, exception.message);
      return problemDocument(503, 'EVENT_STORE_UNAVAILABLE', 'The event log cannot be reached right now; retry with the same Idempotency-Key');
    }
    if (exception instanceof EventTooLargeError) {
      const detail = `the command's events exceed the event log's limit of ${exception.maxBytes} bytes per write; nothing was written`;
      return problemDocument(413, 'EVENT_TOO_LARGE', detail, { maxBytes: exception.maxBytes });
    }
    if (exception instanceof ProblemException) {
      return problemDocument(exception.status, exception.code, exception.message, exception.details);
    }
    if (exception instanceof RequestValidationError) {
      const omitted = exception.errors.length - MAX_FIELD_ERRORS;
      return problemDocument(400, 'VALIDATION_FAILED', 'the request has invalid or unknown fields', {
        errors: exception.errors.slice(0, MAX_FIELD_ERRORS),
        ...(omitted > 0 ? { omittedErrors: omitted } : {}),
      });
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500) return this.unexpected(exception, status, reqId);
      return problemDocument(status, codeForStatus(status), exception.message, status === 400 ? { errors: [] } : {});
    }
    if (isFrameworkClientError(exception)) return this.fromFramework(exception);
    return this.unexpected(exception, 500, reqId);
  }

  /**
   * A storage fault (a full disk, a read-only or failing device, a corrupt file) answers 503
   * `STORAGE_FULL` or `STORAGE_UNAVAILABLE` with `Retry-After`, never a bare 500: the request was
   * sound, and what it would have written was not written. The cause goes to the log.
   */
  private storageFailure(exception: unknown, kind: StorageFailureKind, reqId: string): ProblemDocument {
    this.logger.error({ reqId }, `storage fault (${kind}) while serving a request: ${exception instanceof Error ? exception.message : String(exception)}`);
    const details = { retryAfterSeconds: RETRY_AFTER_SECONDS[kind] };
    return kind === 'full'
      ? problemDocument(503, 'STORAGE_FULL', 'the service has run out of storage space; nothing was written; retry later with the same Idempotency-Key', details)
      : problemDocument(503, 'STORAGE_UNAVAILABLE', 'the service cannot use its storage right now; nothing was written; retry later with the same Idempotency-Key', details);
  }

  /** Server-side messages can name hosts, queries and credentials: they go to the log only. */
  private unexpected(exception: unknown, status: number, reqId: string): ProblemDocument {
    if (exception instanceof Error) this.logger.error({ reqId, err: exception }, `unexpected ${exception.name} while serving a request`);
    else this.logger.error({ reqId }, `non-error thrown: ${String(exception)}`);
    return problemDocument(status, codeForStatus(status), 'the service could not answer; the cause has been logged');
  }

  private fromFramework(error: FrameworkClientError): ProblemDocument {
    const extra = error.statusCode === 400 ? { errors: [] } : {};
    return problemDocument(error.statusCode, codeForStatus(error.statusCode), FRAMEWORK_DETAILS[error.code] ?? error.message, extra);
  }
}

/**
 * Refusals raised below the HTTP edge name their fields but not always a reason code; they are all
 * values of the right type in the wrong form.
 */
function withFieldCodes(details: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(details['errors'])) return details;
  const errors = (details['errors'] as Array<Record<string, unknown>>).map((entry) => ({ ...entry, code: entry['code'] ?? 'FORMAT' }));
  return { ...details, errors };
}

/** Fastify's messages for the refusals a client can cause, in the words of this service's other details. */
const FRAMEWORK_DETAILS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request entity too large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request size did not match content length',
};

function isFrameworkClientError(error: unknown): error is FrameworkClientError {
  if (typeof error !== 'object' || error === null) return false;
  const { statusCode, code } = error as Partial<FrameworkClientError>;
  return typeof code === 'string' && code.startsWith('FST_') && typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500;
}
