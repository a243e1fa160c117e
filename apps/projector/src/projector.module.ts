import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { EngineConfig } from '@csp/engine/config/engine-config';
import { EngineModule } from '@csp/engine/engine.module';
import { buildLoggerParams } from '@csp/engine/observability/logging';

/**
 * The projector process of the at-scale layout: folds the log into the shared read store and
 * runs the lifecycle scheduler, while api replicas run with `PROJECTIONS=external`.
 */
@Module({})
export class ProjectorModule {
  static forRoot(config: EngineConfig, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [
        LoggerModule.forRoot(buildLoggerParams({ env, stdoutIsTty: Boolean(process.stdout.isTTY) })),
        EngineModule.forRoot({ config: { ...config, projections: 'in-process' }, roles: ['projector'] }),
      ],
    };
  }
}
