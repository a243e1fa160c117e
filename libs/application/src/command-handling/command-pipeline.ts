import { DomainError } from '@csp/domain/shared/domain-error';
import { Injectable } from '@nestjs/common';
import { Command, CommandBus } from '@nestjs/cqrs';
import type { CommandAnswer } from './command-answer';
import type { CommandContext } from './command-context';
import { IdempotencyKeys } from './idempotency-keys';

/** `rejected`: a rule said no (DomainError); `failed`: anything unexpected. */
export type CommandOutcomeLabel = 'succeeded' | 'rejected' | 'failed';

/** Where command outcomes are counted; the engine's metrics implement it. */
export abstract class CommandMetrics {
  abstract recordCommand(name: string, outcome: CommandOutcomeLabel): void;
}

/**
 * The one way in for every command, whoever sends it (HTTP, the CLI, a webhook reactor): the
 * Idempotency-Key guarded across resources, the outcome counted, the command run through the bus.
 * Callers add only what their transport needs (HTTP puts the position in `X-Log-Position`).
 *
 * @example
 *   const { body, position } = await pipeline.execute('CancelSubscription', context, new CancelSubscriptionCommand(target));
 */
@Injectable()
export class CommandPipeline {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly metrics: CommandMetrics,
    private readonly idempotencyKeys: IdempotencyKeys,
  ) {}

  async execute<Body>(name: string, context: CommandContext, command: Command<CommandAnswer<Body>>): Promise<CommandAnswer<Body>> {
    try {
      const answer = await this.idempotencyKeys.guard(context, name, () => this.commandBus.execute(command));
      this.metrics.recordCommand(name, 'succeeded');
      return answer;
    } catch (error) {
      this.metrics.recordCommand(name, error instanceof DomainError ? 'rejected' : 'failed');
      throw error;
    }
  }
}
