import { Catalogue } from '@csp/domain/catalogue/catalogue';
import { customerDecider, type CustomerState } from '@csp/domain/customer/customer.decider';
import { customerStream } from '@csp/domain/customer/customer.events';
import { createOrderDecider, type RequestedLine } from '@csp/domain/order/order.decider';
import { orderStream, type OrderPlaced } from '@csp/domain/order/order.events';
import type { Decider } from '@csp/domain/shared/decider';
import type { DomainEvent } from '@csp/domain/shared/event';
import type { Money } from '@csp/domain/shared/money';
import { subscriptionDecider } from '@csp/domain/subscription/subscription.decider';
import { subscriptionStream } from '@csp/domain/subscription/subscription.events';
import {
  NO_STREAM,
  SqliteEventStore,
  type EventStore,
  type JsonObject,
  type LogPosition,
  type RecordedEvent,
} from '@csp/event-store';
import { fixtureSkus } from '@csp/testing/fixtures/catalogue.fixture';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import type { ReadModelDb } from '../database';
import { ProjectionRunner } from '../projection-runner';
import { projectReadModels } from '../projections/read-model.projection';
import type { CustomersTable, OrdersTable, ProjectionCheckpointsTable, SubscriptionsTable } from '../schema';

/** What one command appended, as the log recorded it. */
export interface Appended {
  events: RecordedEvent[];
  /** Position of the last appended event. */
  position: LogPosition;
}

export interface PlacedOrder extends Appended {
  orderId: string;
  order: OrderPlaced['data'];
  /** Subscription id per line item number, for the subscription lines. */
  subscriptionIds: Record<number, string>;
}

/**
 * Writes realistic history into a real event log the way the command handlers do: load the
 * stream, fold it with the decider's `evolve`, `decide`, append with the expected revision.
 * Every event therefore comes from the domain's own rules, not from hand-written payloads.
 *
 * @example
 *   const { log, cleanup } = await CommerceLog.open();
 *   const customer = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z' });
 *   const order = await log.placeOrder(customer.customerId, [{ skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'monthly' }], at);
 */
export class CommerceLog {
  private readonly orderDecider = createOrderDecider(new Catalogue(fixtureSkus));

  constructor(readonly store: EventStore) {}

  /** A fresh SQLite event log in a temporary directory. */
  static async open(): Promise<{ log: CommerceLog; cleanup: () => Promise<void> }> {
    const dir = await mkdtemp(join(tmpdir(), 'csp-commerce-log-'));
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    return {
      log: new CommerceLog(store),
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  async registerCustomer(input: {
    at: string;
    customerId?: string;
    partnerId?: string;
    companyName?: string;
    domain?: string;
    country?: string;
  }): Promise<Appended & { customerId: string; partnerId: string }> {
    const customerId = input.customerId ?? uuid();
    const partnerId = input.partnerId ?? 'partner-1';
    const appended = await this.execute(customerStream(customerId), customerDecider, {
      type: 'RegisterCustomer',
      customerId,
      partnerId,
      companyName: input.companyName ?? `Company ${customerId.slice(0, 8)}`,
      domain: input.domain ?? `${customerId.slice(0, 8)}.Example.COM`,
      country: input.country ?? 'DE',
      at: input.at,
    });
    return { ...appended, customerId, partnerId };
  }

  async placeOrder(customerId: string, lineItems: RequestedLine[], purchasedAt: string): Promise<PlacedOrder> {
    const customer = await this.customer(customerId);
    const orderId = uuid();
    const subscriptionIds = lineItems.map(() => uuid());
    const appended = await this.execute(orderStream(orderId), this.orderDecider, {
      type: 'PlaceOrder',
      orderId,
      partnerId: customer.status === 'registered' ? customer.partnerId : 'unknown',
      customer,
      lineItems,
      subscriptionIds,
      purchasedAt,
      backfilled: false,
    });
    const order = appended.events[0]!.data as unknown as OrderPlaced['data'];
    const ids: Record<number, string> = {};
    for (const line of order.lineItems) if (line.subscriptionId) ids[line.lineItemNumber] = line.subscriptionId;
    return { ...appended, orderId, order, subscriptionIds: ids };
  }

  /** Fulfilment: starts the subscription of every subscription line (SubscriptionStarted + first InstallmentBilled each). */
  async startSubscriptions(placed: PlacedOrder): Promise<Appended> {
    const events: RecordedEvent[] = [];
    for (const line of placed.order.lineItems) {
      if (!line.subscriptionId) continue;
      const appended = await this.startSubscription(placed, line.lineItemNumber);
      events.push(...appended.events);
    }
    return { events, position: events.at(-1)!.position };
  }

  startSubscription(placed: PlacedOrder, lineItemNumber: number): Promise<Appended> {
    const subscriptionId = placed.subscriptionIds[lineItemNumber]!;
    return this.execute(subscriptionStream(subscriptionId), subscriptionDecider, {
      type: 'StartSubscription',
      order: placed.order,
      lineItemNumber,
    });
  }

  cancelPerpetualLines(orderId: string, at: string, lineItemNumbers?: number[]): Promise<Appended> {
    return this.execute(orderStream(orderId), this.orderDecider, {
      type: 'CancelPerpetualLines',
      at,
      ...(lineItemNumbers ? { lineItemNumbers } : {}),
    });
  }

  changeAutoRenew(subscriptionId: string, autoRenewEnabled: boolean, at: string): Promise<Appended> {
    return this.execute(subscriptionStream(subscriptionId), subscriptionDecider, { type: 'ChangeAutoRenew', autoRenewEnabled, at });
  }

  cancelSubscription(subscriptionId: string, at: string): Promise<Appended> {
    return this.execute(subscriptionStream(subscriptionId), subscriptionDecider, { type: 'CancelSubscription', at });
  }

  advanceLifecycle(subscriptionId: string, now: string, renewalTermPrice?: Money): Promise<Appended> {
    return this.execute(subscriptionStream(subscriptionId), subscriptionDecider, {
      type: 'AdvanceLifecycle',
      now,
      ...(renewalTermPrice ? { renewalTermPrice } : {}),
    });
  }

  /** The domain's own fold of a stream: what the projected `state` column must hold. */
  async fold<State>(streamName: string, decider: Pick<Decider<never, DomainEvent, State>, 'evolve' | 'initialState'>): Promise<State> {
    const recorded = await this.store.readStream(streamName);
    return recorded.reduce((state, event) => decider.evolve(state, toDomainEvent(event)), decider.initialState());
  }

  async allEvents(): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of this.store.readAll()) events.push(event);
    return events;
  }

  private customer(customerId: string): Promise<CustomerState> {
    return this.fold(customerStream(customerId), customerDecider as unknown as Decider<never, DomainEvent, CustomerState>);
  }

  private async execute<Command, Event extends DomainEvent, State>(
    streamName: string,
    decider: Decider<Command, Event, State>,
    command: Command,
  ): Promise<Appended> {
    const recorded = await this.store.readStream(streamName);
    const state = recorded.reduce((current, event) => decider.evolve(current, toDomainEvent(event) as Event), decider.initialState());
    const events = decider.decide(command, state);
    if (events.length === 0) throw new Error(`${streamName}: the command appended nothing`);
    const lastRevision = recorded.at(-1)?.revision;
    await this.store.appendToStream(
      streamName,
      events.map((event) => ({
        id: uuid(),
        type: event.type,
        data: event.data as unknown as JsonObject,
        metadata: { correlationId: uuid(), commandType: (command as { type: string }).type },
      })),
      { expectedRevision: lastRevision ?? NO_STREAM },
    );
    const appended = (await this.store.readStream(streamName)).slice(recorded.length);
    return { events: appended, position: appended.at(-1)!.position };
  }
}

function toDomainEvent(event: RecordedEvent): DomainEvent {
  return { type: event.type, data: event.data };
}

/** Subscription lines of the standard history: one per product kind and billing plan. */
export const WS_MONTHLY: RequestedLine = { skuId: 'WS2022DC-P1Y', quantity: 2, billingCycle: 'monthly', friendlyName: 'Main DC' };
export const OFFICE: RequestedLine = { skuId: 'OFFICE-LTSC-2021', quantity: 3, billingCycle: 'oneTime' };
export const RHEL_ANNUAL: RequestedLine = { skuId: 'RHEL-P1Y', quantity: 1, billingCycle: 'annual' };
export const AZURE_MONTHLY: RequestedLine = { skuId: 'AZRES-VM-P1Y', quantity: 1, billingCycle: 'monthly' };
export const WS_ANNUAL: RequestedLine = { skuId: 'WS2022DC-P1Y', quantity: 1, billingCycle: 'annual' };
export const SQL_TRIENNIAL: RequestedLine = { skuId: 'SQL2022STD-P3Y', quantity: 1, billingCycle: 'triennial' };

/**
 * A history that produces every event type the read models fold (some many times), across
 * several customers and streams, interleaved in the global log:
 * legacy expiry, autorenew off then expiry, cancellation with voided installments, perpetual
 * cancellation, monthly billing, a renewal at a new price, and an order still owed fulfilment.
 */
export async function writeStandardHistory(log: CommerceLog): Promise<void> {
  const legacy = await log.registerCustomer({ at: '2020-05-01T08:00:00.000Z', companyName: 'Altbestand GmbH' });
  const legacyOrder = await log.placeOrder(legacy.customerId, [WS_ANNUAL], '2020-06-01T10:00:00.000Z');
  await log.startSubscriptions(legacyOrder);

  const current = await log.registerCustomer({ at: '2025-01-10T09:00:00.000Z', companyName: 'Neukunde AG' });
  const order = await log.placeOrder(current.customerId, [WS_MONTHLY, OFFICE, RHEL_ANNUAL, AZURE_MONTHLY], '2025-02-01T12:00:00.000Z');
  await log.startSubscriptions(order);
  const [ws, rhel, azure] = [order.subscriptionIds[1]!, order.subscriptionIds[3]!, order.subscriptionIds[4]!];

  await log.advanceLifecycle(legacyOrder.subscriptionIds[1]!, '2021-07-01T00:00:00.000Z');
  await log.cancelPerpetualLines(order.orderId, '2025-02-05T10:00:00.000Z');
  await log.cancelSubscription(azure, '2025-02-03T10:00:00.000Z');
  await log.changeAutoRenew(rhel, false, '2025-03-01T10:00:00.000Z');
  await log.advanceLifecycle(ws, '2025-05-15T00:00:00.000Z');

  const third = await log.registerCustomer({ at: '2025-03-01T09:00:00.000Z', country: 'DE' });
  await log.placeOrder(third.customerId, [SQL_TRIENNIAL], '2025-03-02T09:00:00.000Z');

  await log.advanceLifecycle(rhel, '2026-02-15T00:00:00.000Z');
  await log.advanceLifecycle(ws, '2026-03-15T00:00:00.000Z', { amount: 800_000, currency: 'EUR' });
}

/** Folds `events` into the read models in one transaction, with the projection under test. */
export async function projectEvents(db: ReadModelDb, events: readonly RecordedEvent[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const event of events) await projectReadModels(trx, event);
  });
}

/** Runs a fresh projection runner until it has caught up with the log, then stops it. */
export async function projectLog(store: EventStore, db: ReadModelDb, name = 'read-models', batchSize?: number): Promise<void> {
  const runner = new ProjectionRunner(store, db, { name, project: projectReadModels, ...(batchSize ? { batchSize } : {}) });
  await runner.start();
  await runner.stop();
}

export interface ReadModelDump {
  customers: CustomersTable[];
  orders: OrdersTable[];
  subscriptions: SubscriptionsTable[];
  /** Without `updated_at`, which is the wall clock of the write. */
  checkpoints: Omit<ProjectionCheckpointsTable, 'updated_at'>[];
}

/** Every read-model row, sorted by id in JS (not by the database's collation), with every column. */
export async function dumpReadModels(db: ReadModelDb): Promise<ReadModelDump> {
  const byId = <Row extends { id: string }>(rows: Row[]): Row[] => [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const checkpoints = await db.selectFrom('projection_checkpoints').select(['name', 'position']).execute();
  return {
    customers: byId(await db.selectFrom('customers').selectAll().execute()),
    orders: byId(await db.selectFrom('orders').selectAll().execute()),
    subscriptions: byId(await db.selectFrom('subscriptions').selectAll().execute()),
    checkpoints: checkpoints.sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
}
