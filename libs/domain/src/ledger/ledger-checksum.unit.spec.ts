import { createHash } from 'node:crypto';
import { money } from '../shared/money';
import { canonicalLedgerLine, compareLedgerEntries, compareLogPositions, ledgerChecksum } from './ledger-checksum';
import type { LedgerEntry } from './ledger-entry';

const charge: LedgerEntry = {
  id: 'evt-2:0',
  kind: 'charge',
  customerId: '7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01',
  orderId: 'order-1',
  subscriptionId: 'sub-1',
  amount: money(30_424, 'EUR'),
  invoicePeriod: '2026-03',
  reason: 'installment 1 of term 1',
  position: '9.9',
  occurredAt: '2026-03-01T00:00:00.000Z',
};
const refund: LedgerEntry = {
  ...charge,
  id: 'evt-3:0',
  kind: 'refund',
  amount: money(-23_424, 'EUR'),
  invoicePeriod: '2026-04',
  reason: 'prorated refund: 7 of 365 days used',
  position: '10.10',
  occurredAt: '2026-03-07T23:59:59.000Z',
};
const supportCredit: LedgerEntry = {
  id: 'evt-17:0',
  kind: 'credit',
  customerId: '7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01',
  supportRequestId: 'req-1',
  amount: money(-2_500, 'EUR'),
  invoicePeriod: '2026-05',
  reason: 'support request approved in part',
  position: '100.100',
  occurredAt: '2026-04-30T12:00:00.000Z',
};

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

describe('canonicalLedgerLine', () => {
  it('renders the eleven fields in order, the signed amount in minor units', () => {
    expect(canonicalLedgerLine(charge)).toBe(
      'evt-2:0|charge|7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01|order-1|sub-1||30424|EUR|2026-03|9.9|2026-03-01T00:00:00.000Z',
    );
    expect(canonicalLedgerLine(refund)).toBe(
      'evt-3:0|refund|7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01|order-1|sub-1||-23424|EUR|2026-04|10.10|2026-03-07T23:59:59.000Z',
    );
  });

  it('leaves absent ids empty', () => {
    expect(canonicalLedgerLine(supportCredit)).toBe(
      'evt-17:0|credit|7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01|||req-1|-2500|EUR|2026-05|100.100|2026-04-30T12:00:00.000Z',
    );
  });

  it('renders a zero amount as 0', () => {
    expect(canonicalLedgerLine({ ...charge, amount: money(0, 'EUR') })).toContain('||0|EUR|');
  });

  it('percent-encodes %, |, line feed and carriage return so no field can forge a separator', () => {
    const line = canonicalLedgerLine({ ...supportCredit, customerId: 'a|b%c\nd\re' });
    expect(line).toBe('evt-17:0|credit|a%7Cb%25c%0Ad%0De|||req-1|-2500|EUR|2026-05|100.100|2026-04-30T12:00:00.000Z');
    expect(line.split('|')).toHaveLength(11);
  });

  it('leaves the reason out', () => {
    expect(canonicalLedgerLine({ ...charge, reason: 'reworded' })).toBe(canonicalLedgerLine(charge));
  });
});

describe('ledgerChecksum', () => {
  const expectedRendering =
    'evt-2:0|charge|7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01|order-1|sub-1||30424|EUR|2026-03|9.9|2026-03-01T00:00:00.000Z\n' +
    'evt-3:0|refund|7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01|order-1|sub-1||-23424|EUR|2026-04|10.10|2026-03-07T23:59:59.000Z\n' +
    'evt-17:0|credit|7f6c3a52-1b7e-4d0e-9a3c-2f1e5d9b8a01|||req-1|-2500|EUR|2026-05|100.100|2026-04-30T12:00:00.000Z\n';

  it('is the SHA-256 hex of the lines in numeric position order, each ending in a line feed', () => {
    // As strings, '10.10' < '100.100' < '9.9'; as positions 9.9 comes first.
    expect(ledgerChecksum([supportCredit, refund, charge])).toBe(sha256(expectedRendering));
  });

  it('does not depend on the order the entries come in', () => {
    const checksum = ledgerChecksum([charge, refund, supportCredit]);
    expect(ledgerChecksum([refund, supportCredit, charge])).toBe(checksum);
    expect(ledgerChecksum([supportCredit, charge, refund])).toBe(checksum);
  });

  it('orders entries of one position by id', () => {
    const first = { ...charge, id: 'evt-2:0' };
    const second = { ...charge, id: 'evt-2:1', amount: money(1, 'EUR') };
    const rendering = `${canonicalLedgerLine(first)}\n${canonicalLedgerLine(second)}\n`;
    expect(ledgerChecksum([second, first])).toBe(sha256(rendering));
  });

  it('orders the entries of one event by their index as a number: the eleventh void after the second', () => {
    const entries = Array.from({ length: 12 }, (_, index) => ({ ...charge, id: `evt-2:${index}`, amount: money(index, 'EUR') }));
    const rendering = entries.map((entry) => `${canonicalLedgerLine(entry)}\n`).join('');
    expect(ledgerChecksum([...entries].reverse())).toBe(sha256(rendering));
    expect([...entries].reverse().sort(compareLedgerEntries).map((entry) => entry.id)).toEqual(entries.map((entry) => entry.id));
  });

  it('orders ids of one position by what precedes the index as strings, an id without an index first', () => {
    const ids = ['b:2', 'a:1x', 'a:10', 'a:x', 'a', 'a:2'];
    const sorted = ids.map((id) => ({ ...charge, id })).sort(compareLedgerEntries).map((entry) => entry.id);
    expect(sorted).toEqual(['a', 'a:2', 'a:10', 'a:1x', 'a:x', 'b:2']);
  });

  it('changes when any rendered field changes', () => {
    const checksum = ledgerChecksum([charge, refund]);
    expect(ledgerChecksum([charge, { ...refund, amount: money(-23_425, 'EUR') }])).not.toBe(checksum);
    expect(ledgerChecksum([charge, { ...refund, invoicePeriod: '2026-05' }])).not.toBe(checksum);
    expect(ledgerChecksum([charge])).not.toBe(checksum);
  });

  it('of no entries is the SHA-256 of the empty string', () => {
    expect(ledgerChecksum([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('refuses a malformed position', () => {
    expect(() => ledgerChecksum([charge, { ...refund, position: '10' }])).toThrow(RangeError);
  });
});

describe('compareLogPositions', () => {
  it.each([
    ['9.9', '10.10', -1],
    ['10.10', '9.9', 1],
    ['10.9', '10.10', -1],
    ['7.7', '7.7', 0],
    // Beyond 2^53: compared exactly as big integers.
    ['18446744073709551614.1', '18446744073709551615.0', -1],
    ['9007199254740993.0', '9007199254740992.0', 1],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(Math.sign(compareLogPositions(a, b))).toBe(expected);
  });
});
