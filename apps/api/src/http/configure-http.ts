import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, requestIdOf } from '@csp/engine/observability/logging';
import { Metrics } from '@csp/engine/observability/metrics.service';
import { parseJsonBodies } from './json-body-parser';
import { requireJsonBody } from './json-content-type';
import { limitJsonShape } from './json-shape';
import { ProblemDetailsFilter } from './problem-details.filter';
import { RequestValidationError } from './request-validation.error';
import { answerClientError } from './server-limits';
import { allowLargeSupportRequestBodies } from './support-request-body';
import { createValidationPipe } from './validation.pipe';
import { answerWrongMethod } from './wrong-method';
import { timeRequests } from '../observability/request-duration';
import { logRequests } from '../observability/request-log';
import { buildOpenApiDocument, DEFAULT_DOCS, type DocsInfo } from '../openapi/openapi-document';

export interface HttpOptions {
  docs?: DocsInfo;
}

/** Every route's body limit but the support-request submission's (see support-request-body.ts). */
export const JSON_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * The HTTP server under the app: Fastify, which answers about twice the requests of Express on
 * this machine with the same Nest app on top (README "Benchmarks").
 */
export function createHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    // Download tokens travel in the path, longer than Fastify's default of 100 characters; a path
    // parameter too long for a reference is refused by validation, within HTTP_MAX_HEADER_BYTES.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 * 1024 },
    clientErrorHandler: answerClientError,
    // Request lines and error logs carry the id Fastify gives the request.
    genReqId: requestIdOf,
    // A path that is not percent-encoded UTF-8 is refused while routing, before Nest's handlers (and metrics) run.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const refusal = error.code === 'FST_ERR_BAD_URL' ? new RequestValidationError([{ in: 'path', field: '', messages: ['must be percent-encoded UTF-8'] }]) : error;
      new ProblemDetailsFilter().answer(refusal, reply);
    },
  });
}

/**
 * Everything the HTTP edge needs besides controllers. Call after `NestFactory.create` (with
 * `createHttpAdapter()`) and before `listen`/`init`; answers the OpenAPI document it serves.
 */
export function configureHttp(app: NestFastifyApplication, options: HttpOptions = {}): OpenAPIObject {
  const fastify = app.getHttpAdapter().getInstance();
  const metrics = findMetrics(app);
  if (metrics) timeRequests(fastify, metrics);
  logRequests(fastify, () => PinoLogger.root as Logger | undefined);
  answerWrongMethod(fastify);
  allowLargeSupportRequestBodies(fastify);
  fastify.decorateRequest('principal', undefined);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done(refusalOf(() => requireJsonBody(request)));
  });
  parseJsonBodies(fastify);
  fastify.addHook('preValidation', (request, _reply, done) => done(refusalOf(() => limitJsonShape(request.body))));
  app.useGlobalFilters(new ProblemDetailsFilter(metrics));
  app.useGlobalPipes(createValidationPipe());

  const document = buildOpenApiDocument(app, options.docs ?? DEFAULT_DOCS);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return document;
}

/** Callback-style hooks: an async hook costs every request a promise and a turn of the microtask queue. */
function refusalOf(check: () => void): Error | undefined {
  try {
    check();
    return undefined;
  } catch (refusal) {
    return refusal as Error;
  }
}

/** Narrow test apps may leave out the metrics module; errors are then answered but not counted. */
function findMetrics(app: NestFastifyApplication): Metrics | undefined {
  try {
    return app.get(Metrics, { strict: false });
  } catch {
    return undefined;
  }
}
