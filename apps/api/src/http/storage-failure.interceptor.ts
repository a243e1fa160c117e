import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { storageFailureKind, type StorageFailureKind } from '@csp/event-store';
import type { Response } from 'express';
import { catchError, type Observable } from 'rxjs';
import { ProblemException } from './problem.exception';

/** Seconds a client should wait: space is freed by an operator, a device comes back slower still. */
const RETRY_AFTER_SECONDS: Record<StorageFailureKind, number> = { full: 30, 'read-only': 60, io: 60, corrupt: 300 };

/**
 * A storage fault met while serving a request (a full disk, a read-only or failing device, a corrupt
 * file) answers 503 `STORAGE_FULL` or `STORAGE_UNAVAILABLE` with `Retry-After`, never a bare 500: the
 * request was sound, and what it would have written was not written. The cause goes to the log.
 */
@Injectable()
export class StorageFailureInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Storage');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        const kind = storageFailureKind(error);
        if (!kind) throw error;
        this.logger.error(`storage fault (${kind}) while serving a request: ${error instanceof Error ? error.message : String(error)}`);
        context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(RETRY_AFTER_SECONDS[kind]));
        throw kind === 'full'
          ? new ProblemException(503, 'STORAGE_FULL', 'the service has run out of storage space; nothing was written; retry later with the same Idempotency-Key', { retryAfterSeconds: RETRY_AFTER_SECONDS[kind] })
          : new ProblemException(503, 'STORAGE_UNAVAILABLE', 'the service cannot use its storage right now; nothing was written; retry later with the same Idempotency-Key', {
              retryAfterSeconds: RETRY_AFTER_SECONDS[kind],
            });
      }),
    );
  }
}
