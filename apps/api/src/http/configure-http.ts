import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Metrics } from '@csp/engine/observability/metrics.service';
import { requireJsonBody } from './json-content-type.middleware';
import { limitJsonShape } from './json-shape.middleware';
import { withApiConventions } from './openapi-conventions';
import { ProblemDetailsFilter } from './problem-details.filter';
import { parseSupportRequestBody } from './support-request-body.middleware';
import { createValidationPipe } from './validation.pipe';
import { answerWrongMethod } from './wrong-method.middleware';

export interface HttpOptions {
  /** body-parser size syntax; support-request attachments travel base64 inside JSON. */
  jsonBodyLimit?: string;
  docs?: { title: string; version: string; description?: string };
}

export const DEFAULT_JSON_BODY_LIMIT = '256kb';
const DEFAULT_DOCS = {
  title: 'CSP subscription engine',
  version: '1',
  description: 'HTTP contract v1. Authenticate with `Authorization: Bearer <JWT>` (HS256).',
};

/**
 * Everything the HTTP edge needs besides controllers. Call after `NestFactory.create` and before
 * `listen`/`init`: the JSON parser registered here replaces Nest's default 100kb one, which Nest
 * only adds at init when no parser named `jsonParser` is present yet.
 */
export function configureHttp(app: NestExpressApplication, options: HttpOptions = {}): void {
  app.disable('x-powered-by');
  app.use(answerWrongMethod(app));
  app.use(requireJsonBody);
  app.use(parseSupportRequestBody);
  app.useBodyParser('json', {
    limit: options.jsonBodyLimit ?? DEFAULT_JSON_BODY_LIMIT,
    type: ['application/json', 'application/*+json'],
  });
  app.use(limitJsonShape);
  app.useGlobalFilters(new ProblemDetailsFilter(findMetrics(app)));
  app.useGlobalPipes(createValidationPipe());

  const docs = options.docs ?? DEFAULT_DOCS;
  const config = new DocumentBuilder()
    .setTitle(docs.title)
    .setVersion(docs.version)
    .setDescription(docs.description ?? '')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addSecurityRequirements('bearer')
    .build();
  SwaggerModule.setup('docs', app, withApiConventions(SwaggerModule.createDocument(app, config)), { jsonDocumentUrl: 'docs-json' });
}

/** Narrow test apps may leave out the metrics module; errors are then answered but not counted. */
function findMetrics(app: NestExpressApplication): Metrics | undefined {
  try {
    return app.get(Metrics, { strict: false });
  } catch {
    return undefined;
  }
}
