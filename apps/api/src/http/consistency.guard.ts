import { DomainError } from '@csp/domain/shared/domain-error';
import { positionFromString } from '@csp/event-store';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { EngineConfig } from '@csp/engine/config/engine-config';
import { ENGINE_CONFIG } from '@csp/engine/config/engine-config.token';
import { ProjectionSupervisor } from '@csp/engine/projections/projection-supervisor.service';

export const MIN_POSITION_HEADER = 'x-min-position';

/**
 * Read-your-writes: a request carrying `X-Min-Position` (the `X-Log-Position` of an earlier command)
 * is answered only once the read models reflect that position, or 503 PROJECTION_LAGGING after 5 s.
 * Queries need it; commands accept it too, for when they name a customer or subscription by a name
 * that only the read models resolve (a domain just registered, a friendly name just bought).
 * A guard, run after authentication, rather than an interceptor: an interceptor costs every request
 * an async resource and an rxjs pipeline, header or not.
 */
@Injectable()
export class ConsistencyGuard implements CanActivate {
  constructor(
    private readonly projection: ProjectionSupervisor,
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers[MIN_POSITION_HEADER];
    if (header === undefined) return true;
    const text = Array.isArray(header) ? header[0]! : header;
    const position = positionFromString(text);
    if (!position) {
      throw new DomainError('VALIDATION_FAILED', 'invalid', 'X-Min-Position is not a position this service issued', {
        errors: [{ in: 'header', field: 'X-Min-Position', messages: ['must be an X-Log-Position value'] }],
      });
    }
    await this.projection.waitFor(position, this.config.minPositionWaitMs);
    return true;
  }
}
