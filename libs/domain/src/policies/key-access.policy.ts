import type { ProductKind } from '../catalogue/sku';

/** The caller as the edge knows it (kind, roles and tenant from the token), as plain data. */
export interface KeyAccessCaller {
  kind: 'partner' | 'customer' | 'service';
  roles: readonly string[];
  /** The partner id for partner users; the customer's tenant GUID for customer users. */
  tenantId: string;
}

/** The purchase the keys belong to. */
export interface KeyAccessItem {
  partnerId: string;
  /** The customer's tenant GUID. */
  customerId: string;
  kind: ProductKind;
}

export type KeyAccessDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Who may generate, reveal and download keys: a partner `AdminAgent` for any of its own customers,
 * and a customer `GlobalAdmin` for its own tenant's server subscriptions only. Nobody else, services
 * included: keys are handed to people, and every reveal is recorded against one.
 *
 * @example keyAccess({ kind: 'partner', roles: ['AdminAgent'], tenantId: 'p-1' }, item) // { allowed: true } when item.partnerId is 'p-1'
 */
export function keyAccess(caller: KeyAccessCaller, item: KeyAccessItem): KeyAccessDecision {
  if (caller.kind === 'partner') {
    if (!caller.roles.includes('AdminAgent')) return refused('partner users need the AdminAgent role for keys and downloads');
    if (caller.tenantId !== item.partnerId) return refused('the customer belongs to another partner');
    return { allowed: true };
  }
  if (caller.kind === 'customer') {
    if (!caller.roles.includes('GlobalAdmin')) return refused('customer users need the GlobalAdmin role for keys and downloads');
    // Tenant GUIDs arrive in whatever case the caller's directory writes them.
    if (caller.tenantId.toLowerCase() !== item.customerId.toLowerCase()) return refused('a customer may only use its own keys');
    if (item.kind !== 'ServerSubscription') return refused('a customer may only use the keys of its server subscriptions');
    return { allowed: true };
  }
  return refused('keys and downloads are for partner and customer users only');
}

function refused(reason: string): KeyAccessDecision {
  return { allowed: false, reason };
}
