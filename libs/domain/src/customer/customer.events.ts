import type { DomainEvent } from '../shared/event';

export const customerStream = (customerId: string): string => `customer-${customerId}`;

export type CustomerRegistered = DomainEvent<
  'CustomerRegistered',
  {
    customerId: string;
    partnerId: string;
    companyName: string;
    domain: string;
    /** ISO 3166-1 alpha-2 or XK. */
    country: string;
    registeredAt: string;
  }
>;

export type CustomerEvent = CustomerRegistered;
