import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '../../api/src/config/app-config';
import { EngineModule } from '../../api/src/infrastructure/engine.module';
import { LifecycleTicker } from '../../api/src/infrastructure/lifecycle-ticker.service';
import { ReadModelProjection } from '../../api/src/infrastructure/read-model-projection.service';
import { buildLoggerParams } from '../../api/src/observability/logging';
import { MetricsModule } from '../../api/src/observability/metrics.module';

/**
 * The projector process of the at-scale layout: folds the log into the shared read store and
 * runs the lifecycle scheduler, while api replicas run with `PROJECTIONS=external`.
 */
@Module({})
export class ProjectorModule {
  static forRoot(config: AppConfig, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [
        LoggerModule.forRoot(buildLoggerParams({ env, stdoutIsTty: Boolean(process.stdout.isTTY) })),
        MetricsModule,
        EngineModule.forRoot({ config: { ...config, projections: 'in-process' } }),
      ],
      providers: [ReadModelProjection, LifecycleTicker],
    };
  }
}
