/**
 * The answer shapes of the contract as JSON Schema 2020-12 (OpenAPI 3.1). Hand-written rather than
 * derived from the application's view types: the views are interfaces (nothing to reflect on at
 * run time) and the document must say exactly which members may appear, so closed shapes carry
 * `additionalProperties: false` and the e2e harness refuses any member a view adds without saying so.
 *
 * Date members follow one rule: a moment something happened or will happen is `...At` when it is a
 * fact of this service's own log (`registeredAt`, `occurredAt`, `submittedAt`, `expiresAt`), and
 * `...Date` where Partner Center's resource names it so (`creationDate`, `termStartDate`,
 * `purchaseDate`, `cancellationDate`); both are ISO 8601 UTC instants. API.md fixes the names.
 */
import { INTEGRATION_EVENT_TYPES } from '@csp/domain/integration-events/integration-event';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const instant: Schema = { type: 'string', format: 'date-time', description: 'ISO 8601 UTC instant' };
const text: Schema = { type: 'string' };
const integer: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const strings: Schema = { type: 'array', items: text };
const invoicePeriod: Schema = { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM', example: '2026-12' };

/** An object that may hold exactly the members listed; `optional` ones may be left out. */
function closed(required: Record<string, Schema>, optional: Record<string, Schema> = {}, description?: string): Schema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    required: Object.keys(required),
    properties: { ...required, ...optional },
    additionalProperties: false,
  };
}

/** API.md "Lists": one page of `items`, how many there are in all, and where the next page starts. */
function listOf(item: string, extra: Record<string, Schema> = {}): Schema {
  return closed(
    { items: { type: 'array', items: ref(item) }, totalCount: { type: 'integer', minimum: 0 }, ...extra },
    { continuationToken: { type: 'string', description: 'Send as `continuationToken` for the next page; absent on the last page' } },
  );
}

const money = { amount: { type: 'integer', description: 'Integer minor units' }, currency: { type: 'string', pattern: '^[A-Z]{3}$', example: 'EUR' } };

const downloadOptions = closed(
  { versions: strings, languages: strings, fileTypes: strings, operatingSystems: strings },
  {},
  'Each list empty: that choice is hidden; non-empty: the caller must pick one of its values',
);

const ledgerTotal = closed({ currency: money.currency, charges: integer, refunds: integer, credits: integer, voids: integer, net: integer });

const supportRequestActor = closed({ userId: text }, { userName: text });

const FIELD_ERROR_CODES = ['REQUIRED', 'TYPE', 'RANGE', 'FORMAT', 'ENUM', 'UNKNOWN_MEMBER', 'SYNTAX', 'CONFLICT'] as const;

export const COMPONENT_SCHEMAS: Record<string, Schema> = {
  Money: closed(money, {}, 'Integer minor units of one currency'),
  Credit: closed({ ...money, invoicePeriod }, {}, 'Money credited on the monthly invoice of `invoicePeriod`'),
  Refund: closed(
    { ...money, usedDays: integer, termDays: integer, usedCost: ref('Money'), invoicePeriod },
    {},
    'A cancellation refund, how it was reached (usedDays of termDays cost usedCost) and the invoice period it lands on',
  ),
  DownloadOptions: downloadOptions,
  Customer: closed({
    id: { type: 'string', format: 'uuid', description: 'The customer tenant GUID' },
    companyName: text,
    domain: text,
    country: { type: 'string', pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 (or XK), upper case' },
    partnerId: text,
    registeredAt: instant,
  }),
  Product: closed(
    {
      skuId: text,
      productId: text,
      title: text,
      publisher: text,
      kind: text,
      termDuration: { type: ['string', 'null'], description: 'ISO 8601 duration (P1M, P1Y, P3Y); null for perpetual software' },
      billingCycles: strings,
      price: closed({ ...money, taxIncluded: bool }, {}, "The price in the market's currency"),
      deliversKeys: bool,
      downloadOptions: ref('DownloadOptions'),
      cancellable: bool,
      exchangeable: bool,
    },
    { installationInstructionsUrl: { type: 'string', format: 'uri' } },
  ),
  ProductList: listOf('Product'),
  OrderLine: closed(
    {
      lineItemNumber: { type: 'integer', minimum: 1 },
      skuId: text,
      productId: text,
      title: text,
      friendlyName: text,
      kind: text,
      quantity: { type: 'integer', minimum: 1, maximum: 10000 },
      billingCycle: text,
      termDuration: { type: ['string', 'null'] },
      price: ref('Money'),
      unitPrice: ref('Money'),
      taxIncluded: bool,
      status: { type: 'string', enum: ['active', 'cancelled', 'provisioned', 'pending'] },
    },
    {
      subscriptionId: text,
      cancellationAllowedUntil: instant,
      cancellationDaysLeft: integer,
      cancellationWindowPassed: bool,
      cancellable: bool,
      keyAvailable: bool,
      credit: ref('Credit'),
    },
    'Subscription lines carry `subscriptionId` (status `pending` until the subscription starts, then `provisioned`, or `cancelled`); perpetual lines their cancellation window while active and `credit` once cancelled',
  ),
  Order: closed(
    {
      id: text,
      customerId: { type: 'string', format: 'uuid' },
      status: { type: 'string', enum: ['pending', 'completed', 'cancelled'] },
      creationDate: instant,
      backfilled: bool,
      lineItems: { type: 'array', items: ref('OrderLine') },
    },
    { credit: { ...ref('Credit'), description: "A cancellation's answer: what this cancellation credited in all" } },
  ),
  OrderList: listOf('Order'),
  Installment: closed({
    sequence: { type: 'integer', minimum: 1 },
    dueDate: instant,
    amount: ref('Money'),
    status: { type: 'string', enum: ['billed', 'scheduled', 'voided'] },
  }),
  Subscription: closed(
    {
      id: text,
      friendlyName: text,
      customerId: { type: 'string', format: 'uuid' },
      orderId: text,
      lineItemNumber: integer,
      skuId: text,
      productId: text,
      title: text,
      publisher: text,
      kind: text,
      quantity: integer,
      status: { type: 'string', enum: ['active', 'cancelled', 'expired'] },
      autoRenewEnabled: bool,
      termDuration: text,
      billingCycle: text,
      purchaseDate: instant,
      termNumber: { type: 'integer', minimum: 1 },
      termStartDate: instant,
      termEndDate: instant,
      termPrice: ref('Money'),
      taxIncluded: bool,
      installments: { type: 'array', items: ref('Installment') },
      cancellable: bool,
      keyAvailable: bool,
    },
    {
      cancellationAllowedUntil: { ...instant, description: 'Active subscriptions only' },
      cancellationWindowPassed: { ...bool, description: 'Active subscriptions only' },
      cancellationDate: instant,
      refund: ref('Refund'),
      expirationDate: instant,
    },
  ),
  SubscriptionList: listOf('Subscription'),
  SoftwareItem: closed(
    {
      id: text,
      kind: text,
      orderId: text,
      lineItemNumber: integer,
      title: text,
      status: { type: 'string', enum: ['active', 'cancelled', 'expired'] },
      keyAvailable: bool,
      downloadOptions: ref('DownloadOptions'),
      purchasedAt: instant,
    },
    { subscriptionId: text, installationInstructionsUrl: { type: 'string', format: 'uri' } },
  ),
  SoftwareList: listOf('SoftwareItem'),
  GeneratedKey: closed({ keyId: text, keyType: { type: 'string', enum: ['MAK'] } }, { installationInstructionsUrl: { type: 'string', format: 'uri' } }),
  RevealedKey: closed({ productKey: text }, { installationInstructionsUrl: { type: 'string', format: 'uri' } }),
  DownloadAddress: closed({ downloadUrl: { ...text, description: 'Valid for 15 minutes; fetching it is not a link use' } }),
  DownloadLink: closed({ url: text, expiresAt: instant }),
  ActivityLogEntry: closed(
    {
      id: text,
      occurredAt: instant,
      userId: text,
      customerId: text,
      softwareId: text,
      productTitle: text,
      action: { type: 'string', enum: ['key_revealed', 'download_started', 'download_link_issued', 'download_link_used'] },
    },
    { userName: text },
  ),
  ActivityLogPage: listOf('ActivityLogEntry'),
  LedgerEntry: closed(
    {
      id: text,
      kind: { type: 'string', enum: ['charge', 'refund', 'credit', 'void'] },
      customerId: text,
      amount: { ...ref('Money'), description: 'Signed: charges positive; refunds, credits and voids negative' },
      invoicePeriod,
      reason: text,
      position: { type: 'string', description: 'The source event’s log position' },
      occurredAt: instant,
    },
    { orderId: text, subscriptionId: text, supportRequestId: text },
  ),
  LedgerTotal: ledgerTotal,
  LedgerPage: listOf('LedgerEntry', { totals: { type: 'array', items: ref('LedgerTotal') }, checksum: text }),
  LedgerPeriodTotal: closed({
    customerId: text,
    entries: integer,
    ...(ledgerTotal['properties'] as Record<string, Schema>),
  }),
  LedgerPeriod: closed({
    invoicePeriod,
    items: { type: 'array', items: ref('LedgerPeriodTotal') },
    totals: { type: 'array', items: ref('LedgerTotal') },
    checksum: text,
  }),
  SupportRequest: closed(
    {
      id: text,
      status: { type: 'string', enum: ['open', 'approved', 'rejected'] },
      problemType: text,
      impact: text,
      title: text,
      description: closed(
        { customerId: { type: 'string', format: 'uuid' }, refundReason: text, requestedAmount: ref('Money') },
        { orderId: text, subscriptionId: text },
      ),
      contact: closed({ name: text, email: text, phone: text }),
      attachments: {
        type: 'array',
        items: closed({ fileName: text, contentType: text, size: integer, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } }),
      },
      submittedBy: supportRequestActor,
      submittedAt: instant,
    },
    {
      decision: {
        oneOf: [
          closed({ status: { const: 'approved' }, approvedAmount: ref('Money'), invoicePeriod, decidedBy: supportRequestActor, decidedAt: instant }),
          closed({ status: { const: 'rejected' }, reason: text, decidedBy: supportRequestActor, decidedAt: instant }),
        ],
      },
    },
  ),
  FieldError: closed(
    {
      in: { type: 'string', enum: ['body', 'query', 'path', 'header'] },
      field: { type: 'string', description: 'Dotted path with array indexes, e.g. `lineItems[0].quantity`; empty for the body as a whole' },
      code: { type: 'string', enum: [...FIELD_ERROR_CODES] },
      messages: { type: 'array', items: text, minItems: 1 },
    },
    {
      limit: {
        type: 'object',
        description: 'The bound that was crossed (RANGE) or the values allowed (ENUM)',
        properties: { minimum: { type: 'number' }, maximum: { type: 'number' }, allowed: { type: 'array' } },
        additionalProperties: false,
      },
      line: { type: 'integer', minimum: 1, description: 'SYNTAX: where the JSON broke' },
      column: { type: 'integer', minimum: 1 },
    },
    'One offending field. `code`: REQUIRED (missing), TYPE (wrong JSON type), RANGE (outside `limit`), FORMAT (right type, wrong form), ' +
      'ENUM (not one of `limit.allowed`), UNKNOWN_MEMBER (not part of the contract), SYNTAX (not JSON; `line` and `column`), CONFLICT (members that exclude each other)',
  ),
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details; clients key on `code`',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: text,
      status: { type: 'integer' },
      detail: text,
      code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'Stable, upper snake case' },
      errors: { type: 'array', items: { type: 'object' }, description: 'VALIDATION_FAILED: one FieldError per offending field' },
      omittedErrors: { type: 'integer', description: 'VALIDATION_FAILED: entries left out beyond the first 100' },
    },
    additionalProperties: true,
    if: { properties: { code: { const: 'VALIDATION_FAILED' } } },
    then: { required: ['errors'], properties: { errors: { items: ref('FieldError') } } },
  },
  IntegrationEvent: closed(
    {
      id: { type: 'string', description: 'Derived from the source event: the same in the feed, on every redelivery (`webhook-id`) and after a rebuild' },
      type: { type: 'string', enum: [...INTEGRATION_EVENT_TYPES] },
      occurredAt: instant,
      position: { type: 'string', description: 'The source event’s log position; several events of one source share it' },
      tenant: { type: 'string', description: 'The customer’s tenant GUID' },
      data: { type: 'object', description: 'The members of the type, as README "Integration events" lists them (contract version 1)' },
    },
    {},
    'A public integration event, contract version 1',
  ),
  IntegrationEventPage: closed({ items: { type: 'array', items: ref('IntegrationEvent') }, lastPosition: { type: 'string', description: 'Send as `after` to resume' } }),
  WebhookEndpoint: closed(
    {
      id: text,
      url: text,
      types: { type: 'array', items: { type: 'string', enum: [...INTEGRATION_EVENT_TYPES] }, description: 'Empty: every type' },
      status: { type: 'string', enum: ['enabled', 'disabled'] },
      createdAt: instant,
    },
    { description: text, disabledReason: text, disabledAt: instant, previousSecretExpiresAt: instant },
  ),
  CreatedWebhookEndpoint: closed(
    {
      id: text,
      url: text,
      types: { type: 'array', items: { type: 'string', enum: [...INTEGRATION_EVENT_TYPES] } },
      status: { type: 'string', enum: ['enabled'] },
      createdAt: instant,
      secret: { type: 'string', pattern: '^whsec_', description: 'The Standard Webhooks signing secret, shown only here' },
    },
    { description: text },
  ),
  WebhookEndpointList: listOf('WebhookEndpoint'),
  WebhookDelivery: closed({
    eventId: text,
    eventType: { type: 'string', enum: [...INTEGRATION_EVENT_TYPES] },
    position: text,
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempts: integer,
    lastStatusCode: { type: ['integer', 'null'] },
    lastError: { type: ['string', 'null'] },
    firstAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    lastAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    deliveredAt: { type: ['string', 'null'], format: 'date-time' },
    redeliveryRequested: bool,
  }),
  WebhookDeliveryList: listOf('WebhookDelivery'),
  WebhookSecret: closed({ id: text, secret: { type: 'string', pattern: '^whsec_' } }, { previousSecretExpiresAt: instant }),
  LivenessReport: closed({ status: { const: 'ok' } }),
  HealthReport: closed({ status: { const: 'ok' }, checks: { type: 'object', additionalProperties: { type: 'string', enum: ['ok', 'failed', 'timed_out'] } } }),
};
