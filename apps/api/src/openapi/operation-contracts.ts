/**
 * What each operation promises beyond what Nest reads off the controllers: its summary, who may call
 * it, what a success answers, and exactly the problem codes it can answer. Kept in one table so the
 * contract can be read (and reviewed) as a whole; `openapi-document.ts` merges it into the document
 * and the contract test fails for any operation that has no entry here.
 */
export type Success =
  | { status: 200 | 201; schema: string; description: string }
  | { status: 200; media: 'text/plain' | 'application/octet-stream'; schema?: string; description: string };

export interface OperationContract {
  summary: string;
  description?: string;
  /** Who may call it: the roles (and kinds of caller) it admits; `public` for no token at all. */
  roles: readonly string[] | 'public';
  /** The caller kinds, when more than partner users (customer users, services). */
  audience?: string;
  success: Success;
  /** Codes by status, beyond the ones every operation of its kind shares (see `sharedProblems`). */
  problems?: Record<number, readonly string[]>;
  /** A request body the server accepts (the contract test posts each one). */
  example?: Record<string, unknown>;
  /** Whether the operation appends to the log (commands: Idempotency-Key in, X-Log-Position out). */
  command?: boolean;
  /** False where the answer does not wait for the read models (no X-Min-Position, no PROJECTION_LAGGING). */
  consistency?: false;
}

const CUSTOMER_REF = {
  404: ['UNKNOWN_CUSTOMER'],
  409: ['AMBIGUOUS_CUSTOMER'],
} as const;
const PAGED = { 400: ['INVALID_CONTINUATION_TOKEN'] } as const;
const PARTNER_USERS_AND_OWN_CUSTOMER = 'Partner users of the customer’s partner (any role), and the customer’s own users';

export const EXAMPLE_CUSTOMER_ID = '3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f';

export const OPERATION_CONTRACTS: Record<string, OperationContract> = {
  'POST /v1/customers': {
    summary: 'Register a customer tenant under the caller’s partner',
    roles: ['AdminAgent', 'GlobalAdmin'],
    command: true,
    success: { status: 201, schema: 'Customer', description: 'The registered customer; its country upper case' },
    problems: { 409: ['CUSTOMER_ALREADY_EXISTS', 'DOMAIN_ALREADY_REGISTERED'], 400: ['UNKNOWN_COUNTRY'] },
    example: { id: EXAMPLE_CUSTOMER_ID, companyName: 'Contoso GmbH', domain: 'contoso.onmicrosoft.com', country: 'de' },
  },
  'GET /v1/customers/{customerId}': {
    summary: 'Read one customer by tenant GUID, primary domain or company name',
    roles: [],
    audience: PARTNER_USERS_AND_OWN_CUSTOMER,
    success: { status: 200, schema: 'Customer', description: 'The customer' },
    problems: CUSTOMER_REF,
  },
  'GET /v1/products': {
    summary: 'List the catalogue as sold in one market, with that market’s prices',
    roles: [],
    audience: 'Any authenticated caller',
    success: { status: 200, schema: 'ProductList', description: 'Every SKU offered in the market' },
  },
  'POST /v1/customers/{customerId}/orders': {
    summary: 'Buy software: one order of 1 to 50 line items',
    roles: ['AdminAgent', 'GlobalAdmin'],
    command: true,
    success: { status: 201, schema: 'Order', description: 'The order; subscription lines name the subscription they created' },
    problems: {
      ...CUSTOMER_REF,
      409: [...CUSTOMER_REF[409], 'ORDER_ALREADY_EXISTS'],
      400: ['EMPTY_ORDER'],
      422: ['UNKNOWN_SKU', 'BILLING_PLAN_NOT_OFFERED', 'AZURE_RESERVATIONS_UNAVAILABLE', 'SKU_NOT_AVAILABLE_IN_MARKET'],
    },
    example: { lineItems: [{ skuId: 'windows-server-2022-standard-2core:P1Y', quantity: 5, billingCycle: 'monthly', friendlyName: 'Contoso file server' }] },
  },
  'GET /v1/customers/{customerId}/orders': {
    summary: 'List every order of a customer, whatever its date',
    roles: [],
    audience: PARTNER_USERS_AND_OWN_CUSTOMER,
    success: { status: 200, schema: 'OrderList', description: 'One page of orders' },
    problems: { ...CUSTOMER_REF, ...PAGED },
  },
  'GET /v1/customers/{customerId}/orders/{orderId}': {
    summary: 'Read one order with its line statuses and each perpetual line’s cancellation window',
    roles: [],
    audience: PARTNER_USERS_AND_OWN_CUSTOMER,
    success: { status: 200, schema: 'Order', description: 'The order' },
    problems: { ...CUSTOMER_REF, 404: [...CUSTOMER_REF[404], 'ORDER_NOT_FOUND'] },
  },
  'PATCH /v1/customers/{customerId}/orders/{orderId}': {
    summary: 'Cancel perpetual lines of an order (all of them when lineItems is left out)',
    roles: ['AdminAgent'],
    command: true,
    success: { status: 200, schema: 'Order', description: 'The order with the cancelled lines and `credit`' },
    problems: {
      404: [...CUSTOMER_REF[404], 'ORDER_NOT_FOUND'],
      409: [...CUSTOMER_REF[409], 'ALREADY_CANCELLED'],
      422: ['CANCELLATION_WINDOW_CLOSED', 'NOT_CANCELLABLE', 'NOT_A_PERPETUAL_LINE', 'UNKNOWN_LINE_ITEM', 'NO_PERPETUAL_LINES'],
    },
    example: { status: 'cancelled' },
  },
  'POST /v1/import/purchases': {
    summary: 'Backfill a historic purchase; due renewals, expiries and installments up to now follow',
    roles: ['Importer'],
    audience: 'Service tokens (kind `service`) with the Importer role',
    command: true,
    success: { status: 201, schema: 'Order', description: 'The backfilled order' },
    problems: {
      ...CUSTOMER_REF,
      409: [...CUSTOMER_REF[409], 'ORDER_ALREADY_EXISTS'],
      400: ['EMPTY_ORDER'],
      422: ['UNKNOWN_SKU', 'BILLING_PLAN_NOT_OFFERED', 'AZURE_RESERVATIONS_UNAVAILABLE', 'SKU_NOT_AVAILABLE_IN_MARKET', 'PURCHASE_DATE_IN_FUTURE'],
    },
    example: {
      customerId: EXAMPLE_CUSTOMER_ID,
      purchasedAt: '2021-10-14T00:00:00Z',
      lineItems: [{ skuId: 'windows-server-2022-user-cal:P1Y', quantity: 10, billingCycle: 'annual' }],
    },
  },
  'GET /v1/customers/{customerId}/subscriptions': {
    summary: 'List a customer’s subscriptions purchased on or after 2021-10-14',
    roles: [],
    audience: PARTNER_USERS_AND_OWN_CUSTOMER,
    success: { status: 200, schema: 'SubscriptionList', description: 'One page of subscriptions' },
    problems: { ...CUSTOMER_REF, ...PAGED },
  },
  'GET /v1/customers/{customerId}/subscriptions/{subscriptionId}': {
    summary: 'Read one subscription by id or friendly name',
    roles: [],
    audience: PARTNER_USERS_AND_OWN_CUSTOMER,
    success: { status: 200, schema: 'Subscription', description: 'The subscription with its term, installments and cancellation window' },
    problems: { 404: [...CUSTOMER_REF[404], 'SUBSCRIPTION_NOT_FOUND'], 409: [...CUSTOMER_REF[409], 'AMBIGUOUS_SUBSCRIPTION'] },
  },
  'PATCH /v1/customers/{customerId}/subscriptions/{subscriptionId}': {
    summary: 'Switch autorenew ({ autoRenewEnabled }) or cancel ({ status: "cancelled" }) a subscription',
    description: '`autoRenewEnabled`: AdminAgent or GlobalAdmin; `status: "cancelled"`: AdminAgent only. Send exactly one of the two.',
    roles: ['AdminAgent', 'GlobalAdmin'],
    command: true,
    success: { status: 200, schema: 'Subscription', description: 'The subscription; a cancellation also carries `refund`' },
    problems: {
      404: [...CUSTOMER_REF[404], 'SUBSCRIPTION_NOT_FOUND'],
      409: [...CUSTOMER_REF[409], 'AMBIGUOUS_SUBSCRIPTION', 'ALREADY_CANCELLED'],
      422: ['AUTORENEW_NOT_AVAILABLE', 'CANCELLATION_WINDOW_CLOSED', 'NOT_CANCELLABLE', 'SUBSCRIPTION_NOT_ACTIVE'],
    },
    example: { autoRenewEnabled: false },
  },
  'GET /v1/customers/{customerId}/software': {
    summary: 'List a customer’s software purchases with their download options',
    roles: [],
    audience: PARTNER_USERS_AND_OWN_CUSTOMER,
    success: { status: 200, schema: 'SoftwareList', description: 'One page of software items' },
    problems: { ...CUSTOMER_REF, ...PAGED },
  },
  'POST /v1/customers/{customerId}/software/{softwareId}/keys': {
    summary: 'Generate a product key (MAK) for a software item; the answer never holds key text',
    roles: ['AdminAgent', 'GlobalAdmin'],
    audience: 'Partner AdminAgent; the customer’s GlobalAdmin for its server subscriptions',
    command: true,
    success: { status: 201, schema: 'GeneratedKey', description: 'The key’s id' },
    problems: {
      404: [...CUSTOMER_REF[404], 'SOFTWARE_NOT_FOUND'],
      409: [...CUSTOMER_REF[409]],
      410: ['REVOKED'],
      422: ['KMS_KEYS_NOT_ALLOWED', 'PRODUCT_DELIVERS_NO_KEYS', 'INVALID_DOWNLOAD_OPTION', 'INVALID_KEY_TYPE'],
    },
  },
  'POST /v1/customers/{customerId}/software/{softwareId}/keys/{keyId}/reveal': {
    summary: 'Reveal a generated key’s text (recorded in the activity log)',
    roles: ['AdminAgent', 'GlobalAdmin'],
    audience: 'Partner AdminAgent; the customer’s GlobalAdmin for its server subscriptions',
    command: true,
    success: { status: 200, schema: 'RevealedKey', description: 'The product key' },
    problems: { 404: [...CUSTOMER_REF[404], 'SOFTWARE_NOT_FOUND', 'KEY_NOT_FOUND'], 409: [...CUSTOMER_REF[409]], 410: ['REVOKED'] },
  },
  'POST /v1/customers/{customerId}/software/{softwareId}/downloads': {
    summary: 'Start a download: a signed address valid for 15 minutes (recorded)',
    roles: ['AdminAgent', 'GlobalAdmin'],
    audience: 'Partner AdminAgent; the customer’s GlobalAdmin for its server subscriptions',
    command: true,
    success: { status: 200, schema: 'DownloadAddress', description: 'Where to fetch the bits' },
    problems: { 404: [...CUSTOMER_REF[404], 'SOFTWARE_NOT_FOUND'], 409: [...CUSTOMER_REF[409]], 410: ['REVOKED'], 422: ['INVALID_DOWNLOAD_OPTION', 'PRODUCT_DELIVERS_NO_KEYS'] },
  },
  'POST /v1/customers/{customerId}/software/{softwareId}/download-links': {
    summary: 'Issue a shareable download link: 14 days or 50 uses (recorded)',
    roles: ['AdminAgent', 'GlobalAdmin'],
    audience: 'Partner AdminAgent; the customer’s GlobalAdmin for its server subscriptions',
    command: true,
    success: { status: 201, schema: 'DownloadLink', description: 'The link and when it expires' },
    problems: { 404: [...CUSTOMER_REF[404], 'SOFTWARE_NOT_FOUND'], 409: [...CUSTOMER_REF[409]], 410: ['REVOKED'], 422: ['INVALID_DOWNLOAD_OPTION', 'PRODUCT_DELIVERS_NO_KEYS'] },
  },
  'GET /v1/downloads/{token}': {
    summary: 'Fetch the bits behind a download address or shareable link (no token needed; each link use recorded)',
    roles: 'public',
    command: true,
    success: { status: 200, media: 'application/octet-stream', description: 'The file' },
    problems: { 404: ['LINK_NOT_FOUND'], 410: ['REVOKED', 'LINK_EXPIRED'] },
  },
  'GET /v1/activity-log': {
    summary: 'Read the activity log: who revealed keys, started downloads, issued and used links',
    description: 'JSON pages by default; `Accept: text/csv` exports every selected entry.',
    roles: ['GlobalAdmin', 'AccountAdmin', 'ReferralAdmin', 'MarketingContentAdmin'],
    success: { status: 200, schema: 'ActivityLogPage', description: 'One page of entries (or CSV)' },
    problems: { ...CUSTOMER_REF, ...PAGED },
  },
  'GET /v1/ledger': {
    summary: 'Read the refund/credit ledger: entries, totals and checksum over the selection, live or as of a past position or instant',
    description: 'JSON pages by default; `Accept: text/csv` exports every selected entry (checksum in `X-Ledger-Checksum`).',
    roles: ['BillingAdmin'],
    success: { status: 200, schema: 'LedgerPage', description: 'One page of entries with totals and checksum (or CSV)' },
    problems: { ...CUSTOMER_REF, ...PAGED },
  },
  'GET /v1/ledger/periods/{invoicePeriod}': {
    summary: 'Reconcile one invoice period: charges, refunds, credits, voids and net per customer and currency',
    roles: ['BillingAdmin'],
    success: { status: 200, schema: 'LedgerPeriod', description: 'The period’s totals' },
  },
  'POST /v1/support-requests': {
    summary: 'File a cancellation support request (refund) with up to 5 attachments',
    roles: ['AdminAgent'],
    command: true,
    success: { status: 201, schema: 'SupportRequest', description: 'The open request' },
    problems: {
      ...CUSTOMER_REF,
      404: [...CUSTOMER_REF[404], 'ORDER_NOT_FOUND', 'SUBSCRIPTION_NOT_FOUND'],
      409: [...CUSTOMER_REF[409], 'AMBIGUOUS_SUBSCRIPTION', 'SUPPORT_REQUEST_ALREADY_EXISTS'],
      413: ['ATTACHMENT_TOO_LARGE'],
      422: ['INVALID_SUPPORT_REQUEST', 'INVALID_AMOUNT', 'TOO_MANY_ATTACHMENTS', 'ATTACHMENT_TOO_LARGE', 'ATTACHMENT_TYPE_NOT_ALLOWED'],
    },
    example: {
      problemType: 'CSP purchase/refund on behalf of customers',
      impact: 'moderate',
      title: 'Refund for a server licence bought by mistake',
      description: {
        customer: 'contoso.onmicrosoft.com',
        subscriptionId: 'Contoso file server',
        refundReason: 'Bought for the wrong tenant',
        requestedAmount: { amount: 1000, currency: 'EUR' },
      },
      contact: { name: 'Alex Partner', email: 'alex@partner.example', phone: '+49 30 1234-5678' },
    },
  },
  'GET /v1/support-requests/{requestId}': {
    summary: 'Read a support request and its decision',
    roles: ['AdminAgent', 'BillingAdmin'],
    success: { status: 200, schema: 'SupportRequest', description: 'The request' },
    problems: { 404: ['SUPPORT_REQUEST_NOT_FOUND'] },
  },
  'POST /v1/support-requests/{requestId}/approve': {
    summary: 'Approve a support request: credit the amount (all of the requested amount when none is given) once',
    roles: ['BillingAdmin'],
    command: true,
    success: { status: 200, schema: 'SupportRequest', description: 'The approved request' },
    problems: { 404: ['SUPPORT_REQUEST_NOT_FOUND'], 409: ['ALREADY_DECIDED'], 422: ['AMOUNT_ABOVE_REQUESTED', 'CURRENCY_MISMATCH', 'INVALID_AMOUNT'] },
    example: { amount: { amount: 500, currency: 'EUR' } },
  },
  'POST /v1/support-requests/{requestId}/reject': {
    summary: 'Reject a support request with a reason',
    roles: ['BillingAdmin'],
    command: true,
    success: { status: 200, schema: 'SupportRequest', description: 'The rejected request' },
    problems: { 404: ['SUPPORT_REQUEST_NOT_FOUND'], 409: ['ALREADY_DECIDED'] },
    example: { reason: 'The subscription was used for the whole term' },
  },
  'GET /v1/events': {
    summary: 'Follow the integration-event feed: the caller’s partner’s public events in log order, resumable from `lastPosition`, long-polling with `wait`',
    roles: ['GlobalAdmin', 'AdminAgent'],
    audience: 'Partner users, and backend services whatever their roles',
    success: { status: 200, schema: 'IntegrationEventPage', description: 'The next events after `after`, and where to resume' },
  },
  'POST /v1/webhooks': {
    summary: 'Register a webhook endpoint for integration events; the signing secret is in this answer only',
    roles: ['GlobalAdmin'],
    consistency: false,
    success: { status: 201, schema: 'CreatedWebhookEndpoint', description: 'The endpoint and its `whsec_` secret' },
    problems: { 422: ['WEBHOOK_URL_NOT_ALLOWED'] },
  },
  'GET /v1/webhooks': {
    summary: 'List the partner’s webhook endpoints',
    roles: ['GlobalAdmin'],
    consistency: false,
    success: { status: 200, schema: 'WebhookEndpointList', description: 'Every endpoint, without secrets' },
  },
  'GET /v1/webhooks/{webhookId}': {
    summary: 'Read a webhook endpoint: its status and, once disabled, why',
    roles: ['GlobalAdmin'],
    consistency: false,
    success: { status: 200, schema: 'WebhookEndpoint', description: 'The endpoint' },
    problems: { 404: ['UNKNOWN_WEBHOOK'] },
  },
  'DELETE /v1/webhooks/{webhookId}': {
    summary: 'Delete a webhook endpoint; deliveries stop',
    roles: ['GlobalAdmin'],
    consistency: false,
    success: { status: 200, schema: 'WebhookEndpoint', description: 'The endpoint as it was' },
    problems: { 404: ['UNKNOWN_WEBHOOK'] },
  },
  'GET /v1/webhooks/{webhookId}/deliveries': {
    summary: 'Read each event’s delivery to an endpoint: status, attempts, last answer code, next attempt',
    roles: ['GlobalAdmin'],
    consistency: false,
    success: { status: 200, schema: 'WebhookDeliveryList', description: 'One page of deliveries in log order' },
    problems: { 404: ['UNKNOWN_WEBHOOK'], ...PAGED },
  },
  'POST /v1/webhooks/{webhookId}/redeliveries': {
    summary: 'Deliver one event again (`eventId`), or every event from a position on (`fromPosition`, which also enables a disabled endpoint)',
    roles: ['GlobalAdmin'],
    consistency: false,
    success: { status: 200, schema: 'WebhookEndpoint', description: 'The endpoint' },
    problems: { 404: ['UNKNOWN_WEBHOOK', 'UNKNOWN_EVENT'] },
  },
  'POST /v1/webhooks/{webhookId}/secret-rotations': {
    summary: 'Rotate the signing secret; the previous one keeps signing beside it for `overlapSeconds`',
    roles: ['GlobalAdmin'],
    consistency: false,
    success: { status: 200, schema: 'WebhookSecret', description: 'The new secret, shown once' },
    problems: { 404: ['UNKNOWN_WEBHOOK'] },
  },
  'GET /health': {
    summary: 'Liveness: the process answers',
    roles: 'public',
    success: { status: 200, schema: 'LivenessReport', description: 'The process lives' },
  },
  'GET /health/ready': {
    summary: 'Readiness: the log takes writes, the read store answers, projections keep up, the scheduler ticks',
    roles: 'public',
    success: { status: 200, schema: 'HealthReport', description: 'Every check ok' },
    problems: { 503: ['NOT_READY'] },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics: commands, errors, projection lag, request durations',
    roles: 'public',
    success: { status: 200, media: 'text/plain', description: 'Prometheus text exposition format' },
  },
};
