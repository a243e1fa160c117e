import { Catalogue } from '@csp/domain/catalogue/catalogue';
import { createOrderDecider, evolveOrder } from '@csp/domain/order/order.decider';
import type { OrderEvent } from '@csp/domain/order/order.events';
import { fixtureSkus } from '@csp/testing/fixtures/catalogue.fixture';
import { storedOrderState } from './orders.projection';

const orderDecider = createOrderDecider(new Catalogue(fixtureSkus));

function placedOrder() {
  const [placed] = orderDecider.decide(
    {
      type: 'PurchaseSoftware',
      orderId: 'order-1',
      partnerId: 'partner-1',
      customer: { status: 'registered', customerId: 'cust-1', partnerId: 'partner-1', companyName: 'C', domain: 'c.example', country: 'DE' },
      lineItems: [
        { skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'monthly' },
        { skuId: 'WS2022DC-P1Y', quantity: 2, billingCycle: 'annual' },
      ],
      subscriptionIds: ['0190a2b4-7c1d-7000-8000-000000000001', '0190a2b4-7c1d-7000-8000-000000000002'],
      purchasedAt: '2026-01-01T00:00:00.000Z',
      backfilled: false,
    },
    orderDecider.initialState(),
  );
  const state = evolveOrder({ status: 'none' }, placed as OrderEvent);
  if (state.status !== 'placed') throw new Error('the purchase placed no order');
  return state;
}

describe('storedOrderState', () => {
  it('writes the JSON the state with its subscription lines as last member gives', () => {
    const state = placedOrder();
    const [first, second] = state.order.lineItems.map((line) => line.subscriptionId!);
    const lines = new Map<string, 'provisioned' | 'cancelled'>([
      [first!, 'provisioned'],
      [second!, 'cancelled'],
    ]);

    expect(storedOrderState(state, lines)).toBe(JSON.stringify({ ...state, subscriptionLines: { [first!]: 'provisioned', [second!]: 'cancelled' } }));
  });

  it('writes an order none of whose subscriptions started with empty lines', () => {
    const state = placedOrder();

    expect(JSON.parse(storedOrderState(state, new Map()))).toEqual({ ...state, subscriptionLines: {} });
  });
});
