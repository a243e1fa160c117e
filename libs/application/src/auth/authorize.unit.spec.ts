import { DomainError } from '@csp/domain/shared/domain-error';
import { requireRole } from './authorize';
import { Principal } from './principal';

const partner = (roles: Principal['roles']): Principal => ({ userId: 'u', tenantId: 'p', kind: 'partner', roles });

describe('requireRole', () => {
  it('lets a partner with one of the roles through', () => {
    expect(() => requireRole(partner(['BillingAdmin', 'AdminAgent']), ['AdminAgent', 'GlobalAdmin'])).not.toThrow();
  });

  it('lets a service with the role through', () => {
    expect(() => requireRole({ ...partner(['Importer']), kind: 'service' }, ['Importer'])).not.toThrow();
  });

  it('refuses a caller without the role with FORBIDDEN', () => {
    let thrown: unknown;
    try {
      requireRole(partner(['BillingAdmin']), ['AdminAgent']);
    } catch (error: unknown) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({ code: 'FORBIDDEN', category: 'forbidden', details: { requiredRoles: ['AdminAgent'] } });
  });

  it("does not count a customer's GlobalAdmin unless customers are allowed", () => {
    const customer: Principal = { ...partner(['GlobalAdmin']), kind: 'customer' };
    expect(() => requireRole(customer, ['GlobalAdmin'])).toThrow(DomainError);
    expect(() => requireRole(customer, ['GlobalAdmin'], { kinds: ['customer'] })).not.toThrow();
  });
});
