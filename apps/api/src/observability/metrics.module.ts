import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { Metrics } from './metrics.service';

/** Global so command and projection code anywhere can inject `Metrics` without importing this module. */
@Global()
@Module({
  providers: [Metrics],
  controllers: [MetricsController],
  exports: [Metrics],
})
export class MetricsModule {}
