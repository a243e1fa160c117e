import { Catalogue } from '@csp/domain/catalogue/catalogue';
import { createOrderDecider, type OrderState, type PurchaseSoftware } from '@csp/domain/order/order.decider';
import { orderStream, type OrderPlaced } from '@csp/domain/order/order.events';
import { DomainError } from '@csp/domain/shared/domain-error';
import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { LogPosition } from '@csp/event-store';
import { CustomerDirectory } from '../access/customer-directory';
import { requireRole } from '../auth/authorize';
import { answer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import { CommandRunner } from '../command-handling/command-runner';
import { idempotencyScope } from '../command-handling/idempotency-scope';
import { OwedFulfilment } from '../fulfilment/owed-fulfilment';
import { later, SubscriptionLifecycle } from '../fulfilment/subscription-lifecycle';
import { Clock } from '../ports/clock.port';
import { deterministicId, deterministicIdBeside, IdGenerator } from '../ports/id-generator.port';
import { orderView } from '../views/order.view';
import { PurchaseSoftwareCommand } from './purchase-software.command';

@CommandHandler(PurchaseSoftwareCommand)
export class PurchaseSoftwareHandler implements ICommandHandler<PurchaseSoftwareCommand> {
  private readonly orderDecider;
  private readonly logger = new Logger(PurchaseSoftwareHandler.name);

  constructor(
    private readonly runner: CommandRunner,
    private readonly customers: CustomerDirectory,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly owed: OwedFulfilment,
    catalogue: Catalogue,
  ) {
    this.orderDecider = createOrderDecider(catalogue);
  }

  async execute({ context, customerRef, lineItems, backfillPurchasedAt }: PurchaseSoftwareCommand) {
    const { principal } = context;
    if (backfillPurchasedAt === undefined) requireRole(principal, ['AdminAgent', 'GlobalAdmin']);
    else requireRole(principal, ['Importer'], { kinds: ['service'] });
    const customer = await this.customers.forCommand(principal, customerRef);
    const now = this.clock.now();
    if (backfillPurchasedAt !== undefined && Date.parse(backfillPurchasedAt) > Date.parse(now)) {
      throw new DomainError('PURCHASE_DATE_IN_FUTURE', 'unprocessable', 'A backfilled purchase cannot lie in the future');
    }
    // A retry with the same key must land on the same order stream, where the log answers it.
    const orderIsNew = !context.idempotency;
    const orderId = context.idempotency
      ? deterministicId('order', idempotencyScope(context), context.idempotency.key)
      : this.ids.newId();
    const command: PurchaseSoftware = {
      type: 'PurchaseSoftware',
      orderId,
      partnerId: principal.tenantId,
      customer,
      lineItems,
      subscriptionIds: lineItems.map((_, index) => deterministicIdBeside(orderId, 'line', String(index + 1))),
      purchasedAt: backfillPurchasedAt ?? now,
      backfilled: backfillPurchasedAt !== undefined,
    };
    const commandType = backfillPurchasedAt === undefined ? 'PurchaseSoftware' : 'BackfillPurchase';
    const atOnce = this.runner.startsStreamsAtOnce(context) ? await this.placeWithSubscriptions(command, commandType, context, now) : undefined;
    if (atOnce) return atOnce;

    const outcome = await this.runner.run(
      orderStream(orderId),
      this.orderDecider,
      (state: OrderState) => this.orderDecider.decide(command, state),
      context,
      commandType,
      { streamIsNew: orderIsNew },
    );
    if (outcome.state.status !== 'placed') throw new Error(`Order ${orderId} was not placed`);
    const placed = outcome.state.order as OrderPlaced['data'];
    const started: string[] = [];
    const position = later(outcome.position, await this.completeOrder(placed, context, now, started, orderIsNew));
    // A repeat (same Idempotency-Key) answers as the first run did: a purchase's view as of its
    // instant, which is the first run's clock; a backfill's as of now (its first run's clock is not kept).
    return answer(orderView(outcome.state, placed.backfilled ? now : placed.purchasedAt, provisioned(started)), position);
  }

  /**
   * A new order and its subscriptions in one append, where the log can write several streams at
   * once: one commit instead of one per stream, and no order whose subscriptions are still owed.
   * Undefined, with nothing appended, when a stream exists after all: the order then goes first.
   */
  private async placeWithSubscriptions(command: PurchaseSoftware, commandType: string, context: CommandContext, now: string) {
    const initial = this.orderDecider.initialState();
    const orderEvents = this.orderDecider.decide(command, initial);
    const state = orderEvents.reduce(this.orderDecider.evolve, initial);
    if (state.status !== 'placed') throw new Error(`Order ${command.orderId} was not placed`);
    const placed = state.order as OrderPlaced['data'];
    const subscriptions = this.lifecycle.starts(placed);
    const positions = await this.runner.startStreams([{ streamName: orderStream(command.orderId), events: orderEvents, commandType }, ...subscriptions], context);
    if (!positions) return undefined;
    let position = positions.reduce<LogPosition | undefined>(later, undefined);
    if (placed.backfilled) position = later(position, await this.catchUpBackfill(placed, context, now));
    const started = placed.lineItems.flatMap((line) => (line.subscriptionId ? [line.subscriptionId] : []));
    return answer(orderView(state, placed.backfilled ? now : placed.purchasedAt, provisioned(started)), position);
  }

  /**
   * Starts the order's subscriptions (collecting the durable ones in `started`) and, for a backfill,
   * catches them up to now. The order is durable already, so a failure here does not make the
   * purchase fail (a retry without a key would buy twice): the lines not started answer `pending`
   * and are retried within seconds; the lifecycle scheduler covers what the retries leave.
   */
  private async completeOrder(
    placed: OrderPlaced['data'],
    context: CommandContext,
    now: string,
    started: string[],
    orderIsNew: boolean,
  ): Promise<LogPosition | undefined> {
    try {
      const position = await this.lifecycle.fulfil(placed, context, started, orderIsNew);
      return placed.backfilled ? later(position, await this.advanceBackfill(placed, context, now)) : position;
    } catch (error) {
      this.logger.warn({ correlationId: context.correlationId }, `order ${placed.orderId} is placed; its subscriptions are retried shortly (${String(error)})`);
      const unstarted = placed.lineItems.filter((line) => line.subscriptionId && !started.includes(line.subscriptionId));
      if (unstarted.length > 0) this.owed.finishSoon(placed, { principal: context.principal, correlationId: context.correlationId });
      return undefined;
    }
  }

  /** For a backfill whose subscriptions all started in one append; a failure here leaves the catch-up to the scheduler. */
  private async catchUpBackfill(placed: OrderPlaced['data'], context: CommandContext, now: string): Promise<LogPosition | undefined> {
    try {
      return await this.advanceBackfill(placed, context, now);
    } catch (error) {
      this.logger.warn({ correlationId: context.correlationId }, `order ${placed.orderId} is placed with its subscriptions; the lifecycle scheduler catches them up (${String(error)})`);
      return undefined;
    }
  }

  /**
   * Catching up is driven by the calendar, not by the caller's request, so it runs without the
   * Idempotency-Key: with it, the runner would take the fulfilment just appended under that key
   * for an earlier run of this step and skip the catch-up. The step needs no key: it appends
   * only what is due and not yet in the stream, under the stream's expected revision.
   */
  private async advanceBackfill(placed: OrderPlaced['data'], context: CommandContext, now: string): Promise<LogPosition | undefined> {
    const catchUp: CommandContext = { principal: context.principal, correlationId: context.correlationId };
    let position: LogPosition | undefined;
    for (const line of placed.lineItems) {
      if (!line.subscriptionId) continue;
      position = later(position, (await this.lifecycle.advance(line.subscriptionId, now, catchUp)).position);
    }
    return position;
  }
}

function provisioned(subscriptionIds: readonly string[]): Record<string, 'provisioned'> {
  return Object.fromEntries(subscriptionIds.map((subscriptionId) => [subscriptionId, 'provisioned' as const]));
}
