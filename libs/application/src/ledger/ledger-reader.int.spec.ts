import { SqliteEventStore, type EventStore, type RecordedEvent } from '@csp/event-store';
import { CommerceLog, writeStandardHistory } from '@csp/testing/fixtures/commerce-log.fixture';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { positionRecordedBy, replayLedger } from './ledger-reader';

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
