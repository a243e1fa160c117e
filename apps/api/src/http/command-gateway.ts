import type { CommandAnswer } from '@csp/application/command-handling/command-answer';
import type { CommandContext } from '@csp/application/command-handling/command-context';
import { IdempotencyKeys } from '@csp/application/command-handling/idempotency-keys';
import { DomainError } from '@csp/domain/shared/domain-error';
import { Injectable } from '@nestjs/common';
import { Command, CommandBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { Metrics } from '@csp/engine/observability/metrics.service';
import { LOG_POSITION_HEADER } from './problem-details.filter';

/**
 * Sends a command, guards its Idempotency-Key across resources, counts its outcome, and puts the
 * position it wrote on the answer.
 */
@Injectable()
export class CommandGateway {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly metrics: Metrics,
    private readonly idempotencyKeys: IdempotencyKeys,
  ) {}

  async send<Body>(
    name: string,
    context: CommandContext,
    command: Command<CommandAnswer<Body>>,
    response: Response,
  ): Promise<Body> {
    try {
      const result = await this.idempotencyKeys.guard(context, name, () => this.commandBus.execute(command));
      if (result.position) response.setHeader(LOG_POSITION_HEADER, result.position);
      this.metrics.recordCommand(name, 'succeeded');
      return result.body;
    } catch (error) {
      this.metrics.recordCommand(name, error instanceof DomainError ? 'rejected' : 'failed');
      throw error;
    }
  }
}
