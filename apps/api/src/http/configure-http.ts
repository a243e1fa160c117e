import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Metrics } from '@csp/engine/observability/metrics.service';
import { requireJsonBody } from './json-content-type.middleware';
import { limitJsonShape } from './json-shape.middleware';
import { locateMalformedJson } from './malformed-json.middleware';
import { ProblemDetailsFilter } from './problem-details.filter';
import { parseSupportRequestBody } from './support-request-body.middleware';
import { createValidationPipe } from './validation.pipe';
import { answerWrongMethod } from './wrong-method.middleware';
import { timeRequests } from '../observability/request-duration.middleware';
import { buildOpenApiDocument, DEFAULT_DOCS, type DocsInfo } from '../openapi/openapi-document';

export interface HttpOptions {
  /** body-parser size syntax; support-request attachments travel base64 inside JSON. */
  jsonBodyLimit?: string;
  docs?: DocsInfo;
}

export const DEFAULT_JSON_BODY_LIMIT = '256kb';
/**
 * Everything the HTTP edge needs besides controllers. Call after `NestFactory.create` and before
 * `listen`/`init`; answers the OpenAPI document it serves. The JSON parser registered here replaces Nest's default 100kb one, which Nest
 * only adds at init when no parser named `jsonParser` is present yet.
 */
export function configureHttp(app: NestExpressApplication, options: HttpOptions = {}): OpenAPIObject {
  app.disable('x-powered-by');
  const metrics = findMetrics(app);
  if (metrics) app.use(timeRequests(metrics));
  app.use(answerWrongMethod(app));
  app.use(requireJsonBody);
  app.use(parseSupportRequestBody);
  app.useBodyParser('json', {
    limit: options.jsonBodyLimit ?? DEFAULT_JSON_BODY_LIMIT,
    type: ['application/json', 'application/*+json'],
  });
  app.use(locateMalformedJson);
  app.use(limitJsonShape);
  app.useGlobalFilters(new ProblemDetailsFilter(metrics));
  app.useGlobalPipes(createValidationPipe());

  const document = buildOpenApiDocument(app, options.docs ?? DEFAULT_DOCS);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return document;
}

/** Narrow test apps may leave out the metrics module; errors are then answered but not counted. */
function findMetrics(app: NestExpressApplication): Metrics | undefined {
  try {
    return app.get(Metrics, { strict: false });
  } catch {
    return undefined;
  }
}
