import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';

/** How long requests already in flight may take to finish once the service is asked to stop. */
const DRAIN_DEADLINE_MS = 10_000;

/**
 * Stops the way an orchestrator expects: on SIGTERM/SIGINT stop accepting, tell keep-alive clients
 * to go (`Connection: close`), let requests in flight finish (cutting them after a deadline), and
 * only then stop the projection, the scheduler and the stores. Nest's own hooks stop those first
 * and close HTTP last, so a busy keep-alive client kept getting commands acknowledged while nothing
 * was folded, and the process never exited. A second signal exits at once.
 */
export function stopGracefullyOnSignals(app: NestFastifyApplication, logger: LoggerService): void {
  let stopping = false;
  app.getHttpAdapter().getInstance().addHook('onRequest', (_request, reply, done) => {
    if (stopping) reply.header('Connection', 'close');
    done();
  });
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      logger.warn?.(`${signal} again: exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    logger.log(`${signal}: draining requests in flight, then stopping`);
    const server = app.getHttpServer() as Server;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
    const cutOff = setTimeout(() => server.closeAllConnections(), DRAIN_DEADLINE_MS);
    server.closeIdleConnections();
    await closed;
    clearInterval(closeIdle);
    clearTimeout(cutOff);
    await app.close();
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, (received) => void stop(received));
}
