import { LifecycleScheduler } from '@csp/application/fulfilment/lifecycle-scheduler';
import { Clock } from '@csp/application/ports/clock.port';
import { DomainError } from '@csp/domain/shared/domain-error';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { EngineConfig } from '../config/engine-config';
import { ENGINE_CONFIG } from '../config/engine-config.token';
import { ProjectionSupervisor } from '../projections/projection-supervisor.service';

/**
 * Runs the lifecycle scheduler at start (catching up whatever fell due while the service was down),
 * then every `schedulerIntervalMs`, and at once whenever the clock jumps (a test's manual clock).
 */
@Injectable()
export class LifecycleTicker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LifecycleTicker.name);
  private timer: NodeJS.Timeout | undefined;
  private unsubscribeClock: (() => void) | undefined;
  private inFlight: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private lastPassEndedAt: number | undefined;
  private passStartedAt: number | undefined;

  constructor(
    private readonly scheduler: LifecycleScheduler,
    private readonly projection: ProjectionSupervisor,
    private readonly clock: Clock,
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Only where the projection runs: one active scheduler, beside the one active projector.
    if (!this.projection.runsHere) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.config.schedulerIntervalMs);
    this.timer.unref();
    this.unsubscribeClock = this.clock.onChange(() => this.tick());
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.unsubscribeClock?.();
    await this.inFlight;
  }

  /**
   * Whether the scheduler ticks: not running here (an api beside a projector), or a pass ended (well
   * or not; a failed pass is retried at the next tick) or is under way within two intervals.
   */
  isAlive(now = Date.now()): boolean {
    if (!this.projection.runsHere) return true;
    const lastSign = Math.max(this.lastPassEndedAt ?? 0, this.passStartedAt ?? 0);
    return lastSign > 0 && now - lastSign <= 2 * this.config.schedulerIntervalMs + 60_000;
  }

  /** One scheduler pass on read models that reflect the whole log. */
  async runNow(): Promise<void> {
    await this.projection.catchUpWithLog(this.config.minPositionWaitMs);
    await this.scheduler.runDue();
    // Stopping: the projection is stopping too, and nothing after this pass reads the read models.
    if (!this.stopping) await this.projection.catchUpWithLog(this.config.minPositionWaitMs);
  }

  private tick(): void {
    this.passStartedAt = Date.now();
    this.inFlight = this.runNow()
      .catch((error: unknown) => {
        if (this.stopping) return;
        // A start that folds a large log first: the pass waits for the read models, not a fault.
        if (error instanceof DomainError && error.code === 'PROJECTION_LAGGING') {
          this.logger.log('lifecycle pass put off to the next tick: the read models are still catching up with the log');
        } else this.logger.error(`lifecycle pass failed: ${String(error)}`);
      })
      .finally(() => (this.lastPassEndedAt = Date.now()));
  }
}
