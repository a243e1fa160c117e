import { deciderSpecification } from '@csp/testing/decider-specification';
import { customerDecider, type RegisterCustomer } from './customer.decider';
import type { CustomerRegistered } from './customer.events';

const spec = deciderSpecification(customerDecider);
const at = '2026-11-30T08:00:00.000Z';
const register = (country: string): RegisterCustomer => ({
  type: 'RegisterCustomer',
  customerId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  partnerId: 'partner-1',
  companyName: 'Contoso GmbH',
  domain: 'Contoso.Example',
  country,
  at,
});
const registered = (country: string): CustomerRegistered => ({
  type: 'CustomerRegistered',
  data: {
    customerId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    partnerId: 'partner-1',
    companyName: 'Contoso GmbH',
    domain: 'contoso.example',
    country,
    registeredAt: at,
  },
});

describe('RegisterCustomer', () => {
  it('registers a new customer under the caller partner, domain lower-cased', () => {
    spec.given([]).when(register('DE')).then([registered('DE')]);
  });
  it('accepts Kosovo by its user-assigned code XK', () => {
    spec.given([]).when(register('XK')).then([registered('XK')]);
  });
  it('refuses a code that is not ISO 3166-1 alpha-2', () => {
    spec.given([]).when(register('UK')).thenThrows('UNKNOWN_COUNTRY');
  });
  it('refuses a second registration of the same tenant', () => {
    spec.given([registered('DE')]).when(register('DE')).thenThrows('CUSTOMER_ALREADY_EXISTS');
  });
});
