import { CommandMetrics } from '@csp/application/command-handling/command-pipeline';
import { Global, Module } from '@nestjs/common';
import { Metrics } from './metrics.service';

/** Global so command and projection code anywhere can inject `Metrics` without importing this module. */
@Global()
@Module({
  providers: [Metrics, { provide: CommandMetrics, useExisting: Metrics }],
  exports: [Metrics, CommandMetrics],
})
export class MetricsModule {}
