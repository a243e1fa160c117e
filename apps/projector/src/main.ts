import 'reflect-metadata';
import '@csp/engine/observability/defer-nest-date-formatters';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { once } from 'node:events';
import { configFromEnv } from '@csp/engine/config/engine-config';
import { boundUrl, listenAddressFromEnv, nestLoggerBeforeStart, startupFailureText, type ListenAddress } from '@csp/engine/config/startup';
import { ProjectorModule } from './projector.module';
import { projectorHttpServer } from './projector-http';

let listen: (ListenAddress & { portVariable: string }) | undefined;

async function bootstrap(): Promise<void> {
  const config = configFromEnv();
  listen = { ...listenAddressFromEnv(process.env, { portVariable: 'PROJECTOR_PORT', defaultPort: 3001 }), portVariable: 'PROJECTOR_PORT' };
  // abortOnError off: a failure while wiring the modules reaches the one-line report below instead of
  // a core dump; Nest's own report of it (with the stack) only at LOG_LEVEL=debug.
  const app = await NestFactory.createApplicationContext(ProjectorModule.forRoot(config), { bufferLogs: true, abortOnError: false, logger: nestLoggerBeforeStart() });
  app.useLogger(app.get(Logger));
  await app.init();
  const server = projectorHttpServer(app);
  server.listen(listen.port, listen.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))]);
  app.enableShutdownHooks();
  const closeServer = () => server.close();
  process.once('SIGTERM', closeServer).once('SIGINT', closeServer);
  app
    .get(Logger)
    .log(
      `projector running on ${config.eventStoreConnectionString ? 'EventStoreDB' : config.dataDir}; health and metrics on ${boundUrl(server.address(), listen)}`,
    );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Projector failed to start: ${startupFailureText(error, process.env, listen)}`);
  process.exit(1);
});
