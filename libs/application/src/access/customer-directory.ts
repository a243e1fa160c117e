import { customerDecider, type CustomerState } from '@csp/domain/customer/customer.decider';
import { customerStream, type CustomerEvent } from '@csp/domain/customer/customer.events';
import { unknownCustomer } from '@csp/domain/order/order.decider';
import { DomainError } from '@csp/domain/shared/domain-error';
import { nameKey } from '@csp/domain/shared/name-key';
import type { EventStore } from '@csp/event-store';
import type { ReadModelDb } from '@csp/read-models';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { hasAnyRole, type Principal } from '../auth/principal';
import { foldRecorded } from '../command-handling/command-runner';
import { EVENT_STORE, READ_MODEL_DB } from '../tokens';

export type RegisteredCustomer = Extract<CustomerState, { status: 'registered' }>;

const TENANT_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Registered customers kept in memory for commands: a few hundred bytes each. */
const REGISTERED_CUSTOMERS_KEPT = 10_000;
/**
 * What may be kept of a customer: its registration, as long as nothing can follow it on its stream.
 * An event type beyond `CustomerRegistered` makes this `never`, and the cache below stops compiling.
 */
type ImmutableRegistration = CustomerEvent['type'] extends 'CustomerRegistered' ? RegisteredCustomer : never;

/**
 * Finds the customer a request names and decides whether the caller may see it.
 * A partner sees only its own customers: another partner's customer answers 404, so tenant
 * GUIDs of foreign customers do not leak. A customer user sees only itself: any other tenant is 403.
 */
@Injectable()
export class CustomerDirectory {
  /**
   * A customer's stream holds its registration and nothing after it, so once registered its state
   * never changes: every command of a customer read the same one event again, and a read after any
   * other append re-reads SQLite's pages (30 µs of a purchase's 360 on the request thread). Only
   * registrations are kept; an unknown customer is read again each time, as it may register next.
   */
  private readonly registered = new LRUCache<string, ImmutableRegistration>({ max: REGISTERED_CUSTOMERS_KEPT });

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
  ) {}

  /** For commands: the customer's own stream, never a lagging read model. */
  async forCommand(principal: Principal, customerRef: string): Promise<RegisteredCustomer> {
    const customerId = await this.resolveId(principal, customerRef);
    return this.visible(principal, customerId, this.registered.get(customerId) ?? (await this.registeredInLog(customerId)));
  }

  private async registeredInLog(customerId: string): Promise<RegisteredCustomer | undefined> {
    const state = foldRecorded(customerDecider, await this.store.readStream(customerStream(customerId)));
    if (state.status !== 'registered') return undefined;
    this.registered.set(customerId, state);
    return state;
  }

  /** For queries: the read model (the caller asks for freshness with X-Min-Position). */
  async forQuery(principal: Principal, customerRef: string): Promise<RegisteredCustomer & { registeredAt: string }> {
    const customerId = await this.resolveId(principal, customerRef);
    const row = await this.db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
    const customer = row
      ? {
          status: 'registered' as const,
          customerId: row.id,
          partnerId: row.partner_id,
          companyName: row.company_name,
          domain: row.domain,
          country: row.country,
          registeredAt: row.registered_at,
        }
      : undefined;
    return this.visible(principal, customerId, customer);
  }

  /** The customer (of any partner) whose primary domain is `domain` after normalisation, per the read model. */
  async domainHolder(domain: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('customers').select('id').where('domain_key', '=', nameKey(domain)).executeTakeFirst();
    return row?.id;
  }

  /** A customer is named by its tenant GUID, or (partners only) by its primary domain or company name. */
  private async resolveId(principal: Principal, customerRef: string): Promise<string> {
    if (TENANT_GUID.test(customerRef)) return customerRef.toLowerCase();
    if (principal.kind === 'customer') return (await this.ownTenantNamed(principal, customerRef)) ?? customerRef;
    const matches = await this.db
      .selectFrom('customers')
      .select('id')
      .where('partner_id', '=', principal.tenantId)
      // Compared normalised (NFC, case folded): "Contoso" and "CONTOSO", or "é" typed two ways, are one name.
      .where((where) => where.or([where('domain_key', '=', nameKey(customerRef)), where('company_name_key', '=', nameKey(customerRef))]))
      .execute();
    if (matches.length > 1) {
      throw new DomainError('AMBIGUOUS_CUSTOMER', 'conflict', `Several customers are named ${customerRef}; use the tenant GUID`);
    }
    if (matches.length === 0) throw unknownCustomer(customerRef);
    return matches[0]!.id;
  }

  /** A customer user may name its own tenant by its primary domain too; other names stay unresolved. */
  private async ownTenantNamed(principal: Principal, customerRef: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('customers')
      .select('id')
      .where('id', '=', principal.tenantId.toLowerCase())
      .where('domain_key', '=', nameKey(customerRef))
      .executeTakeFirst();
    return row?.id;
  }

  private visible<C extends RegisteredCustomer>(principal: Principal, customerRef: string, customer: C | undefined): C {
    if (principal.kind === 'customer') {
      if (principal.tenantId.toLowerCase() !== customerRef.toLowerCase() || !hasAnyRole(principal, ['GlobalAdmin'])) {
        throw new DomainError('FORBIDDEN', 'forbidden', 'A customer user may only read its own tenant as its Global Admin');
      }
      if (!customer) throw unknownCustomer(customerRef);
      return customer;
    }
    if (!customer || customer.partnerId !== principal.tenantId) throw unknownCustomer(customerRef);
    return customer;
  }
}
