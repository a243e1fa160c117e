import { EVENT_STORE, READ_MODEL_DB } from '@csp/application/tokens';
import { engineReadinessChecks } from '@csp/engine/observability/engine-readiness';
import { Metrics } from '@csp/engine/observability/metrics.service';
import { ProjectionSupervisor } from '@csp/engine/projections/projection-supervisor.service';
import { LifecycleTicker } from '@csp/engine/scheduling/lifecycle-ticker.service';
import type { EventStore } from '@csp/event-store';
import type { ReadModelDb } from '@csp/read-models';
import type { INestApplicationContext } from '@nestjs/common';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';

/** A check slower than this counts as failed, as on the api's `/health/ready`. */
const CHECK_TIMEOUT_MS = 2000;

/**
 * The projector's own small HTTP port, for the orchestrator and Prometheus only: `GET /health`
 * (liveness), `GET /health/ready` (the stores, every projection within the lag bound, the
 * scheduler) and `GET /metrics`. Nothing else; no data is served here.
 *
 * @example
 *   const server = projectorHttpServer(app);
 *   server.listen(3001, '127.0.0.1');
 */
export function projectorHttpServer(app: INestApplicationContext): Server {
  const metrics = app.get(Metrics);
  const checks = engineReadinessChecks({
    store: app.get<EventStore>(EVENT_STORE),
    db: app.get<ReadModelDb>(READ_MODEL_DB),
    supervisor: app.get(ProjectionSupervisor),
    ticker: app.get(LifecycleTicker),
  });
  return createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') return problem(response, 405, 'METHOD_NOT_ALLOWED', 'only GET is served here', { Allow: 'GET' });
    if (path === '/health') return json(response, 200, { status: 'ok' });
    if (path === '/health/ready') {
      void Promise.all(checks.map(async (check) => [check.name, await run(check.check)] as const)).then((results) => {
        const report = Object.fromEntries(results);
        const failing = results.filter(([, status]) => status !== 'ok').map(([name]) => name);
        if (failing.length === 0) json(response, 200, { status: 'ok', checks: report });
        else problem(response, 503, 'NOT_READY', `not ready: ${failing.join(', ')}`, {}, { checks: report });
      });
      return;
    }
    if (path === '/metrics') {
      void metrics.render().then(
        (text) => {
          response.writeHead(200, { 'Content-Type': Registry.PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
          response.end(text);
        },
        () => problem(response, 500, 'INTERNAL_ERROR', 'the metrics could not be rendered'),
      );
      return;
    }
    problem(response, 404, 'NOT_FOUND', `no route ${path} on the projector; it serves /health, /health/ready and /metrics`);
  });
}

async function run(check: () => Promise<void>): Promise<'ok' | 'failed' | 'timed_out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed_out'>((resolve) => (timer = setTimeout(() => resolve('timed_out'), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([check().then((): 'ok' => 'ok', (): 'failed' => 'failed'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function json(response: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}

function problem(response: ServerResponse, status: number, code: string, detail: string, headers: Record<string, string> = {}, extra: object = {}): void {
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  json(response, status, { type: 'about:blank', title: code, status, detail, code, ...extra }, 'application/problem+json');
}
