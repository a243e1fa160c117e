import type { OrderState } from '@csp/domain/order/order.decider';
import type { ReadModelDb } from '@csp/read-models';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import type { CommandContext } from '../command-handling/command-context';
import { Clock } from '../ports/clock.port';
import { READ_MODEL_DB } from '../tokens';
import { SubscriptionLifecycle } from './subscription-lifecycle';

const PROGRESS_EVERY = 500;

/** The scheduler acts as the service itself; its events say so in their metadata. */
const SCHEDULER: Principal = { userId: 'lifecycle-scheduler', tenantId: 'system', kind: 'service', roles: [] };

export interface SchedulerRun {
  ordersFulfilled: number;
  subscriptionsAdvanced: number;
}

/**
 * Moves subscriptions along the calendar: finishes owed fulfilment, bills installments that fell
 * due, renews or expires terms that ended. Which subscriptions to look at comes from the read
 * model (`next_due_at`, `pending_fulfilment`), rebuilt from the log; what to append is decided on
 * each subscription's own stream with its expected revision. So memory decides nothing: a restart
 * in the middle of a catch-up redoes only what the log does not yet hold, and nothing twice.
 */
@Injectable()
export class LifecycleScheduler {
  private readonly logger = new Logger(LifecycleScheduler.name);
  private running: Promise<SchedulerRun> | undefined;
  private rerunRequested = false;

  constructor(
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly clock: Clock,
  ) {}

  /** Runs one pass; a call during a pass asks for another pass right after it (runs never overlap). */
  async runDue(): Promise<SchedulerRun> {
    if (this.running) {
      this.rerunRequested = true;
      return this.running;
    }
    this.running = this.passUntilQuiet().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async passUntilQuiet(): Promise<SchedulerRun> {
    const total: SchedulerRun = { ordersFulfilled: 0, subscriptionsAdvanced: 0 };
    do {
      this.rerunRequested = false;
      const run = await this.pass(this.clock.now());
      total.ordersFulfilled += run.ordersFulfilled;
      total.subscriptionsAdvanced += run.subscriptionsAdvanced;
    } while (this.rerunRequested);
    return total;
  }

  private async pass(now: string): Promise<SchedulerRun> {
    const context: CommandContext = { principal: SCHEDULER, correlationId: `lifecycle-${now}` };
    const owed = await this.db.selectFrom('orders').select('state').where('pending_fulfilment', '>', 0).execute();
    for (const row of owed) {
      const state = JSON.parse(row.state) as OrderState;
      if (state.status === 'placed') await this.lifecycle.fulfil(state.order, context);
    }
    const due = await this.db
      .selectFrom('subscriptions')
      .select('id')
      .where('status', '=', 'active')
      .where('next_due_at', '<=', now)
      .orderBy('next_due_at')
      .execute();
    let advanced = 0;
    for (const [index, { id }] of due.entries()) {
      const outcome = await this.lifecycle.advance(id, now, context);
      if (outcome.events.length > 0) advanced++;
      // A catch-up after downtime or a large import can take a while: say how far it is.
      if ((index + 1) % PROGRESS_EVERY === 0) this.logger.log(`lifecycle pass at ${now}: ${index + 1}/${due.length} due subscriptions looked at`);
    }
    if (owed.length > 0 || advanced > 0) {
      this.logger.log(`lifecycle pass at ${now}: ${owed.length} orders fulfilled, ${advanced} subscriptions advanced`);
    }
    return { ordersFulfilled: owed.length, subscriptionsAdvanced: advanced };
  }
}
