import 'reflect-metadata';
import '@csp/engine/observability/defer-nest-date-formatters';
import { signToken } from '@csp/application/auth/jwt';
import { resolveJwtSecret } from '@csp/application/auth/jwt-secret';
import { NestFactory } from '@nestjs/core';
import { resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configFromEnv } from '@csp/engine/config/engine-config';
import { letWorkerThreadsSizeTheirYoungGeneration } from '@csp/engine/config/worker-young-generation';
import { boundUrl, listenAddressFromEnv, nestLoggerBeforeStart, startupFailureText, type ListenAddress } from '@csp/engine/config/startup';
import { configureHttp, createHttpAdapter } from './http/configure-http';
import { stopGracefullyOnSignals } from './http/graceful-shutdown';
import { applyServerLimits } from './http/server-limits';

let listen: (ListenAddress & { portVariable: string }) | undefined;

async function bootstrap(): Promise<void> {
  letWorkerThreadsSizeTheirYoungGeneration();
  const config = configFromEnv();
  listen = { ...listenAddressFromEnv(process.env, { portVariable: 'PORT', defaultPort: 3000 }), portVariable: 'PORT' };
  // abortOnError off: a failure while wiring the modules reaches the one-line report below instead of
  // a core dump; Nest's own report of it (with the stack) only at LOG_LEVEL=debug.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config }), createHttpAdapter(), { bodyParser: false, bufferLogs: true, abortOnError: false, logger: nestLoggerBeforeStart() });
  const logger = app.get(Logger);
  app.useLogger(logger);
  stopGracefullyOnSignals(app, logger);
  configureHttp(app);
  applyServerLimits(app.getHttpServer(), config.http);
  await app.listen(listen.port, listen.host);
  logger.log(`CSP subscription engine listening on ${boundUrl(app.getHttpServer().address(), listen)} (docs at /docs), data in ${config.dataDir}`);
  const { secret, source } = resolveJwtSecret({ env: process.env, dataDir: config.dataDir });
  if (source === 'dev-file') {
    // A ready token makes the first request one copy-paste away; only in development, never with a real secret.
    const token = await signToken(
      { sub: 'dev-user', tid: 'partner-dev', kind: 'partner', roles: ['AdminAgent'], name: 'Dev Admin Agent' },
      secret,
      { expiresIn: '8h' },
    );
    process.stdout.write(`\nDevelopment AdminAgent token (partner-dev, 8h):\n${token}\n\n`);
  }
  process.stdout.write(`Tokens for other roles, signed with this service's secret:\n  ${tokenCommand(config.dataDir, source)}\n\n`);
}

/** The command that signs with the secret this process uses: the same DATA_DIR (dev secret file) or the same AUTH_JWT_SECRET. */
function tokenCommand(dataDir: string, source: string): string {
  const secret = source === 'dev-file' ? '' : 'AUTH_JWT_SECRET=<the secret this service was started with> ';
  return `${secret}DATA_DIR=${JSON.stringify(resolve(dataDir))} npm run --silent token -- --role AdminAgent`;
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${startupFailureText(error, process.env, listen)}`);
  process.exit(1);
});
