import { deciderSpecification } from '@csp/testing/decider-specification';
import { fixtureSkus } from '@csp/testing/fixtures/catalogue.fixture';
import { Catalogue } from '../catalogue/catalogue';
import type { CustomerState } from '../customer/customer.decider';
import { createOrderDecider, type CancelPerpetual, type PurchaseSoftware, type RequestedLine } from './order.decider';
import type { OrderPlaced, PerpetualLineCancelled } from './order.events';

const decider = createOrderDecider(new Catalogue(fixtureSkus));
const spec = deciderSpecification(decider);
const purchasedAt = '2026-11-10T09:30:00.000Z';

const customerIn = (country: string): CustomerState => ({
  status: 'registered',
  customerId: 'cust-1',
  partnerId: 'partner-1',
  companyName: 'Contoso',
  domain: 'contoso.example',
  country,
});

const place = (lineItems: RequestedLine[], country = 'DE', overrides: Partial<PurchaseSoftware> = {}): PurchaseSoftware => ({
  type: 'PurchaseSoftware',
  orderId: 'order-1',
  partnerId: 'partner-1',
  customer: customerIn(country),
  lineItems,
  subscriptionIds: lineItems.map((_, index) => `sub-${index + 1}`),
  purchasedAt,
  backfilled: false,
  ...overrides,
});

const placedOrder = (lineItems: RequestedLine[], country = 'DE'): OrderPlaced =>
  decider.decide(place(lineItems, country), decider.initialState())[0] as OrderPlaced;

describe('PurchaseSoftware', () => {
  it('prices each line for the market, one subscription id per subscription line, none for perpetual', () => {
    const [event] = spec
      .given([])
      .when(
        place([
          { skuId: 'WS2022DC-P1Y', quantity: 2, billingCycle: 'annual' },
          { skuId: 'OFFICE-LTSC-2021', quantity: 3, billingCycle: 'oneTime' },
        ]),
      )
      .thenEvents() as [OrderPlaced];
    expect(event.type).toBe('OrderPlaced');
    expect(event.data).toMatchObject({ orderId: 'order-1', customerId: 'cust-1', partnerId: 'partner-1', country: 'DE', purchasedAt });
    expect(event.data.lineItems).toEqual([
      expect.objectContaining({
        lineItemNumber: 1,
        skuId: 'WS2022DC-P1Y',
        kind: 'ServerSubscription',
        quantity: 2,
        termDuration: 'P1Y',
        unitPrice: { amount: 365_000, currency: 'EUR' },
        totalPrice: { amount: 730_000, currency: 'EUR' },
        taxIncluded: false,
        subscriptionId: 'sub-1',
        friendlyName: 'Windows Server 2022 Datacenter',
      }),
      expect.objectContaining({
        lineItemNumber: 2,
        kind: 'PerpetualSoftware',
        termDuration: null,
        totalPrice: { amount: 135_000, currency: 'EUR' },
        subscriptionId: null,
      }),
    ]);
  });

  it.each([
    ['AU', true],
    ['BR', true],
    ['DE', false],
  ])('marks lines sold in %s as taxIncluded=%s', (country, taxIncluded) => {
    const skuId = country === 'BR' ? 'OFFICE-LTSC-2021' : 'WS2022DC-P1Y';
    const billingCycle = country === 'BR' ? 'oneTime' : 'annual';
    const [event] = spec.given([]).when(place([{ skuId, quantity: 1, billingCycle }], country)).thenEvents() as [OrderPlaced];
    expect(event.data.lineItems[0]!.taxIncluded).toBe(taxIncluded);
  });

  it('refuses an order without line items', () => {
    spec.given([]).when(place([])).thenThrows('EMPTY_ORDER');
  });

  it('refuses an unknown SKU', () => {
    spec.given([]).when(place([{ skuId: 'NOPE', quantity: 1, billingCycle: 'annual' }])).thenThrows('UNKNOWN_SKU');
  });

  it('refuses a billing cycle the SKU does not offer (P3Y: annual or triennial only)', () => {
    spec
      .given([])
      .when(place([{ skuId: 'SQL2022STD-P3Y', quantity: 1, billingCycle: 'monthly' }]))
      .thenThrows('BILLING_PLAN_NOT_OFFERED');
  });

  it('accepts triennial billing on a three-year SKU', () => {
    const [event] = spec.given([]).when(place([{ skuId: 'SQL2022STD-P3Y', quantity: 1, billingCycle: 'triennial' }])).thenEvents() as [OrderPlaced];
    expect(event.data.lineItems[0]!.billingCycle).toBe('triennial');
  });

  it('refuses Azure Reservations in a market where they are unavailable (CN)', () => {
    spec
      .given([])
      .when(place([{ skuId: 'AZRES-VM-P1Y', quantity: 1, billingCycle: 'annual' }], 'CN'))
      .thenThrows('AZURE_RESERVATIONS_UNAVAILABLE', { country: 'CN' });
  });

  it('still sells other products in that market (CN)', () => {
    const events = spec.given([]).when(place([{ skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'annual' }], 'CN')).thenEvents();
    expect(events).toHaveLength(1);
  });

  it('sells Azure Reservations where they are available (DE)', () => {
    const events = spec.given([]).when(place([{ skuId: 'AZRES-VM-P1Y', quantity: 1, billingCycle: 'annual' }])).thenEvents();
    expect(events).toHaveLength(1);
  });

  it('refuses a SKU without a price in the customer market', () => {
    spec
      .given([])
      .when(place([{ skuId: 'SQL2022STD-P3Y', quantity: 1, billingCycle: 'annual' }], 'AU'))
      .thenThrows('SKU_NOT_AVAILABLE_IN_MARKET');
  });

  it('refuses a customer of another partner as unknown', () => {
    spec
      .given([])
      .when(place([{ skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'annual' }], 'DE', { partnerId: 'partner-2' }))
      .thenThrows('UNKNOWN_CUSTOMER');
  });

  it('refuses an unregistered customer', () => {
    spec
      .given([])
      .when(place([{ skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'annual' }], 'DE', { customer: { status: 'unknown' } }))
      .thenThrows('UNKNOWN_CUSTOMER');
  });

  it('refuses to place the same order twice', () => {
    const lines: RequestedLine[] = [{ skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'annual' }];
    spec.given([placedOrder(lines)]).when(place(lines)).thenThrows('ORDER_ALREADY_EXISTS');
  });
});

describe('CancelPerpetual', () => {
  const lines: RequestedLine[] = [
    { skuId: 'OFFICE-LTSC-2021', quantity: 3, billingCycle: 'oneTime' },
    { skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'annual' },
  ];
  const cancel = (at: string, lineItemNumbers?: number[]): CancelPerpetual => ({
    type: 'CancelPerpetual',
    at,
    ...(lineItemNumbers ? { lineItemNumbers } : {}),
  });
  const cancelled = (at: string, invoicePeriod: string): PerpetualLineCancelled => ({
    type: 'PerpetualLineCancelled',
    data: {
      orderId: 'order-1',
      customerId: 'cust-1',
      lineItemNumber: 1,
      cancelledAt: at,
      credit: { amount: 135_000, currency: 'EUR' },
      invoicePeriod,
    },
  });

  it('credits 100 % of the line on the next monthly invoice', () => {
    const at = '2026-11-30T23:00:00.000Z';
    spec.given([placedOrder(lines)]).when(cancel(at)).then([cancelled(at, '2026-12')]);
  });

  it('is allowed one millisecond before 30 days', () => {
    const at = '2026-12-10T09:29:59.999Z';
    spec.given([placedOrder(lines)]).when(cancel(at, [1])).then([cancelled(at, '2027-01')]);
  });

  it('is refused at exactly 30 days, naming the window end', () => {
    spec
      .given([placedOrder(lines)])
      .when(cancel('2026-12-10T09:30:00.000Z'))
      .thenThrows('CANCELLATION_WINDOW_CLOSED', { cancellationAllowedUntil: '2026-12-10T09:30:00.000Z' });
  });

  it('refuses a second cancellation: never a second credit', () => {
    const at = '2026-11-12T00:00:00.000Z';
    spec.given([placedOrder(lines), cancelled(at, '2026-12')]).when(cancel(at)).thenThrows('ALREADY_CANCELLED');
    spec.given([placedOrder(lines), cancelled(at, '2026-12')]).when(cancel(at, [1])).thenThrows('ALREADY_CANCELLED');
  });

  it('refuses to cancel a subscription line through the order', () => {
    spec.given([placedOrder(lines)]).when(cancel(purchasedAt, [2])).thenThrows('NOT_A_PERPETUAL_LINE');
  });

  it('refuses an unknown line number', () => {
    spec.given([placedOrder(lines)]).when(cancel(purchasedAt, [9])).thenThrows('UNKNOWN_LINE_ITEM');
  });

  it('refuses an order without perpetual lines', () => {
    spec
      .given([placedOrder([{ skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'annual' }])])
      .when(cancel(purchasedAt))
      .thenThrows('NO_PERPETUAL_LINES');
  });

  it('refuses an order that does not exist', () => {
    spec.given([]).when(cancel(purchasedAt)).thenThrows('ORDER_NOT_FOUND');
  });
});
