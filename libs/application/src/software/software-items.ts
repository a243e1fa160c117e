import { Catalogue } from '@csp/domain/catalogue/catalogue';
import type { DownloadOptions } from '@csp/domain/catalogue/sku';
import { evolveOrder, type OrderState, type PlacedOrderState } from '@csp/domain/order/order.decider';
import { orderStream, type OrderEvent, type OrderLine } from '@csp/domain/order/order.events';
import { DomainError } from '@csp/domain/shared/domain-error';
import { softwareIdOf, type SoftwareItem } from '@csp/domain/software/software.events';
import { subscriptionDecider, type ExistingSubscriptionState } from '@csp/domain/subscription/subscription.decider';
import { subscriptionStream } from '@csp/domain/subscription/subscription.events';
import type { EventStore, RecordedEvent } from '@csp/event-store';
import { subscriptionStateFromStored, type ReadModelDb } from '@csp/read-models';
import { Inject, Injectable } from '@nestjs/common';
import type { RegisteredCustomer } from '../access/customer-directory';
import { foldRecorded } from '../command-handling/command-runner';
import { EVENT_STORE, READ_MODEL_DB } from '../tokens';

/** One entry of `GET /v1/customers/{id}/software` (API.md "Software, keys and downloads"). */
export interface SoftwareItemView {
  id: string;
  kind: string;
  orderId: string;
  lineItemNumber: number;
  subscriptionId?: string;
  title: string;
  /** A subscription's status (active, cancelled, expired); a perpetual line's (active, cancelled). */
  status: string;
  keyAvailable: boolean;
  downloadOptions: DownloadOptions;
  installationInstructionsUrl?: string;
  purchasedAt: string;
}

const NO_OPTIONS: DownloadOptions = { versions: [], languages: [], fileTypes: [], operatingSystems: [] };

export function softwareNotFound(): DomainError {
  return new DomainError('SOFTWARE_NOT_FOUND', 'not_found', 'No such software item for this customer');
}

/** A perpetual line's software id: `<orderId>-<lineItemNumber>`. */
const PERPETUAL_ID = /^(.+)-(\d{1,6})$/;

/**
 * The software a customer bought: subscription lines whose subscription is listed (purchased on or
 * after 2021-10-14) and perpetual lines. Azure Reservations are capacity, not software: never listed.
 * Commands read the order and subscription streams, so a cancellation is seen at once; the list
 * reads the read models.
 */
@Injectable()
export class SoftwareItems {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    private readonly catalogue: Catalogue,
  ) {}

  /** The item as the log says now, or 404 SOFTWARE_NOT_FOUND when it is not this customer's software. */
  async forCommand(customer: Pick<RegisteredCustomer, 'customerId'>, softwareId: string): Promise<SoftwareItem> {
    const subscription = foldRecorded(subscriptionDecider, await this.store.readStream(subscriptionStream(softwareId)));
    if (subscription.status !== 'none') {
      if (subscription.profile.customerId !== customer.customerId || !isListedSubscription(subscription)) throw softwareNotFound();
      return this.subscriptionItem(subscription);
    }
    const perpetual = PERPETUAL_ID.exec(softwareId);
    if (!perpetual) throw softwareNotFound();
    const order = foldOrder(await this.store.readStream(orderStream(perpetual[1]!)));
    const line = order.status === 'placed' ? order.order.lineItems.find((candidate) => candidate.lineItemNumber === Number(perpetual[2])) : undefined;
    if (order.status !== 'placed' || order.order.customerId !== customer.customerId || !line || !isPerpetualLine(line)) throw softwareNotFound();
    if (softwareIdOf(order.order.orderId, line.lineItemNumber, null) !== softwareId) throw softwareNotFound();
    return this.perpetualItem(order, line);
  }

  /** Every software item of the customer, oldest purchase first, from the read models. */
  async list(customer: Pick<RegisteredCustomer, 'customerId'>): Promise<SoftwareItemView[]> {
    const [subscriptions, orders] = await Promise.all([
      this.db.selectFrom('subscriptions').select('state').where('customer_id', '=', customer.customerId).where('legacy', '=', 0).execute(),
      this.db.selectFrom('orders').select('state').where('customer_id', '=', customer.customerId).execute(),
    ]);
    const items: SoftwareItemView[] = [];
    for (const row of subscriptions) {
      const state = subscriptionStateFromStored(row.state);
      if (isListedSubscription(state)) items.push(this.view(this.subscriptionItem(state), state.status, state.profile.purchasedAt));
    }
    for (const row of orders) {
      const state = JSON.parse(row.state) as PlacedOrderState;
      for (const line of state.order.lineItems.filter(isPerpetualLine)) {
        const item = this.perpetualItem(state, line);
        items.push(this.view(item, item.revoked ? 'cancelled' : 'active', state.order.purchasedAt));
      }
    }
    return items.sort(
      (a, b) => compare(a.purchasedAt, b.purchasedAt) || compare(a.orderId, b.orderId) || a.lineItemNumber - b.lineItemNumber,
    );
  }

  private subscriptionItem(state: ExistingSubscriptionState): SoftwareItem {
    const { profile } = state;
    return this.item({
      softwareId: profile.subscriptionId,
      customerId: profile.customerId,
      partnerId: profile.partnerId,
      orderId: profile.orderId,
      lineItemNumber: profile.lineItemNumber,
      subscriptionId: profile.subscriptionId,
      kind: profile.kind,
      productId: profile.productId,
      skuId: profile.skuId,
      title: profile.title,
      deliversKeys: profile.deliversKeys,
      revoked: state.status === 'cancelled',
    });
  }

  private perpetualItem(state: PlacedOrderState, line: OrderLine): SoftwareItem {
    return this.item({
      softwareId: softwareIdOf(state.order.orderId, line.lineItemNumber, null),
      customerId: state.order.customerId,
      partnerId: state.order.partnerId,
      orderId: state.order.orderId,
      lineItemNumber: line.lineItemNumber,
      subscriptionId: null,
      kind: line.kind,
      productId: line.productId,
      skuId: line.skuId,
      title: line.title,
      deliversKeys: line.deliversKeys,
      revoked: state.cancelledLines[line.lineItemNumber] !== undefined,
    });
  }

  /** Download options and instructions come from the catalogue as it is now. */
  private item(base: Omit<SoftwareItem, 'downloadOptions' | 'installationInstructionsUrl'>): SoftwareItem {
    const sku = this.catalogue.find(base.skuId);
    return {
      ...base,
      downloadOptions: sku?.downloadOptions ?? NO_OPTIONS,
      ...(sku?.installationInstructionsUrl ? { installationInstructionsUrl: sku.installationInstructionsUrl } : {}),
    };
  }

  private view(item: SoftwareItem, status: string, purchasedAt: string): SoftwareItemView {
    return {
      id: item.softwareId,
      kind: item.kind,
      orderId: item.orderId,
      lineItemNumber: item.lineItemNumber,
      ...(item.subscriptionId ? { subscriptionId: item.subscriptionId } : {}),
      title: item.title,
      status,
      keyAvailable: item.deliversKeys && !item.revoked,
      downloadOptions: item.downloadOptions,
      ...(item.installationInstructionsUrl ? { installationInstructionsUrl: item.installationInstructionsUrl } : {}),
      purchasedAt,
    };
  }
}

function isListedSubscription(state: ExistingSubscriptionState): boolean {
  return !state.profile.legacy && state.profile.kind !== 'AzureReservation';
}

function isPerpetualLine(line: OrderLine): boolean {
  return line.subscriptionId === null && line.kind === 'PerpetualSoftware';
}

function foldOrder(recorded: readonly RecordedEvent[]): OrderState {
  return recorded.reduce<OrderState>((state, event) => evolveOrder(state, { type: event.type, data: event.data } as unknown as OrderEvent), {
    status: 'none',
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
