import { comparePositions, positionToString, type LogPosition, type RecordedEvent } from '@csp/event-store';
import { integrationEventsOf } from '@csp/domain/integration-events/integration-event';
import { AZURE_MONTHLY, CommerceLog, OFFICE, WS_ANNUAL, projectEvents } from '@csp/testing/fixtures/commerce-log.fixture';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { GenerationTablesPlugin } from '../../projection/generation-tables.plugin';
import { checkpointName, type AnyProjection } from '../../projection/projection-definition';
import { ProjectionGenerations } from '../../projection/projection-generations';
import type { ReadModelDb } from '../../schema';
import { ledgerProjection } from '../ledger/ledger.projection';
import { integrationEventOfRow, integrationEventsProjection } from './integration-events.projection';
import { cursorAfterPosition, cursorAtRow, FEED_START, FeedSourceMissingError, integrationEventById, integrationEventsAfter } from './integration-events.queries';

describe.each(readModelDialects)('integration-events projection on $name', (dialect) => {
  let opened: OpenedReadModels;
  let db: ReadModelDb;
  let log: CommerceLog;
  let closeLog: () => Promise<void>;

  beforeEach(async () => {
    opened = await dialect.open();
    db = opened.db;
    ({ log, cleanup: closeLog } = await CommerceLog.open());
  });

  afterEach(async () => {
    await closeLog();
    await opened.cleanup();
  });

  /** Two partners' customers buying, renewing, cancelling and expiring, interleaved in the log. */
  function twoPartnerHistory(): Promise<{ events: RecordedEvent[]; subscriptionId: string }> {
    return twoPartnerHistoryIn(log);
  }

  it('lists a partner its own public events only, in log order, each with an id derived from its source event', async () => {
    const { events } = await twoPartnerHistory();
    await projectFeed(db, events);

    const ours = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 });

    const expectedTypes = events
      .filter((event) => (event.data as { customerId?: string }).customerId !== undefined)
      .filter((event) => ourCustomer(events, event))
      .flatMap((event) => expectedPublicTypes(event).map((type) => ({ source: event, type })));
    expect(ours.map((row) => [row.type, row.position])).toEqual(expectedTypes.map(({ source, type }) => [type, positionToString(source.position)]));
    expect(ours.map((row) => row.id.split(':')[0])).toEqual(expectedTypes.map(({ source }) => source.id));
    expect(ours.map((row) => row.type)).toEqual(
      expect.arrayContaining(['order.placed', 'subscription.started', 'subscription.renewed', 'subscription.autorenew_changed', 'subscription.expired', 'perpetual.cancelled', 'software.revoked', 'ledger.entry_recorded']),
    );
    const theirs = await integrationEventsAfter(db, log.store, { partnerId: 'partner-b', after: FEED_START, limit: 1000 });
    expect(theirs.map((row) => row.type)).toContain('subscription.cancelled');
    expect(new Set([...ours, ...theirs].map((row) => row.id)).size).toBe(ours.length + theirs.length);
    expect(ours.some((row) => row.type === 'subscription.cancelled')).toBe(false);
  });

  it('resumes after any event (also between two events of one source) and filters by type', async () => {
    const { events } = await twoPartnerHistory();
    await projectFeed(db, events);
    const all = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 });
    const cancellation = all.findIndex((row) => row.type === 'perpetual.cancelled');

    const rest = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: cursorAtRow(all[cancellation]!), limit: 1000 });
    const afterWholeSource = await integrationEventsAfter(db, log.store, {
      partnerId: 'partner-a',
      after: cursorAfterPosition({ commit: BigInt(all[cancellation]!.position_commit), prepare: BigInt(all[cancellation]!.position_prepare) }),
      limit: 1000,
    });
    const renewals = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, types: ['subscription.renewed'], limit: 1000 });

    expect(rest.map((row) => row.id)).toEqual(all.slice(cancellation + 1).map((row) => row.id));
    expect(rest.slice(0, 2).map((row) => row.type)).toEqual(['software.revoked', 'ledger.entry_recorded']);
    expect(afterWholeSource.map((row) => row.id)).toEqual(all.filter((row) => comparePositionText(row.position, all[cancellation]!.position) > 0).map((row) => row.id));
    expect(renewals.map((row) => row.type)).toEqual(['subscription.renewed']);
  });

  it('stores no event`s data, tenant or instant and answers every event as the mapping makes it from its source event in the log, to the byte', async () => {
    const { events } = await twoPartnerHistory();
    await projectFeed(db, events);
    const mapped = new Map(
      events.flatMap((source) =>
        integrationEventsOf({ type: source.type, data: source.data }, { eventId: source.id, position: positionToString(source.position) }).map(({ event }) => [event.id, event]),
      ),
    );

    const stored = await db.selectFrom('integration_events').selectAll().execute();
    const answered = [
      ...(await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 })),
      ...(await integrationEventsAfter(db, log.store, { partnerId: 'partner-b', after: FEED_START, limit: 1000 })),
    ];

    expect(new Set(stored.map((row) => row.type)).size).toBe(8);
    expect(stored.filter((row) => row.type === 'ledger.entry_recorded')).toEqual([]);
    expect(stored.filter((row) => row.data !== '' || row.tenant !== '' || row.occurred_at !== '').map((row) => row.type)).toEqual([]);
    expect(answered.map((row) => row.id).sort()).toEqual([...mapped.keys()].sort());
    expect(answered.filter((row) => row.type === 'ledger.entry_recorded').length).toBeGreaterThan(0);
    for (const row of answered) expect(JSON.stringify(integrationEventOfRow(row))).toBe(JSON.stringify(mapped.get(row.id)));
  });

  it('answers the rows version 4 stored (their tenant and instant kept, their data left out) as it answers version 5`s', async () => {
    const { events } = await twoPartnerHistory();
    await projectFeed(db, events);
    const answeredFromVersion5 = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 });
    const generation = (await new ProjectionGenerations(db).active(integrationEventsProjection.name))!.generation;
    const generationDb = db.withPlugin(new GenerationTablesPlugin(integrationEventsProjection.tables, generation));
    for (const row of answeredFromVersion5.filter((answered) => answered.type !== 'ledger.entry_recorded')) {
      await generationDb.updateTable('integration_events').set({ tenant: row.tenant, occurred_at: row.occurred_at }).where('id', '=', row.id).execute();
    }

    const stored = await generationDb.selectFrom('integration_events').selectAll().where('partner_id', '=', 'partner-a').execute();
    expect(stored.filter((row) => row.tenant === '' || row.occurred_at === '' || row.data !== '')).toEqual([]);
    expect(await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 })).toEqual(answeredFromVersion5);
  });

  it('answers the ledger`s events from its entries in the order the mapping gives, by id too, and only as far as both projections have folded', async () => {
    const { events } = await twoPartnerHistory();
    const half = events.findIndex((event) => event.type === 'FutureInstallmentsVoided' || event.type === 'SubscriptionCancelled');
    expect(half).toBeGreaterThan(0);
    await projectFeed(db, events.slice(0, half));
    const mappedInOrder = (upTo: number) =>
      events
        .slice(0, upTo)
        .filter((event) => ourCustomer(events, event))
        .flatMap((source) => integrationEventsOf({ type: source.type, data: source.data }, { eventId: source.id, position: positionToString(source.position) }))
        .map(({ event }) => event.id);
    const before = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 });
    expect(before.map((row) => row.id)).toEqual(mappedInOrder(half));

    // The feed folds the rest, the ledger not yet: the feed lists nothing past where the ledger stands.
    await projectEvents(db, events.slice(half), [integrationEventsProjection]);
    await moveCheckpoints(db, [integrationEventsProjection], events.at(-1)!.position);
    expect((await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 })).map((row) => row.id)).toEqual(mappedInOrder(half));

    await projectEvents(db, events.slice(half), [ledgerProjection]);
    await moveCheckpoints(db, [ledgerProjection], events.at(-1)!.position);
    const all = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 });
    expect(all.map((row) => row.id)).toEqual(mappedInOrder(events.length));
    const oneByOne = [];
    for (let cursor = FEED_START, [next] = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: cursor, limit: 1 }); next; ) {
      oneByOne.push(next.id);
      cursor = cursorAtRow(next);
      [next] = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: cursor, limit: 1 });
    }
    expect(oneByOne).toEqual(all.map((row) => row.id));
    const ledgerEvent = all.find((row) => row.type === 'ledger.entry_recorded')!;
    expect(await integrationEventById(db, log.store, 'partner-a', ledgerEvent.id)).toEqual(ledgerEvent);
    expect(await integrationEventById(db, log.store, 'partner-b', ledgerEvent.id)).toBeUndefined();

    // A generation built by version 2 also stored the ledger's events: each is still answered once.
    const generation = (await new ProjectionGenerations(db).active(integrationEventsProjection.name))!.generation;
    await db
      .withPlugin(new GenerationTablesPlugin(integrationEventsProjection.tables, generation))
      .insertInto('integration_events')
      .values({ ...ledgerEvent, position: '' })
      .execute();
    expect((await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 })).map((row) => row.id)).toEqual(all.map((row) => row.id));
  });

  it('answers each of a cancellation`s voided installments, which the ledger keeps in one row, in pages of any size and by id', async () => {
    const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', partnerId: 'partner-a' });
    const order = await log.placeOrder(customer.customerId, [AZURE_MONTHLY], '2025-02-01T12:00:00.000Z');
    await log.startSubscriptions(order);
    await log.cancelSubscription(order.subscriptionIds[1]!, '2025-02-03T10:00:00.000Z');
    const events = await log.allEvents();
    await projectFeed(db, events);
    const mapped = events.flatMap((source) =>
      integrationEventsOf({ type: source.type, data: source.data }, { eventId: source.id, position: positionToString(source.position) }).map(({ event }) => event),
    );
    const voids = mapped.filter((event) => event.type === 'ledger.entry_recorded' && event.data.kind === 'void');
    expect(voids.length).toBeGreaterThan(2);
    expect((await db.selectFrom('ledger_entries').select('id').where('kind', '=', 'void').execute()).length).toBe(1);

    const all = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 });
    expect(all.map((row) => JSON.stringify(integrationEventOfRow(row)))).toEqual(mapped.map((event) => JSON.stringify(event)));
    for (const pageSize of [1, 2, 3, 5]) {
      const paged = [];
      for (let cursor = FEED_START, page = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: cursor, limit: pageSize }); page.length > 0; ) {
        expect(page.length).toBeLessThanOrEqual(pageSize);
        paged.push(...page.map((row) => row.id));
        cursor = cursorAtRow(page.at(-1)!);
        page = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: cursor, limit: pageSize });
      }
      expect(paged).toEqual(all.map((row) => row.id));
    }
    for (const event of voids) expect((await integrationEventById(db, log.store, 'partner-a', event.id))?.id).toBe(event.id);
    expect(await integrationEventById(db, log.store, 'partner-a', voids.at(-1)!.id)).toEqual(all.find((row) => row.id === voids.at(-1)!.id));
    expect(await integrationEventById(db, log.store, 'partner-a', voids[0]!.id.replace(/:0$/, `:${voids.length}`))).toBeUndefined();
  });

  it('answers a row version 1 stored (its data whole, its position as text) as it answered it then', async () => {
    const { events } = await twoPartnerHistory();
    const customer = events.find((event) => event.type === 'CustomerRegistered' && event.data['partnerId'] === 'partner-a')!;
    await projectFeed(db, [customer]);
    const data = { subscriptionId: 'sub-1', orderId: 'order-1', customerId: customer.data['customerId'], expiredAt: '2026-02-02T00:00:00.000Z' };
    const generation = (await new ProjectionGenerations(db).active(integrationEventsProjection.name))!.generation;
    await db
      .withPlugin(new GenerationTablesPlugin(integrationEventsProjection.tables, generation))
      .insertInto('integration_events')
      .values({
        id: 'evt-v1:subscription.expired:0',
        partner_id: 'partner-a',
        tenant: String(customer.data['customerId']),
        type: 'subscription.expired',
        occurred_at: '2026-02-02T00:00:00.000Z',
        position: '9000.9000',
        position_commit: '9000',
        position_prepare: '9000',
        sequence: 0,
        data: JSON.stringify(data),
      })
      .execute();
    await moveCheckpoints(db, [ledgerProjection, integrationEventsProjection], { commit: 9000n, prepare: 9000n });

    const [row] = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 10 });

    expect(row!.position).toBe('9000.9000');
    expect(integrationEventOfRow(row!)).toEqual({
      id: 'evt-v1:subscription.expired:0',
      type: 'subscription.expired',
      occurredAt: '2026-02-02T00:00:00.000Z',
      position: '9000.9000',
      tenant: customer.data['customerId'],
      data,
    });
  });

  it('gives the same rows when rebuilt from zero, and never publishes key text', async () => {
    const { events } = await twoPartnerHistory();
    await projectFeed(db, events);
    const first = await db.selectFrom('integration_events').selectAll().orderBy('id').execute();
    const answered = await integrationEventsAfter(db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 });

    const again = await dialect.open();
    try {
      await projectFeed(again.db, events);
      const rebuilt = await again.db.selectFrom('integration_events').selectAll().orderBy('id').execute();
      expect(rebuilt).toEqual(first);
      expect(await integrationEventsAfter(again.db, log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 })).toEqual(answered);
    } finally {
      await again.cleanup();
    }
    expect(first.length).toBeGreaterThan(10);
    expect(answered.map((row) => row.data).join('').length).toBeGreaterThan(1000);
    expect(JSON.stringify(answered)).not.toMatch(/productKey|[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}/);
  });

  it('refuses to answer rows whose source events another log holds, or holds as other events', async () => {
    const { events } = await twoPartnerHistory();
    await projectFeed(db, events);
    const stored = await db.selectFrom('integration_events').select('id').where('partner_id', '=', 'partner-a').execute();
    const other = await CommerceLog.open();
    try {
      const empty = integrationEventsAfter(db, other.log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 });
      await expect(empty).rejects.toThrow(FeedSourceMissingError);
      await expect(empty).rejects.toThrow(/is not in the log/);
      await twoPartnerHistoryIn(other.log);
      await expect(integrationEventsAfter(db, other.log.store, { partnerId: 'partner-a', after: FEED_START, limit: 1000 })).rejects.toThrow(
        /does not make the feed's event/,
      );
      await expect(integrationEventById(db, other.log.store, 'partner-a', stored[0]!.id)).rejects.toThrow(FeedSourceMissingError);
    } finally {
      await other.cleanup();
    }
    expect((await integrationEventById(db, log.store, 'partner-a', stored[0]!.id))?.data).not.toBe('');
  });
});

/** Two partners' customers buying, renewing, cancelling and expiring, interleaved in `log`. */
async function twoPartnerHistoryIn(log: CommerceLog): Promise<{ events: RecordedEvent[]; subscriptionId: string }> {
  const ours = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', partnerId: 'partner-a' });
  const theirs = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', partnerId: 'partner-b' });
  const order = await log.placeOrder(ours.customerId, [WS_ANNUAL, OFFICE], '2025-02-01T12:00:00.000Z');
  const foreign = await log.placeOrder(theirs.customerId, [WS_ANNUAL], '2025-02-01T12:30:00.000Z');
  await log.startSubscriptions(order);
  await log.startSubscriptions(foreign);
  const subscriptionId = order.subscriptionIds[1]!;
  await log.cancelPerpetualLines(order.orderId, '2025-02-05T10:00:00.000Z');
  await log.advanceLifecycle(subscriptionId, '2026-02-02T00:00:00.000Z');
  await log.changeAutoRenew(subscriptionId, false, '2026-03-01T00:00:00.000Z');
  await log.advanceLifecycle(subscriptionId, '2027-02-02T00:00:00.000Z');
  await log.cancelSubscription(foreign.subscriptionIds[1]!, '2025-02-03T10:00:00.000Z');
  return { events: await log.allEvents(), subscriptionId };
}

/** The feed reads its own rows and the ledger's entries, as far as both projections' checkpoints: both fold `events`. */
async function projectFeed(db: ReadModelDb, events: readonly RecordedEvent[]): Promise<void> {
  const projections = [ledgerProjection, integrationEventsProjection];
  await projectEvents(db, events, projections);
  await moveCheckpoints(db, projections, events.at(-1)!.position);
}

async function moveCheckpoints(db: ReadModelDb, projections: readonly AnyProjection[], to: LogPosition): Promise<void> {
  const generations = new ProjectionGenerations(db);
  for (const projection of projections) {
    const name = checkpointName((await generations.active(projection.name))!);
    const position = positionToString(to);
    const updatedAt = new Date().toISOString();
    await db.deleteFrom('projection_checkpoints').where('name', '=', name).execute();
    await db.insertInto('projection_checkpoints').values({ name, position, updated_at: updatedAt }).execute();
  }
}

function comparePositionText(a: string, b: string): number {
  const parse = (text: string) => {
    const [commit, prepare] = text.split('.') as [string, string];
    return { commit: BigInt(commit), prepare: BigInt(prepare) };
  };
  return comparePositions(parse(a), parse(b));
}

/** Whether an event concerns partner-a's customer (the one registered first). */
function ourCustomer(events: RecordedEvent[], event: RecordedEvent): boolean {
  const ours = events.find((candidate) => candidate.type === 'CustomerRegistered' && candidate.data['partnerId'] === 'partner-a')!;
  return event.data['customerId'] === ours.data['customerId'];
}

/** The public types each source type yields, written out from the contract in README "Integration events". */
function expectedPublicTypes(event: RecordedEvent): string[] {
  switch (event.type) {
    case 'OrderPlaced':
      return ['order.placed'];
    case 'SubscriptionStarted':
      return ['subscription.started'];
    case 'SubscriptionRenewed':
      return ['subscription.renewed'];
    case 'SubscriptionExpired':
      return ['subscription.expired'];
    case 'AutoRenewChanged':
      return ['subscription.autorenew_changed'];
    case 'SubscriptionCancelled':
      return (event.data['refund'] as { amount: number }).amount > 0
        ? ['subscription.cancelled', 'software.revoked', 'ledger.entry_recorded']
        : ['subscription.cancelled', 'software.revoked'];
    case 'PerpetualLineCancelled':
      return ['perpetual.cancelled', 'software.revoked', 'ledger.entry_recorded'];
    case 'InstallmentBilled':
    case 'InstallmentVoided':
      return ['ledger.entry_recorded'];
    case 'FutureInstallmentsVoided':
      return (event.data['installments'] as unknown[]).map(() => 'ledger.entry_recorded');
    default:
      return [];
  }
}
