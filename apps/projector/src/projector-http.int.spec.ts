import { configFromEnv } from '@csp/engine/config/engine-config';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { projectorHttpServer } from './projector-http';
import { ProjectorModule } from './projector.module';

describe('the projector\'s health and metrics port', () => {
  let dataDir: string;
  let projector: INestApplicationContext;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'csp-projector-http-'));
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    projector = await NestFactory.createApplicationContext(ProjectorModule.forRoot(configFromEnv(env), env), { logger: false });
    server = projectorHttpServer(projector);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await projector.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers liveness and readiness with every check', async () => {
    const live = await fetch(`${base}/health`);
    expect([live.status, await live.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${base}/health/ready`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok', checks: { eventStore: 'ok', readStore: 'ok', projections: 'ok', scheduler: 'ok' } }]);
  });

  it('serves Prometheus metrics with the projections\' positions', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toMatch(/^projection_lag_events\{projection="customers"\} 0$/m);
  });

  it('answers anything else with a problem document', async () => {
    const response = await fetch(`${base}/v1/customers`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await fetch(`${base}/health`, { method: 'POST' })).status).toBe(405);
  });
});
