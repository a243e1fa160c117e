import { NO_STREAM, WrongExpectedRevisionError, type EventStore } from '@csp/event-store';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { deterministicId, IdGenerator } from '../ports/id-generator.port';
import { EVENT_STORE } from '../tokens';
import type { CommandContext } from './command-context';
import { idempotencyScope, keyReused } from './idempotency-scope';

const IDEMPOTENCY_KEY_USED = 'IdempotencyKeyUsed';

/**
 * Remembers, per tenant, which request each Idempotency-Key first answered, so the same key sent
 * with another request is refused even when that request targets another resource (the runner's
 * in-stream check only sees its own stream). The record is written in the key's own stream, only
 * after the command succeeded: a refused command appends nothing, and a no-op (autorenew set to its
 * current value) leaves the subscription untouched while its key still answers only that request.
 *
 * @example
 *   const answer = await keys.guard(context, 'CancelSubscription', () => commandBus.execute(command));
 */
@Injectable()
export class IdempotencyKeys {
  private readonly logger = new Logger(IdempotencyKeys.name);
  /** Per key, the tail of the requests waiting their turn. */
  private readonly turns = new Map<string, Promise<void>>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly ids: IdGenerator,
  ) {}

  /**
   * Runs a command under its key: refused when the key already answered another request, and
   * remembered once the command changed something. Requests sharing a key run one at a time in this
   * process, so two different requests sent at once under one key cannot both pass the check.
   * (Across api replicas that window remains; each stream's own check still refuses a reuse on
   * the same resource.)
   */
  async guard<Result>(context: CommandContext, commandType: string, run: () => Promise<Result>): Promise<Result> {
    if (!context.idempotency) return run();
    return this.inTurn(streamOf(context), async () => {
      await this.assertUnused(context);
      const result = await run();
      await this.remember(context, commandType);
      return result;
    });
  }

  private async inTurn<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(key) ?? Promise.resolve();
    const mine = previous.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(key, settled);
    try {
      return await mine;
    } finally {
      if (this.turns.get(key) === settled) this.turns.delete(key);
    }
  }

  /** Throws 422 IDEMPOTENCY_KEY_REUSED when the key already answered a different request. */
  private async assertUnused(context: CommandContext): Promise<void> {
    const recorded = await this.recordedHash(context);
    if (recorded !== undefined && recorded !== context.idempotency?.requestHash) throw keyReused();
  }

  private async remember(context: CommandContext, commandType: string): Promise<void> {
    const idempotency = context.idempotency;
    if (!idempotency) return;
    try {
      await this.store.appendToStream(
        streamOf(context),
        [
          {
            id: this.ids.newId(),
            type: IDEMPOTENCY_KEY_USED,
            data: { scope: idempotencyScope(context), key: idempotency.key, requestHash: idempotency.requestHash, commandType },
            metadata: { correlationId: context.correlationId, userId: context.principal.userId },
          },
        ],
        { expectedRevision: NO_STREAM },
      );
    } catch (error) {
      // The command itself is done and acknowledged by now; failing to remember its key must not
      // turn its answer into an error. A later reuse of the key is then caught by the stream's own
      // check where it targets the same resource.
      if (!(error instanceof WrongExpectedRevisionError)) {
        this.logger.warn({ correlationId: context.correlationId }, `could not remember an Idempotency-Key (${commandType}): ${String(error)}`);
        return;
      }
      // Already remembered: by this request's earlier run, or by a different request racing this one.
      if ((await this.recordedHash(context)) !== idempotency.requestHash) {
        this.logger.warn({ correlationId: context.correlationId }, `Idempotency-Key reused concurrently for different requests (${commandType})`);
      }
    }
  }

  private async recordedHash(context: CommandContext): Promise<string | undefined> {
    if (!context.idempotency) return undefined;
    const [first] = await this.store.readStream(streamOf(context));
    return first ? String(first.data['requestHash']) : undefined;
  }
}

function streamOf(context: CommandContext): string {
  return `idempotency-${deterministicId(idempotencyScope(context), context.idempotency!.key)}`;
}
