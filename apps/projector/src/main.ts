import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { configFromEnv } from '@csp/engine/config/engine-config';
import { ProjectorModule } from './projector.module';

async function bootstrap(): Promise<void> {
  const config = configFromEnv();
  const app = await NestFactory.createApplicationContext(ProjectorModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  app.get(Logger).log(`projector running on ${config.eventStoreConnectionString ? 'EventStoreDB' : config.dataDir}`);
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Projector failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
