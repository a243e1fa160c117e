import { SqliteEventStore, type EventStore, type RecordedEvent } from '@csp/event-store';
import { ledgerProjection, type PartneredLedgerEntry } from '@csp/read-models';
import { CommerceLog, projectEvents, writeStandardHistory } from '@csp/testing/fixtures/commerce-log.fixture';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerReader, positionRecordedBy, replayLedger, type LedgerFilter } from './ledger-reader';

describe('the ledger as of a moment, replayed from the log a page at a time', () => {
  let dir: string;
  let writer: SqliteEventStore;
  let pagedAhead: SqliteEventStore;
  /** The same log read one event at a time: a store without pages. */
  let eventByEvent: EventStore;
  let history: RecordedEvent[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csp-ledger-reader-'));
    const file = join(dir, 'events.sqlite');
    writer = SqliteEventStore.open(file);
    await writeStandardHistory(new CommerceLog(writer));
    history = await new CommerceLog(writer).allEvents();
    // Pages of three, read ahead in a thread: every cut below falls inside or at the end of a page.
    pagedAhead = SqliteEventStore.open(file, { readPageSize: 3, readAheadPastEvents: 1 });
    eventByEvent = Object.assign(Object.create(writer) as EventStore, { readAllPages: undefined, readAll: writer.readAll.bind(writer) });
  });

  afterAll(async () => {
    await pagedAhead.close();
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the entries of every cut of the log that a read event by event gives', async () => {
    const replayed = await replayLedger(pagedAhead, history.at(-1)!.position);
    expect(replayed.entries.length).toBeGreaterThan(0);
    expect(replayed.position).toEqual(history.at(-1)!.position);
    for (const event of history) {
      expect(await replayLedger(pagedAhead, event.position)).toEqual(await replayLedger(eventByEvent, event.position));
    }
  });

  it('cuts an instant where a read event by event cuts it', async () => {
    const instants = ['2000-01-01T00:00:00.000Z', ...history.map((event) => event.recordedAt), '2999-01-01T00:00:00.000Z'];
    for (const instant of instants) {
      expect(await positionRecordedBy(pagedAhead, instant)).toEqual(await positionRecordedBy(eventByEvent, instant));
    }
    expect(await positionRecordedBy(pagedAhead, '2000-01-01T00:00:00.000Z')).toBeUndefined();
    expect(await positionRecordedBy(pagedAhead, '2999-01-01T00:00:00.000Z')).toEqual(history.at(-1)!.position);
  });
});

describe.each(readModelDialects)('the live ledger of one customer, on $name', (dialect) => {
  let opened: OpenedReadModels;
  let log: CommerceLog;
  let closeLog: () => Promise<void>;
  let reader: LedgerReader;
  let everyEntry: PartneredLedgerEntry[];

  beforeAll(async () => {
    opened = await dialect.open();
    ({ log, cleanup: closeLog } = await CommerceLog.open());
    await writeStandardHistory(log);
    const events = await log.allEvents();
    // Events folded twice store their customer positions twice.
    await projectEvents(opened.db, [...events, ...events.slice(-6)], [ledgerProjection]);
    reader = new LedgerReader(log.store, opened.db);
    everyEntry = await reader.current({});
  });

  afterAll(async () => {
    await closeLog();
    await opened.cleanup();
  });

  const selected = (filter: LedgerFilter) =>
    everyEntry.filter(
      (entry) =>
        (filter.customerId === undefined || entry.customerId === filter.customerId) &&
        (filter.partnerId === undefined || entry.partnerId === filter.partnerId) &&
        (filter.invoicePeriod === undefined || entry.invoicePeriod === filter.invoicePeriod) &&
        (filter.kind === undefined || entry.kind === filter.kind),
    );

  it('gives each of its entries once, with every other filter applied, and nothing under another partner', async () => {
    const customers = [...new Set(everyEntry.map((entry) => entry.customerId))];
    expect(customers.length).toBeGreaterThan(1);
    for (const customerId of customers) {
      const { partnerId, invoicePeriod } = everyEntry.find((entry) => entry.customerId === customerId)!;
      const own = await reader.current({ customerId });
      expect(own.length).toBeGreaterThan(0);
      expect(own).toEqual(selected({ customerId }));
      for (const filter of [{ partnerId }, { invoicePeriod }, { kind: 'charge' as const }, { kind: 'void' as const }, { partnerId, invoicePeriod }]) {
        expect(await reader.current({ customerId, ...filter })).toEqual(selected({ customerId, ...filter }));
      }
      expect(await reader.current({ customerId, partnerId: 'another-partner' })).toEqual([]);
    }
    expect(everyEntry.some((entry) => entry.kind === 'void')).toBe(true);
    const positions = await opened.db.selectFrom('ledger_customer_positions').selectAll().execute();
    const distinct = new Set(positions.map((row) => `${row.customer_id}@${row.position_commit}`));
    expect(positions.length).toBeGreaterThan(distinct.size);
  });
});
