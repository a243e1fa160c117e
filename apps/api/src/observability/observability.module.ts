import { DynamicModule, InjectionToken, Module, ModuleMetadata } from '@nestjs/common';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from '@csp/engine/observability/metrics.module';
import { READINESS_CHECKS, READINESS_TIMEOUT_MS, ReadinessCheck } from '@csp/engine/observability/readiness-check';

export interface ObservabilityOptions {
  /** Modules whose providers the readiness factory injects (event store, read store). */
  imports?: ModuleMetadata['imports'];
  readinessChecks: {
    inject?: InjectionToken[];
    useFactory: (...dependencies: never[]) => readonly ReadinessCheck[] | Promise<readonly ReadinessCheck[]>;
  };
  /** A check slower than this counts as failed; orchestrator probes typically give up after a few seconds. */
  readinessTimeoutMs?: number;
}

/** `GET /health`, `GET /metrics`, and the injectable `Metrics` (global). */
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [MetricsModule, ...(options.imports ?? [])],
      controllers: [HealthController, MetricsController],
      providers: [
        {
          provide: READINESS_CHECKS,
          inject: options.readinessChecks.inject ?? [],
          useFactory: options.readinessChecks.useFactory,
        },
        { provide: READINESS_TIMEOUT_MS, useValue: options.readinessTimeoutMs ?? 2000 },
      ],
    };
  }
}
