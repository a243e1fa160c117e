import { E2eApp } from '../support/e2e-harness';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { configFromEnv } from '@csp/engine/config/engine-config';
import { ProjectorModule } from '../../apps/projector/src/projector.module';

const customerId = '6b0c3f8e-2f1c-4e57-9d36-0a1b2c3d4e5f';

/** The at-scale layout on one machine: an api with PROJECTIONS=external and a projector sharing DATA_DIR. */
describe('api with an external projector', () => {
  let api: E2eApp;
  let projector: INestApplicationContext | undefined;

  beforeAll(async () => {
    api = await E2eApp.start({ env: { PROJECTIONS: 'external' } });
  });
  afterAll(async () => {
    await projector?.close();
    await api.stop();
  });

  it('answers a query at a command position only once the projector has folded it', async () => {
    const admin = await api.token({ roles: ['AdminAgent'] });
    const registered = await api
      .http()
      .post('/v1/customers')
      .set('Authorization', admin)
      .send({ id: customerId, companyName: 'Fabrikam', domain: 'fabrikam.example', country: 'GB' })
      .expect(201);
    const position = registered.headers['x-log-position'];

    // No projector yet: the api itself folds nothing, so the read-your-writes wait runs out.
    const lagging = await api.http().get(`/v1/customers/${customerId}`).set('Authorization', admin).set('X-Min-Position', position);
    expect(lagging.status).toBe(503);
    expect(lagging.body.code).toBe('PROJECTION_LAGGING');

    projector = await NestFactory.createApplicationContext(
      ProjectorModule.forRoot(configFromEnv({ ...api.env, PROJECTIONS: 'in-process' }), api.env),
      { logger: false },
    );
    await projector.init();
    const fresh = await api.http().get(`/v1/customers/${customerId}`).set('Authorization', admin).set('X-Min-Position', position).expect(200);
    expect(fresh.body).toMatchObject({ id: customerId, companyName: 'Fabrikam', country: 'GB' });
  }, 20_000);

  it('lets a command that names a customer by its domain wait for the registration to be folded', async () => {
    const admin = await api.token({ roles: ['AdminAgent'] });
    const otherId = '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';
    const registered = await api
      .http()
      .post('/v1/customers')
      .set('Authorization', admin)
      .send({ id: otherId, companyName: 'Northwind', domain: 'northwind.example', country: 'DE' })
      .expect(201);
    const purchase = await api
      .http()
      .post('/v1/customers/northwind.example/orders')
      .set('Authorization', admin)
      .set('X-Min-Position', registered.headers['x-log-position'])
      .send({ lineItems: [{ skuId: 'office-ltsc-professional-plus-2021:PERPETUAL', quantity: 1, billingCycle: 'oneTime' }] });
    expect(purchase.status).toBe(201);
    expect(purchase.body.customerId).toBe(otherId);
  });
});
