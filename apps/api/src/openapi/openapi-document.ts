import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { problemDocument } from '../http/problem-document';
import { COMPONENT_SCHEMAS } from './component-schemas';
import { OPERATION_CONTRACTS, type OperationContract } from './operation-contracts';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type Responses = Operation['responses'];
type Parameter = NonNullable<Operation['parameters']>[number];

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface DocsInfo {
  title: string;
  version: string;
  description: string;
}

export const DEFAULT_DOCS: DocsInfo = {
  title: 'CSP subscription engine',
  version: '1',
  description: [
    'HTTP contract v1 (API.md). Authenticate with `Authorization: Bearer <JWT>` (HS256, secret `AUTH_JWT_SECRET`);',
    'each operation names the roles it admits in its description and in `x-roles`.',
    'Errors are `application/problem+json` keyed on `code`; each operation lists exactly the codes it can answer.',
    'Commands accept `Idempotency-Key` (or `MS-RequestId`) and answer `X-Log-Position`; queries accept `X-Min-Position`.',
    'Dates: instants of this service’s own records end in `At`, Partner Center resource dates in `Date`; all ISO 8601 UTC.',
  ].join(' '),
};

const problemRef = { $ref: '#/components/schemas/Problem' };

const MIN_POSITION: Parameter = {
  name: 'X-Min-Position',
  in: 'header',
  required: false,
  description: 'An earlier X-Log-Position: the answer reflects at least that write, or 503 PROJECTION_LAGGING after 5 s',
  schema: { type: 'string', maxLength: 100 },
};
const IDEMPOTENCY_KEY: Parameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Per tenant: a repeat with the same body answers the first answer again; another body: 422 IDEMPOTENCY_KEY_REUSED',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};
const MS_REQUEST_ID: Parameter = {
  name: 'MS-RequestId',
  in: 'header',
  required: false,
  description: 'Partner Center’s name for Idempotency-Key (used when Idempotency-Key is absent)',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

/** Any request that touches a store can meet a full or unreachable disk (answered with Retry-After). */
const STORAGE_PROBLEMS = ['STORAGE_UNAVAILABLE', 'STORAGE_FULL'];
const RETRIED_LATER = ['EVENT_STORE_UNAVAILABLE', ...STORAGE_PROBLEMS];

/** Codes every operation of a kind can answer, whatever it does. */
function sharedProblems(contract: OperationContract, method: string, path: string): Record<number, string[]> {
  if (contract.roles === 'public') {
    return path.startsWith('/v1/') ? { 503: ['EVENT_STORE_UNAVAILABLE', ...STORAGE_PROBLEMS] } : {};
  }
  const shared: Record<number, string[]> = {
    400: ['VALIDATION_FAILED'],
    401: ['UNAUTHENTICATED'],
    403: ['FORBIDDEN'],
    503: contract.consistency === false ? [] : ['PROJECTION_LAGGING'],
  };
  if (contract.command) {
    shared[409] = ['CONCURRENCY_CONFLICT'];
    shared[413] = ['EVENT_TOO_LARGE'];
    shared[422] = ['IDEMPOTENCY_KEY_REUSED'];
    shared[503]!.push('EVENT_STORE_UNAVAILABLE');
  }
  shared[503]!.push(...STORAGE_PROBLEMS);
  if (method !== 'get' && method !== 'delete') {
    shared[413] = [...(shared[413] ?? []), 'PAYLOAD_TOO_LARGE'];
    shared[415] = ['UNSUPPORTED_MEDIA_TYPE'];
  }
  return shared;
}

function mergeProblems(...sets: Array<Record<number, readonly string[]> | undefined>): Map<number, string[]> {
  const merged = new Map<number, string[]>();
  for (const set of sets) {
    for (const [status, codes] of Object.entries(set ?? {})) {
      const known = merged.get(Number(status)) ?? [];
      merged.set(Number(status), [...new Set([...known, ...codes])]);
    }
  }
  return new Map([...merged.entries()].sort(([a], [b]) => a - b));
}

function problemResponse(status: number, codes: string[]): Responses[string] {
  const headers: Record<string, unknown> = {};
  if (status === 401) headers['WWW-Authenticate'] = { required: true, schema: { type: 'string', const: 'Bearer' } };
  if (codes.some((code) => RETRIED_LATER.includes(code))) {
    headers['Retry-After'] = { required: false, description: `Seconds to wait before retrying (${RETRIED_LATER.join(', ')})`, schema: { type: 'string' } };
  }
  return {
    description: `problem+json; \`code\` one of: ${codes.join(', ')}`,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: {
      'application/problem+json': {
        schema: { allOf: [problemRef, { properties: { status: { const: status }, code: { enum: codes } } }] },
        examples: Object.fromEntries(codes.map((code) => [code, { value: problemDocument(status, code, exampleDetail(code)) }])),
      },
    },
  } as Responses[string];
}

function exampleDetail(code: string): string {
  return code === 'VALIDATION_FAILED' ? 'the request has invalid or unknown fields' : 'what went wrong, for a person to read';
}

function successResponse(contract: OperationContract): Responses[string] {
  const { success } = contract;
  const schema = success.schema ? { $ref: `#/components/schemas/${success.schema}` } : undefined;
  const content: Record<string, unknown> =
    'media' in success
      ? { [success.media]: { schema: success.media === 'text/plain' ? { type: 'string' } : { type: 'string', format: 'binary' } } }
      : { 'application/json': { schema } };
  if (contract.success.schema && ['ActivityLogPage', 'LedgerPage'].includes(contract.success.schema)) {
    content['text/csv'] = { schema: { type: 'string' } };
  }
  const headers: Record<string, unknown> = {};
  if (contract.command) {
    // A download through a link records its use; a signed download address records nothing more.
    const always = contract.roles !== 'public';
    headers['X-Log-Position'] = {
      required: always,
      description: `The log position this command wrote${always ? '' : ' (when it recorded something)'}; send it as X-Min-Position to read your write`,
      schema: { type: 'string' },
    };
  }
  return { description: success.description, ...(Object.keys(headers).length > 0 ? { headers } : {}), content } as Responses[string];
}

function rolesSentence(contract: OperationContract): string {
  if (contract.roles === 'public') return 'No token needed.';
  const who = contract.audience ? `${contract.audience}.` : '';
  const roles = contract.roles.length > 0 ? ` Roles: ${contract.roles.join(', ')}.` : '';
  return `Who may call: ${who || 'partner users.'}${roles}`.trim();
}

function applyContract(operation: Operation, contract: OperationContract, method: string, path: string): void {
  operation.summary = contract.summary;
  operation.description = [contract.description, rolesSentence(contract)].filter(Boolean).join(' ');
  (operation as unknown as Record<string, unknown>)['x-roles'] = contract.roles === 'public' ? [] : [...contract.roles];
  if (contract.roles === 'public') operation.security = [];

  const parameters = [...(operation.parameters ?? [])];
  if (path.startsWith('/v1/') && contract.roles !== 'public' && contract.consistency !== false) parameters.push(MIN_POSITION);
  if (contract.command && method !== 'get') parameters.push(IDEMPOTENCY_KEY, MS_REQUEST_ID);
  operation.parameters = parameters;

  const responses: Responses = { [String(contract.success.status)]: successResponse(contract) };
  for (const [status, codes] of mergeProblems(sharedProblems(contract, method, path), contract.problems)) {
    responses[String(status)] = problemResponse(status, codes);
  }
  operation.responses = responses;

  const body = operation.requestBody;
  if (body && 'content' in body && contract.example) {
    const media = body.content['application/json'];
    if (media) media.example = contract.example;
  }
}

/** What a registered webhook endpoint receives (OpenAPI 3.1 `webhooks`). */
const INTEGRATION_EVENT_WEBHOOKS: NonNullable<OpenAPIObject['webhooks']> = {
  integrationEvent: {
    post: {
      summary: 'One integration event, signed per Standard Webhooks',
      description:
        'Sent to each endpoint in log order, at least once (deduplicate on `webhook-id`); any answer but 2xx is retried with ' +
        'exponential back-off and jitter for WEBHOOK_RETRY_WINDOW_MS (24 h), then the endpoint is disabled.',
      parameters: [
        { name: 'webhook-id', in: 'header', required: true, description: 'The event `id`', schema: { type: 'string' } },
        { name: 'webhook-timestamp', in: 'header', required: true, description: 'Unix seconds of the send', schema: { type: 'string' } },
        {
          name: 'webhook-signature',
          in: 'header',
          required: true,
          description: '`v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, one per live secret, space-separated',
          schema: { type: 'string' },
        },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/IntegrationEvent' } } } },
      responses: { '200': { description: 'Any 2xx: delivered' } },
    },
  },
};

/**
 * The OpenAPI 3.1 document served at `/docs-json` and committed as docs/openapi.json: Nest's reading
 * of the controllers and DTOs (paths, parameters, request bodies), completed by the operation table.
 */
export function buildOpenApiDocument(app: INestApplication, docs: DocsInfo = DEFAULT_DOCS): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle(docs.title)
    .setVersion(docs.version)
    .setDescription(docs.description)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT with sub, tid, kind and roles' }, 'bearer')
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...COMPONENT_SCHEMAS } } as OpenAPIObject['components'];
  document.webhooks = INTEGRATION_EVENT_WEBHOOKS;
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      const contract = OPERATION_CONTRACTS[`${method.toUpperCase()} ${path}`];
      if (operation && contract) applyContract(operation, contract, method, path);
    }
  }
  return document;
}
