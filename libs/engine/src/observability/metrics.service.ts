import { CommandMetrics, type CommandOutcomeLabel } from '@csp/application/command-handling/command-pipeline';
import type { LiveBatchCommitted } from '@csp/read-models';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectStoppableDefaultMetrics } from './stoppable-default-metrics';

/**
 * One registry per application instead of prom-client's global one, so tests can start several
 * apps in one process without "metric already registered" errors.
 */
@Injectable()
export class Metrics extends CommandMetrics implements OnApplicationShutdown {
  readonly registry = new Registry();

  private readonly commands = new Counter({
    name: 'commands_total',
    help: 'Commands handled, by command name and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly httpErrors = new Counter({
    name: 'http_errors_total',
    help: 'Problem documents sent, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  private readonly projectionLag = new Gauge({
    name: 'projection_lag_events',
    help: 'Log positions between the head and what a projection has applied (events on SQLite, bytes on EventStoreDB)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  private readonly projectionPosition = new Gauge({
    name: 'projection_position',
    help: 'Last log position a projection has applied',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  private readonly requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request reaching its route to the last byte of the answer, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /**
   * The embedded log's group commits, fsync included: the storage latency every command waits for.
   * A slow disk shows here before requests time out. A batch the disk refused is not a commit: it
   * is counted by its answers (`http_errors_total{code="STORAGE_FULL"}` and the like).
   */
  private readonly logCommitDuration = new Histogram({
    name: 'event_log_commit_duration_seconds',
    help: 'Time from handing a batch of appends to the embedded log to its durable outcome (fsync included); zero on EventStoreDB',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly logCommitAppends = new Histogram({
    name: 'event_log_commit_appends',
    help: 'Appends that shared one group commit of the embedded log; zero on EventStoreDB',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  /**
   * The live read models' freshness as the projections see it: per live batch, the time from its
   * oldest event's write into the log (the log's commit included) to the commit that made it visible
   * in every read model. A query with `X-Min-Position` waits for this, less the log's commit (its
   * position comes after it) and plus the hand-over to the thread answering it.
   */
  private readonly projectionVisibleAfter = new Histogram({
    name: 'projection_visible_after_seconds',
    help: "Per live projection batch, time from its oldest event's write into the log to its commit into every read model",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly projectionBatchFold = new Histogram({
    name: 'projection_batch_fold_seconds',
    help: 'Per live projection batch, time from the start of its transaction to its commit (every read model folded)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  private readonly projectionBatchEvents = new Histogram({
    name: 'projection_batch_events',
    help: 'Events in one live projection batch',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 500],
    registers: [this.registry],
  });

  private readonly beforeScrape: Array<() => Promise<void>> = [];

  private readonly stopDefaultMetrics = collectStoppableDefaultMetrics(this.registry);

  onApplicationShutdown(): void {
    this.stopDefaultMetrics();
  }

  /** Gauges that are costly to keep current (lag needs the log head) are measured when scraped. */
  measureOnScrape(measure: () => Promise<void>): void {
    this.beforeScrape.push(measure);
  }

  /** `rejected`: a rule said no (DomainError); `failed`: anything unexpected. */
  override recordCommand(command: string, outcome: CommandOutcomeLabel): void {
    this.commands.inc({ command, outcome });
  }

  recordHttpError(code: string): void {
    this.httpErrors.inc({ code });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requestDuration.observe({ method, route, status: String(status) }, seconds);
  }

  observeLogCommit(appends: number, durationMs: number): void {
    this.logCommitDuration.observe(durationMs / 1000);
    this.logCommitAppends.observe(appends);
  }

  observeProjectionBatch({ events, foldMs, visibleAfterMs }: LiveBatchCommitted): void {
    this.projectionVisibleAfter.observe(visibleAfterMs / 1000);
    this.projectionBatchFold.observe(foldMs / 1000);
    this.projectionBatchEvents.observe(events);
  }

  setProjectionLag(projection: string, events: number): void {
    this.projectionLag.set({ projection }, events);
  }

  setProjectionPosition(projection: string, position: number): void {
    this.projectionPosition.set({ projection }, position);
  }

  /**
   * A measurement that fails or hangs (a store that cannot be reached) keeps its last value; the
   * scrape still answers, since an outage is exactly when the other metrics are wanted.
   */
  async render(): Promise<string> {
    await Promise.allSettled(this.beforeScrape.map((measure) => withTimeout(measure(), SCRAPE_MEASURE_TIMEOUT_MS)));
    return this.registry.metrics();
  }
}

const SCRAPE_MEASURE_TIMEOUT_MS = 1000;

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`measurement took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
