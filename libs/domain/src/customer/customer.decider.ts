import { isKnownCountryCode } from '../markets/iso-countries';
import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import type { CustomerEvent } from './customer.events';

export interface RegisterCustomer {
  type: 'RegisterCustomer';
  customerId: string;
  partnerId: string;
  companyName: string;
  domain: string;
  country: string;
  at: string;
}

export type CustomerState =
  | { status: 'unknown' }
  | { status: 'registered'; customerId: string; partnerId: string; companyName: string; domain: string; country: string };

export const customerDecider: Decider<RegisterCustomer, CustomerEvent, CustomerState> = {
  initialState: () => ({ status: 'unknown' }),

  evolve(_state, event) {
    switch (event.type) {
      case 'CustomerRegistered': {
        const { customerId, partnerId, companyName, domain, country } = event.data;
        return { status: 'registered', customerId, partnerId, companyName, domain, country };
      }
    }
  },

  decide(command, state) {
    if (state.status === 'registered') {
      throw new DomainError('CUSTOMER_ALREADY_EXISTS', 'conflict', `Customer ${command.customerId} is already registered`);
    }
    if (!isKnownCountryCode(command.country)) {
      throw new DomainError('UNKNOWN_COUNTRY', 'invalid', `${command.country} is not an ISO 3166-1 alpha-2 code`);
    }
    return [
      {
        type: 'CustomerRegistered',
        data: {
          customerId: command.customerId,
          partnerId: command.partnerId,
          companyName: command.companyName,
          domain: command.domain.toLowerCase(),
          country: command.country,
          registeredAt: command.at,
        },
      },
    ];
  },
};
