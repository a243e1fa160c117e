import type { CustomerRegistered } from '@csp/domain/customer/customer.events';
import {
  INTEGRATION_SOURCE_EVENT_TYPES,
  integrationEventPlacesOf,
  LEDGER_ONLY_SOURCE_EVENT_TYPES,
  type IntegrationEvent,
  type IntegrationEventType,
} from '@csp/domain/integration-events/integration-event';
import type { RecordedEvent } from '@csp/event-store';
import type { Transaction } from 'kysely';
import type { ProjectionDefinition } from '../../projection/projection-definition';
import { reusableStatement } from '../../reusable-statement';
import { multiRowStatement } from '../multi-row-statement';
import { foldPartneredRows, type PartneredRowsFold, type PartnersByCustomer } from '../partnered-rows';
import { keptByRebuild, rebuildKeepingPartners, type RebuildPartners } from '../rebuild-partners';
import { eventDataOfStored } from './stored-event-data';

/** One public integration event, as the feed answers it and webhooks deliver it. */
export interface IntegrationEventsTable {
  id: string;
  /** The partner whose feed lists it: a partner never sees another partner's events. */
  partner_id: string;
  /** Empty since version 5, as `occurred_at` is: readers take both from the source event (`withSourceData`). */
  tenant: string;
  type: IntegrationEventType;
  occurred_at: string;
  /**
   * Version 1 kept the source event's position here as `<commit>.<prepare>`; version 2 leaves it
   * empty, and readers make it from the two columns below (`feedPositionOf`).
   */
  position: string;
  /** The position as integers (decimal strings on the way in), to order and cut in SQL. */
  position_commit: string | number;
  position_prepare: string | number;
  /** The event's place among the events of one source event (several may share a position). */
  sequence: number;
  /**
   * The event's `data`, as JSON: its fields' values alone in versions 2 and 3 (see `storedEventData`).
   * Version 4 leaves it empty: the event is made again from its source event in the log when read
   * (`withSourceData`), as the fold made it.
   */
  data: string;
}

/** Which partner each customer belongs to: most source events name the customer only. */
export interface IntegrationEventCustomersTable {
  customer_id: string;
  partner_id: string;
}

export interface IntegrationEventsSchema {
  integration_events: IntegrationEventsTable;
  integration_event_customers: IntegrationEventCustomersTable;
}

/** The source event's log position, `<commit>.<prepare>`, of a row of either version. */
export function feedPositionOf(row: Pick<IntegrationEventsTable, 'position_commit' | 'position_prepare'>): string {
  return `${row.position_commit}.${row.position_prepare}`;
}

/** A row read back as the public event. */
export function integrationEventOfRow(row: IntegrationEventsTable): IntegrationEvent {
  return {
    id: row.id,
    type: row.type,
    occurredAt: row.occurred_at,
    position: feedPositionOf(row),
    tenant: row.tenant,
    data: eventDataOfStored(row.type, row.data),
  } as IntegrationEvent;
}

/**
 * The integration-event feed: every public event `integrationEventsOf` derives, with its partner, in
 * log order, but the ledger entries' `ledger.entry_recorded`. The feed (`GET /v1/events`) and the
 * webhook dispatcher read these rows and the ledger's entries together (`integrationEventsAfter`),
 * so both show the same events with the same ids; a rebuild from zero gives the same rows.
 * Version 2 keeps each row's `data` without its field names and its position only as numbers: on a
 * 1M-event log the feed is 174 MiB smaller, and a rebuild of every projection a few percent faster.
 * Version 3 leaves out the ledger's events, which were the copy of each ledger entry (59 % of the
 * rows on the benchmark's log): see "Thirty-seventh round" in docs/benchmark-history.md.
 * Version 4 keeps no `data`: a row is the event's place in a partner's feed, and a reader makes the
 * event's data again from the source event at the row's position (`feedEventsOf`, the same mapping
 * the fold uses). A rebuild takes about a tenth less time: see "Forty-first round" in
 * docs/benchmark-history.md.
 * Version 5 keeps neither the event's tenant nor its instant, which readers take from the same
 * source event, and its fold derives only the events' places (`integrationEventPlacesOf`), not their
 * data: see "Forty-second round" in docs/benchmark-history.md.
 */
export const integrationEventsProjection: ProjectionDefinition<IntegrationEventsSchema> = {
  name: 'integration-events',
  version: 5,
  handles: ['CustomerRegistered', ...INTEGRATION_SOURCE_EVENT_TYPES.filter((type) => !LEDGER_ONLY_SOURCE_EVENT_TYPES.has(type))],
  tables: ['integration_events', 'integration_event_customers'],
  migrations: (table) => ({
    '0001_create_integration_events': {
      async up(db) {
        await db.schema
          .createTable(table('integration_event_customers'))
          .ifNotExists()
          .addColumn('customer_id', 'text', (column) => column.primaryKey())
          .addColumn('partner_id', 'text', (column) => column.notNull())
          .execute();
        await db.schema
          .createTable(table('integration_events'))
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('partner_id', 'text', (column) => column.notNull())
          .addColumn('tenant', 'text', (column) => column.notNull())
          .addColumn('type', 'text', (column) => column.notNull())
          .addColumn('occurred_at', 'text', (column) => column.notNull())
          .addColumn('position', 'text', (column) => column.notNull())
          .addColumn('position_commit', 'bigint', (column) => column.notNull())
          .addColumn('position_prepare', 'bigint', (column) => column.notNull())
          .addColumn('sequence', 'integer', (column) => column.notNull())
          .addColumn('data', 'text', (column) => column.notNull())
          .execute();
        await db.schema
          .createIndex(`${table('integration_events')}_partner_order`)
          .ifNotExists()
          .on(table('integration_events'))
          .columns(['partner_id', 'position_commit', 'position_prepare', 'sequence'])
          .execute();
      },
    },
  }),
  apply(trx, recorded) {
    return foldIntegrationEvents(trx, [recorded]);
  },
  applyBatch: (trx, events) => foldIntegrationEvents(trx, events),
  rebuildFold: rebuildKeepingPartners(foldIntegrationEvents, feedCustomers),
};

const insertIntegrationEvents = multiRowStatement<IntegrationEventsSchema, IntegrationEventsTable>(
  {
    id: true,
    partner_id: true,
    tenant: true,
    type: true,
    occurred_at: true,
    position: true,
    position_commit: true,
    position_prepare: true,
    sequence: true,
    data: true,
  },
  (trx, rows) => trx.insertInto('integration_events').values(rows).onConflict((conflict) => conflict.column('id').doNothing()),
);

const selectFeedCustomers = reusableStatement(
  (customerIds: readonly string[]) => customerIds,
  (trx: Transaction<IntegrationEventsSchema>, customerIds) =>
    trx.selectFrom('integration_event_customers').selectAll().where('customer_id', 'in', customerIds),
  (customerIds) => customerIds.length,
);

function foldIntegrationEvents(trx: Transaction<IntegrationEventsSchema>, events: readonly RecordedEvent[], rebuildPartners?: RebuildPartners): Promise<void> {
  const fold: PartneredRowsFold<IntegrationEventsTable> = {
    registrationOf: (recorded) => {
      if (recorded.type !== 'CustomerRegistered') return undefined;
      const { customerId, partnerId } = recorded.data as unknown as CustomerRegistered['data'];
      return { customerId, partnerId };
    },
    rowsOf: (recorded) => {
      const { commit, prepare } = recorded.position;
      // The places of the events `feedEventsOf` gives, which readers make again whole.
      return integrationEventPlacesOf(recorded, { eventId: recorded.id }).map(({ id, type, tenant, partnerId }, sequence) => ({
        customerId: tenant,
        ...(partnerId !== undefined ? { partnerId } : {}),
        // A customer the fold never saw registered belongs to no partner: nobody's feed lists it.
        complete: (partner) => ({
          id,
          partner_id: partner,
          tenant: '',
          type,
          occurred_at: '',
          position: '',
          position_commit: commit.toString(),
          position_prepare: prepare.toString(),
          sequence,
          data: '',
        }),
      }));
    },
    ...feedCustomers(trx),
    insertRows: (rows) => insertIntegrationEvents(trx, rows),
  };
  return foldPartneredRows(events, keptByRebuild(fold, rebuildPartners));
}

/** The partner of each customer, as the feed keeps it (`integration_event_customers`). */
function feedCustomers(
  trx: Transaction<IntegrationEventsSchema>,
): PartnersByCustomer {
  return {
    storedPartners: async (customerIds) => {
      const { rows } = await selectFeedCustomers(trx, customerIds);
      return new Map(rows.map((row) => [row.customer_id, row.partner_id]));
    },
    insertCustomers: async (customers) => {
      await trx
        .insertInto('integration_event_customers')
        .values(customers.map(({ customerId, partnerId }) => ({ customer_id: customerId, partner_id: partnerId })))
        .onConflict((conflict) => conflict.column('customer_id').doNothing())
        .execute();
    },
  };
}
