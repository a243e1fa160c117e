import { CustomerDirectory } from '@csp/application/access/customer-directory';
import { RegisterCustomerCommand } from '@csp/application/customers/register-customer.command';
import { EVENT_STORE } from '@csp/application/tokens';
import { customerStream } from '@csp/domain/customer/customer.events';
import { DomainError } from '@csp/domain/shared/domain-error';
import type { EventStore } from '@csp/event-store';
import { ApplicationHarness, customerUser, partnerUser } from '@csp/testing/application-harness';
import { randomUUID } from 'node:crypto';

const NOW = '2026-03-01T09:00:00.000Z';
const OWN_PARTNER = 'partner-own';
const OTHER_PARTNER = 'partner-other';
const admin = partnerUser(OWN_PARTNER, ['AdminAgent']);
const otherAdmin = partnerUser(OTHER_PARTNER, ['AdminAgent']);

interface Registration {
  id: string;
  companyName: string;
  domain: string;
  country: string;
}

describe('CustomerDirectory on the log and the read models', () => {
  let app: ApplicationHarness;
  let directory: CustomerDirectory;
  let contoso: Registration;

  beforeEach(async () => {
    app = await ApplicationHarness.start({ now: NOW });
    directory = app.module.get(CustomerDirectory);
    contoso = await register(admin, { companyName: 'Contoso GmbH', domain: 'contoso.onmicrosoft.com' });
    await app.settle();
  });

  afterEach(() => app.close());

  async function register(principal: typeof admin, named: { companyName: string; domain: string }): Promise<Registration> {
    const customer = { id: randomUUID(), country: 'DE', ...named };
    await app.commands.execute(new RegisterCustomerCommand(app.context(principal), customer));
    return customer;
  }

  const refusal = (attempt: Promise<unknown>) => attempt.then(() => undefined, (error: unknown) => error);

  it('resolves the tenant GUID in any letter case, for commands from the log and for queries from the read model', async () => {
    const expected = { customerId: contoso.id, partnerId: OWN_PARTNER, companyName: contoso.companyName, domain: contoso.domain, country: 'DE' };

    await expect(directory.forCommand(admin, contoso.id.toUpperCase())).resolves.toMatchObject(expected);
    await expect(directory.forQuery(admin, contoso.id)).resolves.toMatchObject({ ...expected, registeredAt: NOW });
  });

  it('resolves a partner customer by its primary domain (any case) and by its exact company name', async () => {
    await expect(directory.forQuery(admin, 'CONTOSO.onmicrosoft.com')).resolves.toMatchObject({ customerId: contoso.id });
    await expect(directory.forCommand(admin, 'Contoso GmbH')).resolves.toMatchObject({ customerId: contoso.id });
  });

  it('refuses a company name two of the partner customers share, asking for the GUID', async () => {
    await register(admin, { companyName: 'Contoso GmbH', domain: 'contoso-berlin.onmicrosoft.com' });
    await app.settle();

    const error = await refusal(directory.forQuery(admin, 'Contoso GmbH'));

    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'AMBIGUOUS_CUSTOMER', category: 'conflict' });
  });

  it('does not count a namesake of another partner as ambiguous', async () => {
    await register(otherAdmin, { companyName: 'Contoso GmbH', domain: 'contoso-elsewhere.onmicrosoft.com' });
    await app.settle();

    await expect(directory.forQuery(admin, 'Contoso GmbH')).resolves.toMatchObject({ customerId: contoso.id });
  });

  it('answers another partner "unknown customer" by GUID, domain and name alike, so foreign tenants do not leak', async () => {
    for (const ref of [contoso.id, contoso.domain, contoso.companyName]) {
      expect(await refusal(directory.forQuery(otherAdmin, ref))).toMatchObject({ code: 'UNKNOWN_CUSTOMER', category: 'not_found' });
      expect(await refusal(directory.forCommand(otherAdmin, ref))).toMatchObject({ code: 'UNKNOWN_CUSTOMER', category: 'not_found' });
    }
  });

  it('answers an unregistered GUID and an unknown name as unknown customers', async () => {
    expect(await refusal(directory.forCommand(admin, randomUUID()))).toMatchObject({ code: 'UNKNOWN_CUSTOMER' });
    expect(await refusal(directory.forQuery(admin, 'Nobody Ltd'))).toMatchObject({ code: 'UNKNOWN_CUSTOMER' });
  });

  it("lets a customer's Global Admin read its own tenant only", async () => {
    const fabrikam = await register(admin, { companyName: 'Fabrikam AG', domain: 'fabrikam.onmicrosoft.com' });
    await app.settle();
    const contosoAdmin = customerUser(contoso.id, ['GlobalAdmin']);

    await expect(directory.forQuery(contosoAdmin, contoso.id)).resolves.toMatchObject({ customerId: contoso.id });
    expect(await refusal(directory.forQuery(contosoAdmin, fabrikam.id))).toMatchObject({ code: 'FORBIDDEN', category: 'forbidden' });
    expect(await refusal(directory.forQuery(customerUser(contoso.id, ['AccountAdmin']), contoso.id))).toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it("lets a customer's Global Admin name its own tenant by its primary domain, but no other", async () => {
    const fabrikam = await register(admin, { companyName: 'Fabrikam AG', domain: 'fabrikam.onmicrosoft.com' });
    await app.settle();
    const contosoAdmin = customerUser(contoso.id, ['GlobalAdmin']);

    await expect(directory.forQuery(contosoAdmin, 'CONTOSO.onmicrosoft.com')).resolves.toMatchObject({ customerId: contoso.id });
    await expect(directory.forCommand(contosoAdmin, contoso.domain)).resolves.toMatchObject({ customerId: contoso.id });
    expect(await refusal(directory.forQuery(contosoAdmin, fabrikam.domain))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('resolves a fresh registration for a command without waiting for the projections', async () => {
    const fresh = await register(admin, { companyName: 'Northwind', domain: 'northwind.onmicrosoft.com' });

    // No settle: the command side reads the customer's own stream, never a read model that may lag.
    await expect(directory.forCommand(admin, fresh.id)).resolves.toMatchObject({ customerId: fresh.id, companyName: 'Northwind' });
  });

  it("reads a registered customer's stream once for commands, and an unregistered GUID again until it registers", async () => {
    const reads = jest.spyOn(app.module.get<EventStore>(EVENT_STORE), 'readStream');
    const readsOf = (customerId: string) => reads.mock.calls.filter(([stream]) => stream === customerStream(customerId)).length;
    const later = randomUUID();

    await directory.forCommand(admin, contoso.id);
    await directory.forCommand(admin, contoso.id);
    const foreign = await refusal(directory.forCommand(otherAdmin, contoso.id));
    const beforeRegistration = await refusal(directory.forCommand(admin, later));
    await app.commands.execute(
      new RegisterCustomerCommand(app.context(admin), { id: later, companyName: 'Later Ltd', domain: 'later.onmicrosoft.com', country: 'DE' }),
    );
    const afterRegistration = await directory.forCommand(admin, later);

    expect(readsOf(contoso.id)).toBe(1);
    expect(foreign).toMatchObject({ code: 'UNKNOWN_CUSTOMER' });
    expect(beforeRegistration).toMatchObject({ code: 'UNKNOWN_CUSTOMER' });
    expect(afterRegistration).toMatchObject({ customerId: later, partnerId: OWN_PARTNER, companyName: 'Later Ltd' });
  });
});
