import { DomainError } from '@csp/domain/shared/domain-error';
import { positionFromString } from '@csp/event-store';
import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { from, switchMap, type Observable } from 'rxjs';
import type { EngineConfig } from '@csp/engine/config/engine-config';
import { ENGINE_CONFIG } from '@csp/engine/config/engine-config.token';
import { ProjectionSupervisor } from '@csp/engine/projections/projection-supervisor.service';

export const MIN_POSITION_HEADER = 'x-min-position';

/**
 * Read-your-writes: a request carrying `X-Min-Position` (the `X-Log-Position` of an earlier command)
 * is answered only once the read models reflect that position, or 503 PROJECTION_LAGGING after 5 s.
 * Queries need it; commands accept it too, for when they name a customer or subscription by a name
 * that only the read models resolve (a domain just registered, a friendly name just bought).
 */
@Injectable()
export class ConsistencyInterceptor implements NestInterceptor {
  constructor(
    private readonly projection: ProjectionSupervisor,
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const header = context.switchToHttp().getRequest<Request>().headers[MIN_POSITION_HEADER];
    if (header === undefined) return next.handle();
    const text = Array.isArray(header) ? header[0]! : header;
    const position = positionFromString(text);
    if (!position) {
      throw new DomainError('VALIDATION_FAILED', 'invalid', 'X-Min-Position is not a position this service issued', {
        errors: [{ in: 'header', field: 'X-Min-Position', messages: ['must be an X-Log-Position value'] }],
      });
    }
    return from(this.projection.waitFor(position, this.config.minPositionWaitMs)).pipe(switchMap(() => next.handle()));
  }
}
