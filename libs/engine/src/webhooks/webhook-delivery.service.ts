import { Clock } from '@csp/application/ports/clock.port';
import { WebhookDispatcher } from '@csp/application/webhooks/webhook-dispatcher';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ProjectionSupervisor } from '../projections/projection-supervisor.service';

/** How often the dispatcher looks for new events and due retries. */
const PASS_INTERVAL_MS = 100;

/**
 * Runs the webhook dispatcher in the process that runs projections (the api on the embedded default,
 * the projector in the split deployment), so exactly one process delivers: a pass every 100 ms and
 * at once when the clock jumps. A stop aborts the attempts in flight (they are sent again after the
 * restart, with the same `webhook-id`) and waits for the pass to end.
 */
@Injectable()
export class WebhookDelivery implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribeClock: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();
  private passing = false;
  private again = false;

  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly projections: ProjectionSupervisor,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.projections.runsHere) return;
    this.unsubscribeClock = this.clock.onChange(() => this.pass());
    this.pass();
  }

  async onModuleDestroy(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    this.unsubscribeClock?.();
    await this.running;
  }

  /** Starts a pass now, or right after the one in flight; the next is scheduled when it ends. */
  private pass(): void {
    if (this.abort.signal.aborted) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = true;
    clearTimeout(this.timer);
    this.running = this.dispatcher
      .deliverDue(this.abort.signal)
      .catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.logger.error(`webhook pass failed: ${String(error)}`);
      })
      .finally(() => {
        this.passing = false;
        if (this.abort.signal.aborted) return;
        if (this.again) {
          this.again = false;
          this.pass();
          return;
        }
        this.timer = setTimeout(() => this.pass(), PASS_INTERVAL_MS);
        this.timer.unref();
      });
  }
}
