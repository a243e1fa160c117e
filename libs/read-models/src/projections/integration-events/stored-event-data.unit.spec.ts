import { integrationEventsOf } from '@csp/domain/integration-events/integration-event';
import type { SupportRequestApproved, SupportRequestRejected } from '@csp/domain/support-request/support-request.events';
import { eventDataOfStored, storedEventData } from './stored-event-data';

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const source = { eventId: 'evt-1', position: '42.42' };
const decidedBy = { userId: 'finance-1' };

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
    decidedBy,
    decidedAt: '2026-03-15T00:00:00.000Z',
  },
};
const rejected: SupportRequestRejected = {
  type: 'SupportRequestRejected',
  data: { requestId: 'req-2', customerId: 'tenant-1', partnerId: 'partner-1', reason: 'outside policy', decidedBy, decidedAt: '2026-03-16T00:00:00.000Z' },
};

describe('the stored form of an integration event`s data', () => {
  it('keeps a decision and its credit entry as their fields` values alone, and gives back the same JSON', () => {
    const events = [...integrationEventsOf(approved, source), ...integrationEventsOf(rejected, source)].map(({ event }) => event);
    expect(events.map((event) => event.type)).toEqual(['support_request.decided', 'ledger.entry_recorded', 'support_request.decided']);

    for (const event of events) {
      const stored = storedEventData(event.type, event.data);
      expect(stored.startsWith('[')).toBe(true);
      expect(stored).not.toContain('customerId');
      expect(JSON.stringify(eventDataOfStored(event.type, stored))).toBe(JSON.stringify(event.data));
    }
  });

  it('keeps data whose fields differ from its type`s list whole, so nothing is lost or renamed', () => {
    const entry = integrationEventsOf(approved, source)[1]!.event;
    const { reason: _reason, ...missing } = entry.data as unknown as Record<string, unknown>;
    const undefinedField = { ...(entry.data as unknown as Record<string, unknown>), reason: undefined };
    const extra = { ...(entry.data as unknown as Record<string, unknown>), note: 'x' };
    const reordered = { kind: 'credit', ...(entry.data as unknown as Record<string, unknown>) };
    const { kind: _kind, ...withoutKind } = entry.data as unknown as Record<string, unknown>;
    const moved = { ...withoutKind, kind: 'credit' };

    for (const data of [missing, undefinedField, extra, reordered, moved]) {
      const stored = storedEventData('ledger.entry_recorded', data as never);
      expect(stored.startsWith('{')).toBe(true);
      expect(JSON.stringify(eventDataOfStored('ledger.entry_recorded', stored))).toBe(JSON.stringify(data));
    }
  });

  it('reads data version 1 of the feed stored whole', () => {
    const decision = integrationEventsOf(rejected, source)[0]!.event;
    expect(eventDataOfStored(decision.type, JSON.stringify(decision.data))).toEqual(decision.data);
  });
});
