import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'Stable, upper snake case (API.md)' },
    errors: {
      type: 'array',
      description: 'VALIDATION_FAILED only: the offending fields',
      items: {
        type: 'object',
        properties: { in: { type: 'string' }, field: { type: 'string' }, messages: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
  additionalProperties: true,
};

/** The codes each answer status can carry, as API.md and the README's decisions list them. */
const PROBLEMS: Record<string, string> = {
  '400': 'VALIDATION_FAILED, INVALID_CONTINUATION_TOKEN',
  '401': 'UNAUTHENTICATED',
  '403': 'FORBIDDEN',
  '404': 'UNKNOWN_CUSTOMER, ORDER_NOT_FOUND, SUBSCRIPTION_NOT_FOUND, NOT_FOUND',
  '409': 'ALREADY_CANCELLED, CUSTOMER_ALREADY_EXISTS, CONCURRENCY_CONFLICT, AMBIGUOUS_CUSTOMER, AMBIGUOUS_SUBSCRIPTION',
  '413': 'PAYLOAD_TOO_LARGE',
  '415': 'UNSUPPORTED_MEDIA_TYPE',
  '422':
    'UNKNOWN_SKU, BILLING_PLAN_NOT_OFFERED, AZURE_RESERVATIONS_UNAVAILABLE, SKU_NOT_AVAILABLE_IN_MARKET, CANCELLATION_WINDOW_CLOSED, ' +
    'NOT_CANCELLABLE, AUTORENEW_NOT_AVAILABLE, NOT_A_PERPETUAL_LINE, UNKNOWN_LINE_ITEM, NO_PERPETUAL_LINES, SUBSCRIPTION_NOT_ACTIVE, ' +
    'PURCHASE_DATE_IN_FUTURE, IDEMPOTENCY_KEY_REUSED',
  '503': 'PROJECTION_LAGGING, EVENT_STORE_UNAVAILABLE',
};

const MIN_POSITION = {
  name: 'X-Min-Position',
  in: 'header' as const,
  required: false,
  description: 'An earlier X-Log-Position: the answer reflects at least that write, or 503 PROJECTION_LAGGING after 5 s',
  schema: { type: 'string' },
};
const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  description: "Per tenant; a repeat with the same body answers the first answer, another body 422 IDEMPOTENCY_KEY_REUSED (Partner Center's MS-RequestId works too)",
  schema: { type: 'string', maxLength: 255 },
};

/**
 * Adds what every /v1 operation shares and decorators would repeat on each route: the problem+json
 * answers with their codes, X-Min-Position, and on commands Idempotency-Key and X-Log-Position.
 */
export function withApiConventions(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, Problem: PROBLEM_SCHEMA } };
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const method of ['get', 'post', 'patch'] as const) {
      const operation = item[method];
      if (operation) addConventions(operation, method !== 'get');
    }
  }
  return document;
}

function addConventions(operation: Operation, isCommand: boolean): void {
  operation.parameters = [...(operation.parameters ?? []), MIN_POSITION, ...(isCommand ? [IDEMPOTENCY_KEY] : [])];
  for (const [status, codes] of Object.entries(PROBLEMS)) {
    operation.responses[status] ??= {
      description: `problem+json; code one of: ${codes}`,
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  if (!isCommand) return;
  for (const [status, response] of Object.entries(operation.responses)) {
    if (!status.startsWith('2') || !response || !('description' in response)) continue;
    response.headers = {
      ...response.headers,
      'X-Log-Position': { description: 'The log position this command wrote; send it as X-Min-Position to read your write', schema: { type: 'string' } },
    };
  }
}
