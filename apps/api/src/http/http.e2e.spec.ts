import { Body, Controller, Get, Injectable, Module, Post, Query, Res, ServiceUnavailableException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import request from 'supertest';
import { requireRole } from '@csp/application/auth/authorize';
import { signToken } from '@csp/application/auth/jwt';
import type { Principal } from '@csp/application/auth/principal';
import { DomainError } from '@csp/domain/shared/domain-error';
import { AuthModule } from '../auth/auth.module';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { Public } from '../auth/public.decorator';
import { buildLoggerParams } from '@csp/engine/observability/logging';
import { Metrics } from '@csp/engine/observability/metrics.service';
import { ObservabilityModule } from '../observability/observability.module';
import { configureHttp, createHttpAdapter } from './configure-http';

const SECRET = 'e2e-secret-that-is-long-enough-for-hs256!';

class LineItemDto {
  @IsString() skuId!: string;
  @IsInt() @Min(1) @Max(10_000) quantity!: number;
}

class CreateOrderDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => LineItemDto) lineItems!: LineItemDto[];
  @IsOptional() @IsString() note?: string;
}

class SearchDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) limit?: number;
}

@Controller('things')
class DummyController {
  constructor(private readonly metrics: Metrics) {}

  @Get('me')
  me(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }

  @Post()
  create(@Body() body: CreateOrderDto, @Res({ passthrough: true }) response: FastifyReply): object {
    response.header('X-Log-Position', '7');
    this.metrics.recordCommand('CreateOrder', 'succeeded');
    return { isDto: body instanceof CreateOrderDto, quantity: body.lineItems[0]?.quantity };
  }

  @Get('search')
  search(@Query() query: SearchDto): object {
    return { limit: query.limit };
  }

  @Post('cancel')
  cancel(@Res({ passthrough: true }) response: FastifyReply): never {
    response.header('X-Log-Position', '8');
    throw new DomainError('CANCELLATION_WINDOW_CLOSED', 'unprocessable', 'the window closed', {
      cancellationAllowedUntil: '2024-01-08T00:00:00.000Z',
      status: 'ignored',
    });
  }

  @Get('lagging')
  lagging(): never {
    throw new DomainError('PROJECTION_LAGGING', 'unavailable', 'read models are behind');
  }

  @Get('ledger')
  ledger(@CurrentPrincipal() principal: Principal): object {
    requireRole(principal, ['BillingAdmin']);
    return { items: [] };
  }

  @Get('boom')
  boom(): never {
    throw new Error('connect ECONNREFUSED postgres://admin:hunter2@10.0.0.7');
  }

  @Get('unavailable')
  unavailable(): never {
    throw new ServiceUnavailableException('replica 10.0.0.8 is down');
  }

  @Get('half-sent')
  halfSent(@Res() response: FastifyReply): never {
    response.raw.writeHead(200);
    response.raw.write('{"items": [');
    throw new Error('cursor lost');
  }

  @Public()
  @Get('open')
  open(): object {
    return { open: true };
  }
}

@Injectable()
class FakeStore {
  up = true;
  hang = false;
  async ping(): Promise<void> {
    if (this.hang) await new Promise(() => undefined);
    if (!this.up) throw new Error('store down');
  }
}

@Module({ providers: [FakeStore], exports: [FakeStore] })
class FakeStoreModule {}

async function createApp(): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      LoggerModule.forRoot(buildLoggerParams({ env: { NODE_ENV: 'test' }, stdoutIsTty: false })),
      AuthModule.forRoot({ secret: SECRET }),
      ObservabilityModule.forRoot({
        imports: [FakeStoreModule],
        readinessChecks: {
          inject: [FakeStore],
          useFactory: (store: FakeStore) => [
            { name: 'eventStore', check: () => store.ping() },
            { name: 'readStore', check: async () => undefined },
          ],
        },
        readinessTimeoutMs: 50,
      }),
    ],
    controllers: [DummyController],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(), { logger: false, bodyParser: false });
  configureHttp(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

function expectProblem(response: request.Response, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, code, type: `https://errors.csp-engine.example/${code}` });
  expect(typeof response.body.title).toBe('string');
  expect(typeof response.body.detail).toBe('string');
  expect(response.headers['x-log-position']).toBeUndefined();
}

describe('HTTP edge (e2e)', () => {
  let app: NestFastifyApplication;
  let server: ReturnType<NestFastifyApplication['getHttpServer']>;
  let adminToken: string;

  beforeAll(async () => {
    app = await createApp();
    server = app.getHttpServer();
    adminToken = await signToken({ sub: 'u-1', tid: 'partner-1', kind: 'partner', roles: ['AdminAgent'], name: 'Ada' }, SECRET, {
      expiresIn: '5m',
    });
  });
  afterAll(() => app.close());

  const authed = (test: request.Test): request.Test => test.set('Authorization', `Bearer ${adminToken}`);

  describe('authentication', () => {
    it('answers 401 UNAUTHENTICATED without a token', async () => {
      const response = await request(server).get('/things/me');
      expectProblem(response, 401, 'UNAUTHENTICATED');
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 401 for a token signed with another secret', async () => {
      const forged = await signToken({ sub: 'x', tid: 'p', kind: 'partner', roles: ['BillingAdmin'] }, 'x'.repeat(40), {
        expiresIn: '5m',
      });
      expectProblem(await request(server).get('/things/me').set('Authorization', `Bearer ${forged}`), 401, 'UNAUTHENTICATED');
    });

    it('hands the verified principal to the handler', async () => {
      const response = await authed(request(server).get('/things/me'));
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ userId: 'u-1', tenantId: 'partner-1', kind: 'partner', roles: ['AdminAgent'], name: 'Ada' });
    });

    it('lets @Public() routes through without a token', async () => {
      expect((await request(server).get('/things/open')).body).toEqual({ open: true });
    });

    it('maps requireRole refusals to 403 FORBIDDEN', async () => {
      expectProblem(await authed(request(server).get('/things/ledger')), 403, 'FORBIDDEN');
    });
  });

  describe('validation', () => {
    it('transforms a valid body into the DTO and keeps the success header', async () => {
      const response = await authed(request(server).post('/things')).send({ lineItems: [{ skuId: 's', quantity: 3 }] });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ isDto: true, quantity: 3 });
      expect(response.headers['x-log-position']).toBe('7');
    });

    it('refuses unknown and out-of-range fields with their paths', async () => {
      const response = await authed(request(server).post('/things')).send({
        lineItems: [{ skuId: 's', quantity: 1 }, { skuId: 's', quantity: 10_001, colour: 'red' }],
        extra: true,
      });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      const fields = (response.body.errors as { in: string; field: string }[]).map((error) => `${error.in}:${error.field}`);
      expect(fields.sort()).toEqual(['body:extra', 'body:lineItems[1].colour', 'body:lineItems[1].quantity']);
    });

    it('lists at most 100 field errors and counts the rest', async () => {
      const lineItems = Array.from({ length: 150 }, () => ({ skuId: 's', quantity: 0 }));
      const response = await authed(request(server).post('/things')).send({ lineItems });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toHaveLength(100);
      expect(response.body.omittedErrors).toBe(50);
    });

    it('reports query parameter errors as such', async () => {
      const response = await authed(request(server).get('/things/search?limit=0'));
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([{ in: 'query', field: 'limit', code: 'RANGE', messages: ['limit must be at least 1'], limit: { minimum: 1 } }]);
    });

    it('refuses malformed JSON with VALIDATION_FAILED', async () => {
      const response = await authed(request(server).post('/things'))
        .set('Content-Type', 'application/json')
        .send('{"lineItems": [');
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors).toEqual([
        { in: 'body', field: '', code: 'SYNTAX', messages: ['the body is not valid JSON: it breaks at line 1, column 16'], line: 1, column: 16 },
      ]);
    });

    it('accepts bodies up to 256kb and refuses larger ones with 413', async () => {
      const withNote = (size: number): object => ({ lineItems: [{ skuId: 's', quantity: 1 }], note: 'n'.repeat(size) });
      expect((await authed(request(server).post('/things')).send(withNote(200_000))).status).toBe(201);
      expectProblem(await authed(request(server).post('/things')).send(withNote(300_000)), 413, 'PAYLOAD_TOO_LARGE');
    });

    it('refuses non-JSON bodies with 415', async () => {
      const response = await authed(request(server).post('/things')).set('Content-Type', 'text/plain').send('hello');
      expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('refuses JSON in a charset other than UTF-8 with 415, before reading it', async () => {
      const response = await authed(request(server).post('/things')).set('Content-Type', 'application/json; charset=iso-8859-1').send('{"lineItems": []}');
      expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(response.body.contentType).toBe('application/json; charset=iso-8859-1');
      const utf8 = await authed(request(server).post('/things')).set('Content-Type', 'application/json; charset="UTF-8"').send('{"lineItems": [{"skuId": "s", "quantity": 1}]}');
      expect(utf8.status).toBe(201);
    });

    it('reads application/<anything>+json as JSON', async () => {
      const response = await authed(request(server).post('/things'))
        .set('Content-Type', 'application/vnd.csp.order+json')
        .send('{"lineItems": [{"skuId": "s", "quantity": 3}]}');
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ isDto: true, quantity: 3 });
    });

    it('validates an empty JSON body as an empty object', async () => {
      const response = await authed(request(server).post('/things')).set('Content-Type', 'application/json').send('');
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain('lineItems');
    });

    it('refuses a body whose top level is neither an object nor an array as a syntax error', async () => {
      const response = await authed(request(server).post('/things')).set('Content-Type', 'application/json').send('"lineItems"');
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors[0]).toMatchObject({ in: 'body', code: 'SYNTAX' });
    });

    it('serves a route with or without a trailing slash', async () => {
      expect((await request(server).get('/things/open/')).body).toEqual({ open: true });
    });
  });

  describe('errors', () => {
    it('renders a DomainError by category with its details and no log position', async () => {
      const response = await authed(request(server).post('/things/cancel'));
      expectProblem(response, 422, 'CANCELLATION_WINDOW_CLOSED');
      expect(response.body).toEqual({
        type: 'https://errors.csp-engine.example/CANCELLATION_WINDOW_CLOSED',
        title: 'Cancellation window closed',
        status: 422,
        detail: 'the window closed',
        code: 'CANCELLATION_WINDOW_CLOSED',
        cancellationAllowedUntil: '2024-01-08T00:00:00.000Z',
      });
    });

    it('renders an unavailable DomainError as 503', async () => {
      expectProblem(await authed(request(server).get('/things/lagging')), 503, 'PROJECTION_LAGGING');
    });

    it('answers 500 INTERNAL_ERROR without leaking the cause', async () => {
      const response = await authed(request(server).get('/things/boom'));
      expectProblem(response, 500, 'INTERNAL_ERROR');
      expect(JSON.stringify(response.body)).not.toMatch(/hunter2|ECONNREFUSED|postgres|\.ts:\d+/);
    });

    it('keeps the status of a framework 5xx but not its message', async () => {
      const response = await authed(request(server).get('/things/unavailable'));
      expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.text).not.toContain('10.0.0.8');
    });

    it('cuts the connection when the failure comes after the answer started', async () => {
      await expect(authed(request(server).get('/things/half-sent'))).rejects.toThrow();
    });

    it('answers unknown routes with 404 NOT_FOUND', async () => {
      expectProblem(await authed(request(server).get('/nowhere')), 404, 'NOT_FOUND');
    });

    it('sets a request id and hides the framework', async () => {
      const response = await request(server).get('/things/open').set('X-Request-Id', 'abc-123');
      expect(response.headers['x-request-id']).toBe('abc-123');
      expect(response.headers['x-powered-by']).toBeUndefined();
    });
  });

  describe('docs', () => {
    it('serves the OpenAPI 3 document with bearer auth, public routes exempt', async () => {
      const response = await request(server).get('/docs-json');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/json/);
      expect(response.body.openapi).toMatch(/^3\./);
      expect(response.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(response.body.security).toEqual([{ bearer: [] }]);
      expect(response.body.paths['/things/open'].get.security).toEqual([{}]);
      expect(response.body.paths['/metrics'].get.security).toEqual([]);
    });

    it('serves a browsable page', async () => {
      const response = await request(server).get('/docs');
      expect(response.status).toBe(200);
      expect(response.text).toContain('swagger-ui');
    });
  });

  describe('operations', () => {
    it('reports readiness with every check, and liveness without any', async () => {
      const response = await request(server).get('/health/ready');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok', checks: { eventStore: 'ok', readStore: 'ok' } });
      expect((await request(server).get('/health')).body).toEqual({ status: 'ok' });
    });

    it('answers 503 naming the failing and the hanging check', async () => {
      const store = app.get(FakeStore);
      store.up = false;
      try {
        const failed = await request(server).get('/health/ready');
        expectProblem(failed, 503, 'NOT_READY');
        expect(failed.body.checks).toEqual({ eventStore: 'failed', readStore: 'ok' });
        expect(JSON.stringify(failed.body)).not.toContain('store down');
        expect((await request(server).get('/health')).status).toBe(200);
        store.hang = true;
        expect((await request(server).get('/health/ready')).body.checks.eventStore).toBe('timed_out');
      } finally {
        store.up = true;
        store.hang = false;
      }
    });

    it('exposes Prometheus metrics including counted commands and errors', async () => {
      await request(server).get('/things/me');
      await authed(request(server).post('/things')).send({ lineItems: [{ skuId: 's', quantity: 1 }] });
      app.get(Metrics).setProjectionLag('orders', 4);
      const response = await request(server).get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
      expect(response.text).toMatch(/^http_errors_total\{code="UNAUTHENTICATED"\} [1-9]/m);
      expect(response.text).toMatch(/^commands_total\{command="CreateOrder",outcome="succeeded"\} [1-9]/m);
      expect(response.text).toMatch(/^projection_lag_events\{projection="orders"\} 4$/m);
      expect(response.text).toContain('process_cpu_user_seconds_total');
    });

    it('keeps metrics per application, so a second app starts cleanly', async () => {
      const second = await createApp();
      try {
        const text = (await request(second.getHttpServer()).get('/metrics')).text;
        expect(text).not.toMatch(/^http_errors_total\{/m);
      } finally {
        await second.close();
      }
    });
  });
});
