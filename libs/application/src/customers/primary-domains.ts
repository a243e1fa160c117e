import { DomainError } from '@csp/domain/shared/domain-error';
import { nameKey } from '@csp/domain/shared/name-key';
import { NO_STREAM, WrongExpectedRevisionError, type EventStore } from '@csp/event-store';
import { Inject, Injectable } from '@nestjs/common';
import { CustomerDirectory } from '../access/customer-directory';
import type { CommandContext } from '../command-handling/command-context';
import type { StreamStart } from '../command-handling/command-runner';
import { IdGenerator } from '../ports/id-generator.port';
import { EVENT_STORE } from '../tokens';

export const PRIMARY_DOMAIN_RESERVED = 'PrimaryDomainReserved';

/**
 * A primary domain names one tenant across the whole service, as in Partner Center, whichever
 * partner registered it. Decided on the log: the first registration of a domain appends to the
 * domain's own stream with `no_stream`, so of two registrations racing for one domain exactly one
 * wins. The read model is asked too, for customers registered before domains had streams.
 */
@Injectable()
export class PrimaryDomains {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly ids: IdGenerator,
    private readonly customers: CustomerDirectory,
  ) {}

  /**
   * Appends a reservation `reservationToStart` made, on its own: when another registration started
   * the domain's stream meanwhile, it must be this customer's, or `409 DOMAIN_ALREADY_REGISTERED`.
   */
  async startReservation(reservation: StreamStart, domain: string, customerId: string, context: CommandContext): Promise<void> {
    try {
      await this.store.appendToStream(
        reservation.streamName,
        reservation.events.map(({ type, data }) => ({
          id: this.ids.newId(),
          type,
          data: { ...data },
          metadata: { correlationId: context.correlationId, userId: context.principal.userId },
        })),
        { expectedRevision: NO_STREAM },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      await this.ensureHeldBy(reservation.streamName, domain, customerId);
    }
  }

  /**
   * The domain's stream as a reservation for `customerId` starts it, to append together with the
   * customer's own (`CommandRunner.startStreams`) or alone (`startReservation`); undefined when
   * `customerId` holds the domain already (a retried registration). Throws
   * `409 DOMAIN_ALREADY_REGISTERED` when another customer holds it.
   */
  async reservationToStart(domain: string, customerId: string, context: CommandContext): Promise<StreamStart | undefined> {
    const holder = await this.customers.domainHolder(domain);
    if (holder !== undefined && holder !== customerId) throw domainTaken(domain);
    const stream = domainStream(domain);
    if ((await this.reservedFor(stream)) !== undefined) {
      await this.ensureHeldBy(stream, domain, customerId);
      return undefined;
    }
    const data = { domain: nameKey(domain), customerId, partnerId: context.principal.tenantId };
    return { streamName: stream, events: [{ type: PRIMARY_DOMAIN_RESERVED, data }], commandType: 'RegisterCustomer' };
  }

  private async ensureHeldBy(stream: string, domain: string, customerId: string): Promise<void> {
    if ((await this.reservedFor(stream)) !== customerId) throw domainTaken(domain);
  }

  private async reservedFor(stream: string): Promise<string | undefined> {
    const [first] = await this.store.readStream(stream);
    return first ? String(first.data['customerId']) : undefined;
  }
}

function domainStream(domain: string): string {
  return `domain-${nameKey(domain)}`;
}

function domainTaken(domain: string): DomainError {
  return new DomainError('DOMAIN_ALREADY_REGISTERED', 'conflict', `The primary domain ${domain} already names another customer`, {
    domain: nameKey(domain),
  });
}
