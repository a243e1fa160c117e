import type { OrderPlaced } from '@csp/domain/order/order.events';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { CommandContext } from '../command-handling/command-context';
import { SubscriptionLifecycle } from './subscription-lifecycle';

/** Delays between attempts: the first within a second, the whole series within about half a minute. */
export const FULFILMENT_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 16000];

/**
 * Finishes, within seconds, the fulfilment a purchase could not finish while answering (its
 * subscription lines then answer `pending`), instead of leaving it to the scheduler's next pass a
 * minute or more away. Each attempt is `SubscriptionLifecycle.fulfil`, which appends only what the
 * subscription streams do not hold yet, so an attempt racing the scheduler starts nothing twice.
 * When every attempt fails (or the process stops) the scheduler still finishes it: at start-up and
 * on every pass it looks for orders whose fulfilment is owed.
 */
@Injectable()
export class OwedFulfilment implements OnApplicationShutdown {
  private readonly logger = new Logger(OwedFulfilment.name);
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly lifecycle: SubscriptionLifecycle) {}

  /** Tries again shortly, with growing pauses, until the order's subscriptions have all started. */
  finishSoon(order: OrderPlaced['data'], context: CommandContext): void {
    this.attemptAfter(0, order, context);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private attemptAfter(attempt: number, order: OrderPlaced['data'], context: CommandContext): void {
    const delay = FULFILMENT_RETRY_DELAYS_MS[attempt];
    if (delay === undefined || this.stopped) {
      this.logger.warn(`order ${order.orderId}: fulfilment still owed after ${attempt} retries; the scheduler will finish it`);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.lifecycle.fulfil(order, context).then(
        () => this.logger.log(`order ${order.orderId}: owed fulfilment finished on retry ${attempt + 1}`),
        () => this.attemptAfter(attempt + 1, order, context),
      );
    }, delay);
    // A pending retry must not keep a stopping process alive; the scheduler covers what it leaves.
    timer.unref();
    this.timers.add(timer);
  }
}
