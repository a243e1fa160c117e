import type { OrderPlaced, PerpetualLineCancelled } from '../order/order.events';
import type { KeyGenerated } from '../software/software.events';
import type {
  AutoRenewChanged,
  FutureInstallmentsVoided,
  InstallmentBilled,
  InstallmentVoided,
  SubscriptionCancelled,
  SubscriptionExpired,
  SubscriptionRenewed,
  SubscriptionStarted,
  Term,
} from '../subscription/subscription.events';
import type { SupportRequestApproved, SupportRequestRejected } from '../support-request/support-request.events';
import { ledgerEntriesOf } from '../ledger/ledger-entry';
import type { DomainEvent } from '../shared/event';
import {
  feedSequenceOfLedgerEntry,
  INTEGRATION_EVENT_TYPES,
  INTEGRATION_SOURCE_EVENT_TYPES,
  integrationEventPlacesOf,
  integrationEventsOf,
  LEDGER_ONLY_SOURCE_EVENT_TYPES,
  ledgerEntryIdOf,
  ledgerEntryRecorded,
  type IntegrationEventSource,
  type MappedIntegrationEvent,
} from './integration-event';

const source = { eventId: 'evt-1', position: '42.42' };
const eur = (amount: number) => ({ amount, currency: 'EUR' });

const term: Term = {
  number: 1,
  start: '2026-01-10T09:00:00.000Z',
  end: '2027-01-10T09:00:00.000Z',
  price: eur(120000),
  installments: [{ sequence: 1, dueAt: '2026-01-10T09:00:00.000Z', amount: eur(120000) }],
};

/**
 * What `integrationEventsOf` publishes for the source, after checking that `integrationEventPlacesOf`
 * gives the same events without their data and without the ledger's (the feed's fold stores only those).
 */
function publishedBy(sourceEvent: DomainEvent, from: IntegrationEventSource = source): MappedIntegrationEvent[] {
  const published = integrationEventsOf(sourceEvent, from);
  const withoutLedger = published.filter(({ event }) => event.type !== 'ledger.entry_recorded');
  expect(integrationEventPlacesOf(sourceEvent, from)).toEqual(
    withoutLedger.map(({ event, partnerId }) => ({ id: event.id, type: event.type, tenant: event.tenant, ...(partnerId === undefined ? {} : { partnerId }) })),
  );
  return published;
}

/**
 * The feed does not store ledger events: it makes them from the ledger's entries and places them by
 * `feedSequenceOfLedgerEntry`. Both must give what `integrationEventsOf` publishes for the source.
 */
function expectLedgerEventsMadeFromEntries(sourceEvent: DomainEvent): void {
  const published = publishedBy(sourceEvent).map(({ event }) => event);
  const entries = ledgerEntriesOf(sourceEvent, source);
  expect(entries.length).toBeGreaterThan(0);
  const fromEntries = entries.map((entry) => [feedSequenceOfLedgerEntry(entry), JSON.stringify(ledgerEntryRecorded(entry))]);
  const ledgerEventsPublished = published.flatMap((event, sequence) => (event.type === 'ledger.entry_recorded' ? [[sequence, JSON.stringify(event)]] : []));
  expect(fromEntries).toEqual(ledgerEventsPublished);
  expect(entries.map((entry) => ledgerEntryIdOf(ledgerEntryRecorded(entry).id))).toEqual(entries.map((entry) => entry.id));
  expect(published.filter((event) => event.type !== 'ledger.entry_recorded').map((event) => ledgerEntryIdOf(event.id))).toEqual(
    published.filter((event) => event.type !== 'ledger.entry_recorded').map(() => undefined),
  );
  expect(published.slice(-entries.length).every((event) => event.type === 'ledger.entry_recorded')).toBe(true);
}

describe('integration events of domain events', () => {
  it('publishes an order with its lines, under the partner the order names, with an id derived from the source event', () => {
    const placed: OrderPlaced = {
      type: 'OrderPlaced',
      data: {
        orderId: 'order-1',
        customerId: 'tenant-1',
        partnerId: 'partner-1',
        country: 'DE',
        purchasedAt: '2026-01-10T09:00:00.000Z',
        backfilled: false,
        lineItems: [
          {
            lineItemNumber: 1,
            skuId: 'sku-1',
            productId: 'product-1',
            title: 'Windows Server',
            friendlyName: 'WS',
            publisher: 'Microsoft',
            kind: 'ServerSubscription',
            quantity: 2,
            billingCycle: 'annual',
            termDuration: 'P1Y',
            unitPrice: eur(60000),
            totalPrice: eur(120000),
            taxIncluded: false,
            subscriptionId: 'sub-1',
            cancellable: true,
            deliversKeys: true,
          },
        ],
      },
    };

    expect(publishedBy(placed, source)).toEqual([
      {
        partnerId: 'partner-1',
        event: {
          id: 'evt-1:order.placed:0',
          type: 'order.placed',
          occurredAt: '2026-01-10T09:00:00.000Z',
          position: '42.42',
          tenant: 'tenant-1',
          data: {
            orderId: 'order-1',
            customerId: 'tenant-1',
            purchasedAt: '2026-01-10T09:00:00.000Z',
            backfilled: false,
            lineItems: [
              {
                lineItemNumber: 1,
                skuId: 'sku-1',
                productId: 'product-1',
                title: 'Windows Server',
                kind: 'ServerSubscription',
                quantity: 2,
                billingCycle: 'annual',
                termDuration: 'P1Y',
                unitPrice: eur(60000),
                totalPrice: eur(120000),
                taxIncluded: false,
                subscriptionId: 'sub-1',
              },
            ],
          },
        },
      },
    ]);
  });

  it('publishes a started subscription with its first term', () => {
    const started: SubscriptionStarted = {
      type: 'SubscriptionStarted',
      data: {
        subscriptionId: 'sub-1',
        orderId: 'order-1',
        customerId: 'tenant-1',
        partnerId: 'partner-1',
        country: 'DE',
        lineItemNumber: 1,
        skuId: 'sku-1',
        productId: 'product-1',
        title: 'Windows Server',
        publisher: 'Microsoft',
        kind: 'ServerSubscription',
        friendlyName: 'WS',
        quantity: 2,
        billingCycle: 'annual',
        termDuration: 'P1Y',
        purchasedAt: '2026-01-10T09:00:00.000Z',
        legacy: false,
        autoRenewEnabled: true,
        cancellable: true,
        deliversKeys: true,
        taxIncluded: false,
        term,
      },
    };

    expect(publishedBy(started, source)).toEqual([
      {
        partnerId: 'partner-1',
        event: {
          id: 'evt-1:subscription.started:0',
          type: 'subscription.started',
          occurredAt: '2026-01-10T09:00:00.000Z',
          position: '42.42',
          tenant: 'tenant-1',
          data: {
            subscriptionId: 'sub-1',
            orderId: 'order-1',
            customerId: 'tenant-1',
            lineItemNumber: 1,
            skuId: 'sku-1',
            productId: 'product-1',
            title: 'Windows Server',
            friendlyName: 'WS',
            quantity: 2,
            billingCycle: 'annual',
            termDuration: 'P1Y',
            autoRenewEnabled: true,
            termNumber: 1,
            termStartDate: '2026-01-10T09:00:00.000Z',
            termEndDate: '2027-01-10T09:00:00.000Z',
            termPrice: eur(120000),
          },
        },
      },
    ]);
  });

  it('publishes renewals, expiries and autorenew changes without a partner (the feed knows it from the customer)', () => {
    const renewed: SubscriptionRenewed = {
      type: 'SubscriptionRenewed',
      data: { subscriptionId: 'sub-1', customerId: 'tenant-1', orderId: 'order-1', renewedAt: '2027-01-10T09:00:00.000Z', term: { ...term, number: 2, start: '2027-01-10T09:00:00.000Z', end: '2028-01-10T09:00:00.000Z' } },
    };
    const expired: SubscriptionExpired = {
      type: 'SubscriptionExpired',
      data: { subscriptionId: 'sub-1', customerId: 'tenant-1', orderId: 'order-1', expiredAt: '2028-01-10T09:00:00.000Z' },
    };
    const toggled: AutoRenewChanged = {
      type: 'AutoRenewChanged',
      data: { subscriptionId: 'sub-1', customerId: 'tenant-1', autoRenewEnabled: false, changedAt: '2027-03-01T00:00:00.000Z' },
    };

    expect(publishedBy(renewed, source)).toEqual([
      {
        event: {
          id: 'evt-1:subscription.renewed:0',
          type: 'subscription.renewed',
          occurredAt: '2027-01-10T09:00:00.000Z',
          position: '42.42',
          tenant: 'tenant-1',
          data: {
            subscriptionId: 'sub-1',
            orderId: 'order-1',
            customerId: 'tenant-1',
            renewedAt: '2027-01-10T09:00:00.000Z',
            termNumber: 2,
            termStartDate: '2027-01-10T09:00:00.000Z',
            termEndDate: '2028-01-10T09:00:00.000Z',
            termPrice: eur(120000),
          },
        },
      },
    ]);
    expect(publishedBy(expired, source).map(({ event }) => [event.type, event.occurredAt, event.data])).toEqual([
      ['subscription.expired', '2028-01-10T09:00:00.000Z', { subscriptionId: 'sub-1', orderId: 'order-1', customerId: 'tenant-1', expiredAt: '2028-01-10T09:00:00.000Z' }],
    ]);
    expect(publishedBy(toggled, source).map(({ event }) => [event.type, event.data])).toEqual([
      ['subscription.autorenew_changed', { subscriptionId: 'sub-1', customerId: 'tenant-1', autoRenewEnabled: false, changedAt: '2027-03-01T00:00:00.000Z' }],
    ]);
  });

  it('publishes a subscription cancellation with its refund, the revocation of its software and the refund entry, in that order', () => {
    const cancelled: SubscriptionCancelled = {
      type: 'SubscriptionCancelled',
      data: {
        subscriptionId: 'sub-1',
        customerId: 'tenant-1',
        orderId: 'order-1',
        cancelledAt: '2026-01-12T09:00:00.000Z',
        termNumber: 1,
        usedDays: 2,
        termDays: 365,
        usedCost: eur(658),
        chargedForTerm: eur(120000),
        refund: eur(119342),
        invoicePeriod: '2026-02',
      },
    };

    const events = publishedBy(cancelled, source).map(({ event }) => event);

    expect(events.map((event) => [event.id, event.type, event.position, event.tenant, event.occurredAt])).toEqual([
      ['evt-1:subscription.cancelled:0', 'subscription.cancelled', '42.42', 'tenant-1', '2026-01-12T09:00:00.000Z'],
      ['evt-1:software.revoked:0', 'software.revoked', '42.42', 'tenant-1', '2026-01-12T09:00:00.000Z'],
      ['evt-1:ledger.entry_recorded:0', 'ledger.entry_recorded', '42.42', 'tenant-1', '2026-01-12T09:00:00.000Z'],
    ]);
    expect(events[0]!.data).toEqual({
      subscriptionId: 'sub-1',
      orderId: 'order-1',
      customerId: 'tenant-1',
      cancelledAt: '2026-01-12T09:00:00.000Z',
      termNumber: 1,
      refund: { amount: 119342, currency: 'EUR', usedDays: 2, termDays: 365, usedCost: eur(658), invoicePeriod: '2026-02' },
    });
    expect(events[1]!.data).toEqual({
      softwareId: 'sub-1',
      customerId: 'tenant-1',
      orderId: 'order-1',
      subscriptionId: 'sub-1',
      revokedAt: '2026-01-12T09:00:00.000Z',
      reason: 'subscription_cancelled',
    });
    expect(events[2]!.data).toMatchObject({ kind: 'refund', amount: eur(-119342), invoicePeriod: '2026-02', subscriptionId: 'sub-1', entryId: 'evt-1:0' });
    expectLedgerEventsMadeFromEntries(cancelled);
  });

  it('publishes a perpetual cancellation with its credit, the revocation of the line and the credit entry', () => {
    const cancelled: PerpetualLineCancelled = {
      type: 'PerpetualLineCancelled',
      data: { orderId: 'order-9', customerId: 'tenant-1', lineItemNumber: 2, cancelledAt: '2026-01-20T00:00:00.000Z', credit: eur(43900), invoicePeriod: '2026-02' },
    };

    const events = publishedBy(cancelled, source).map(({ event }) => event);

    expect(events.map((event) => event.type)).toEqual(['perpetual.cancelled', 'software.revoked', 'ledger.entry_recorded']);
    expect(events[0]!.data).toEqual({
      orderId: 'order-9',
      customerId: 'tenant-1',
      lineItemNumber: 2,
      cancelledAt: '2026-01-20T00:00:00.000Z',
      credit: { amount: 43900, currency: 'EUR', invoicePeriod: '2026-02' },
    });
    expect(events[1]!.data).toMatchObject({ softwareId: 'order-9-2', subscriptionId: null, reason: 'perpetual_cancelled' });
    expect(events[2]!.data).toMatchObject({ kind: 'credit', amount: eur(-43900), orderId: 'order-9', subscriptionId: null });
    expectLedgerEventsMadeFromEntries(cancelled);
  });

  it('publishes billed and voided installments as ledger entries only', () => {
    const billed: InstallmentBilled = {
      type: 'InstallmentBilled',
      data: { subscriptionId: 'sub-1', customerId: 'tenant-1', orderId: 'order-1', termNumber: 1, sequence: 3, dueAt: '2026-03-10T09:00:00.000Z', amount: eur(10000), invoicePeriod: '2026-03' },
    };
    const voided: InstallmentVoided = {
      type: 'InstallmentVoided',
      data: { ...billed.data, voidedAt: '2026-01-12T09:00:00.000Z', invoicePeriod: '2026-02' },
    };

    expect(publishedBy(billed, source).map(({ event }) => [event.id, event.type, event.occurredAt, event.data])).toEqual([
      [
        'evt-1:ledger.entry_recorded:0',
        'ledger.entry_recorded',
        '2026-03-10T09:00:00.000Z',
        {
          entryId: 'evt-1:0',
          kind: 'charge',
          customerId: 'tenant-1',
          orderId: 'order-1',
          subscriptionId: 'sub-1',
          supportRequestId: null,
          amount: eur(10000),
          invoicePeriod: '2026-03',
          reason: 'installment 3 of term 1',
        },
      ],
    ]);
    expect(publishedBy(voided, source).map(({ event }) => [event.type, (event.data as { kind: string }).kind])).toEqual([['ledger.entry_recorded', 'void']]);
    const schedule: FutureInstallmentsVoided = {
      type: 'FutureInstallmentsVoided',
      data: {
        subscriptionId: 'sub-1',
        customerId: 'tenant-1',
        orderId: 'order-1',
        termNumber: 1,
        installments: [
          { sequence: 3, dueAt: '2026-03-10T09:00:00.000Z', amount: eur(10000) },
          { sequence: 4, dueAt: '2026-04-10T09:00:00.000Z', amount: eur(9999) },
        ],
        voidedAt: '2026-01-12T09:00:00.000Z',
        invoicePeriod: '2026-02',
      },
    };
    expect(
      publishedBy(schedule, source).map(({ event }) => {
        const data = event.data as { entryId: string; kind: string; amount: unknown; invoicePeriod: string };
        return [event.id, event.type, event.occurredAt, data.entryId, data.kind, data.amount, data.invoicePeriod];
      }),
    ).toEqual([
      ['evt-1:ledger.entry_recorded:0', 'ledger.entry_recorded', '2026-01-12T09:00:00.000Z', 'evt-1:0', 'void', eur(-10000), '2026-02'],
      ['evt-1:ledger.entry_recorded:1', 'ledger.entry_recorded', '2026-01-12T09:00:00.000Z', 'evt-1:1', 'void', eur(-9999), '2026-02'],
    ]);
    for (const ledgerOnly of [billed, voided, schedule]) {
      expect(LEDGER_ONLY_SOURCE_EVENT_TYPES.has(ledgerOnly.type)).toBe(true);
      expectLedgerEventsMadeFromEntries(ledgerOnly);
    }
  });

  it('publishes support-request decisions under the partner they name, an approval with its credit entry', () => {
    const actor = { userId: 'finance-1' };
    const approved: SupportRequestApproved = {
      type: 'SupportRequestApproved',
      data: {
        requestId: 'req-1',
        customerId: 'tenant-1',
        subscriptionId: 'sub-1',
        partnerId: 'partner-1',
        requestedAmount: eur(5000),
        approvedAmount: eur(3000),
        invoicePeriod: '2026-04',
        decidedBy: actor,
        decidedAt: '2026-03-15T00:00:00.000Z',
      },
    };
    const rejected: SupportRequestRejected = {
      type: 'SupportRequestRejected',
      data: { requestId: 'req-2', customerId: 'tenant-1', partnerId: 'partner-1', reason: 'outside policy', decidedBy: actor, decidedAt: '2026-03-16T00:00:00.000Z' },
    };

    const approval = publishedBy(approved, source);
    expect(approval.map(({ event, partnerId }) => [event.type, partnerId])).toEqual([
      ['support_request.decided', 'partner-1'],
      ['ledger.entry_recorded', 'partner-1'],
    ]);
    expect(approval[0]!.event.data).toEqual({
      requestId: 'req-1',
      customerId: 'tenant-1',
      orderId: null,
      subscriptionId: 'sub-1',
      decision: 'approved',
      requestedAmount: eur(5000),
      approvedAmount: eur(3000),
      reason: null,
      decidedAt: '2026-03-15T00:00:00.000Z',
    });
    expect(approval[1]!.event.data).toMatchObject({ kind: 'credit', amount: eur(-3000), supportRequestId: 'req-1' });
    expectLedgerEventsMadeFromEntries(approved);
    expect(publishedBy(rejected, source)).toEqual([
      {
        partnerId: 'partner-1',
        event: {
          id: 'evt-1:support_request.decided:0',
          type: 'support_request.decided',
          occurredAt: '2026-03-16T00:00:00.000Z',
          position: '42.42',
          tenant: 'tenant-1',
          data: {
            requestId: 'req-2',
            customerId: 'tenant-1',
            orderId: null,
            subscriptionId: null,
            decision: 'rejected',
            requestedAmount: null,
            approvedAmount: null,
            reason: 'outside policy',
            decidedAt: '2026-03-16T00:00:00.000Z',
          },
        },
      },
    ]);
  });

  it('publishes nothing for key events, so key text can never reach a consumer', () => {
    const generated: KeyGenerated = {
      type: 'KeyGenerated',
      data: {
        softwareId: 'sub-1',
        customerId: 'tenant-1',
        productTitle: 'Windows Server',
        keyId: 'key-1',
        keyType: 'MAK',
        orderId: 'order-1',
        subscriptionId: 'sub-1',
        lineItemNumber: 1,
        choices: {},
        productKey: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE',
        generatedAt: '2026-01-10T10:00:00.000Z',
      },
    };

    expect(publishedBy(generated, source)).toEqual([]);
    expect(INTEGRATION_SOURCE_EVENT_TYPES).not.toContain('KeyGenerated');
  });

  it('names every published type in the contract, and a different source event gives different ids', () => {
    const expired = (eventId: string) =>
      publishedBy(
        { type: 'SubscriptionExpired', data: { subscriptionId: 's', customerId: 't', orderId: 'o', expiredAt: '2026-01-01T00:00:00.000Z' } },
        { eventId, position: '1.1' },
      )[0]!.event.id;

    expect(expired('evt-a')).not.toBe(expired('evt-b'));
    expect(expired('evt-a')).toBe(expired('evt-a'));
    expect([...INTEGRATION_EVENT_TYPES].sort()).toEqual(
      [
        'ledger.entry_recorded',
        'order.placed',
        'perpetual.cancelled',
        'software.revoked',
        'subscription.autorenew_changed',
        'subscription.cancelled',
        'subscription.expired',
        'subscription.renewed',
        'subscription.started',
        'support_request.decided',
      ].sort(),
    );
  });
});
