/** Who sends a command or query, from the verified JWT (claims per shared API.md). */
export type PrincipalKind = 'partner' | 'customer' | 'service';

export type Role =
  | 'AdminAgent'
  | 'GlobalAdmin'
  | 'AccountAdmin'
  | 'ReferralAdmin'
  | 'MarketingContentAdmin'
  | 'BillingAdmin'
  | 'Importer';

export const ROLES: readonly Role[] = [
  'AdminAgent',
  'GlobalAdmin',
  'AccountAdmin',
  'ReferralAdmin',
  'MarketingContentAdmin',
  'BillingAdmin',
  'Importer',
];

export interface Principal {
  userId: string;
  /** Partner id for partner and service callers; the customer's tenant GUID for customer users. */
  tenantId: string;
  kind: PrincipalKind;
  roles: Role[];
  name?: string;
}

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((role) => roles.includes(role));
}
