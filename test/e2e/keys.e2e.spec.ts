import { decryptField, isEncryptedField, unwrapDataKey } from '@csp/event-store/codec/field-cipher';
import { READ_MODEL_DB } from '@csp/application/tokens';
import { ProjectionOperations } from '@csp/engine/projections/projection-operations';
import { projectionRegistry, type ReadModelDb } from '@csp/read-models';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type request from 'supertest';
import { buildCli } from '../../apps/cli/src/cli';
import { E2eApp } from '../support/e2e-harness';
import { addDays } from './support/calendar';
import { catalogueEntry, expectProblem, get, logPosition, placeOrder, registerCustomer, SKU, type RegisteredCustomer } from './support/e2e-support';

/** Microsoft's product-key alphabet and the MAK shape, written out here rather than imported from the issuer. */
const MAK = /^[BCDFGHJKMPQRTVWXY2346789]{5}(-[BCDFGHJKMPQRTVWXY2346789]{5}){4}$/;
const DATACENTER_CHOICES = { version: '2022', language: 'en-us', fileType: 'ISO', operatingSystem: 'x64' };
const OFFICE_CHOICES = { version: '2021', language: 'de-de', fileType: 'IMG', operatingSystem: 'x86' };
const ESU_CHOICES = { version: '2012 R2' };

interface Purchase {
  customer: RegisteredCustomer;
  orderId: string;
  position: string;
  /** Software ids in line order: the subscription id, or `<orderId>-<line>` for perpetual lines. */
  softwareIds: string[];
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function linkPath(url: string): string {
  expect(url).toMatch(/^\/v1\/downloads\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  return url;
}

describe('keys, downloads and the activity log', () => {
  let app: E2eApp;
  let admin: string;
  let otherPartnerAdmin: string;
  let compliance: string;

  beforeAll(async () => {
    app = await E2eApp.start();
    admin = await app.token({ roles: ['AdminAgent'], sub: 'agent-7', name: 'Ada Agent' });
    otherPartnerAdmin = await app.token({ roles: ['AdminAgent'], tenant: 'partner-2' });
    compliance = await app.token({ roles: ['AccountAdmin'] });
  });
  afterAll(() => app.stop());

  /** A customer with a server subscription, a perpetual Office line, a licence-only CAL, an ESU and an Azure Reservation. */
  async function purchase(): Promise<Purchase> {
    const customer = await registerCustomer(app);
    const order = await placeOrder(app, customer.id, [
      { skuId: SKU.datacenter1y, quantity: 1, billingCycle: 'annual' },
      { skuId: SKU.office, quantity: 2, billingCycle: 'oneTime' },
      { skuId: SKU.userCal, quantity: 5, billingCycle: 'annual' },
      { skuId: 'windows-server-2012-esu-datacenter-2core:P1Y', quantity: 1, billingCycle: 'annual' },
      { skuId: SKU.azure1y, quantity: 1, billingCycle: 'annual' },
    ]);
    const [datacenter, cal, esu] = order.subscriptionIds;
    return { customer, orderId: order.id, position: order.position, softwareIds: [datacenter!, `${order.id}-2`, cal!, esu!] };
  }

  const base = (customerId: string, softwareId: string) => `/v1/customers/${customerId}/software/${softwareId}`;

  function post(path: string, token: string, body: object = {}, idempotencyKey?: string): request.Test {
    const call = app.http().post(path).set('Authorization', token);
    return (idempotencyKey ? call.set('Idempotency-Key', idempotencyKey) : call).send(body);
  }

  async function generate(customerId: string, softwareId: string, body: object, token = admin): Promise<string> {
    const response = await post(`${base(customerId, softwareId)}/keys`, token, body);
    expect(response.status).toBe(201);
    return response.body.keyId;
  }

  async function reveal(customerId: string, softwareId: string, keyId: string, token = admin): Promise<string> {
    const response = await post(`${base(customerId, softwareId)}/keys/${keyId}/reveal`, token);
    expect(response.status).toBe(200);
    return response.body.productKey;
  }

  async function activity(query: Record<string, string>, token = compliance, position?: string): Promise<request.Response> {
    const search = new URLSearchParams({ startDate: '2026-01-01', endDate: '2027-01-01', ...query });
    return get(app, `/v1/activity-log?${search.toString()}`, token, position);
  }

  describe('GET /v1/customers/{id}/software', () => {
    it('lists subscription lines and perpetual lines with options, key availability and instructions; never Azure Reservations', async () => {
      const bought = await purchase();
      const response = await get(app, `/v1/customers/${bought.customer.id}/software`, admin, bought.position);
      expect(response.status).toBe(200);
      const [datacenter, office, cal, esu] = bought.softwareIds;
      const option = (skuId: string) => (catalogueEntry(skuId) as unknown as { downloadOptions: object }).downloadOptions;
      const esuSku = 'windows-server-2012-esu-datacenter-2core:P1Y';
      expect(response.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: datacenter, kind: 'ServerSubscription', orderId: bought.orderId, lineItemNumber: 1, subscriptionId: datacenter, status: 'active', keyAvailable: true, downloadOptions: option(SKU.datacenter1y) }),
          expect.objectContaining({ id: office, kind: 'PerpetualSoftware', orderId: bought.orderId, lineItemNumber: 2, status: 'active', keyAvailable: true, downloadOptions: option(SKU.office) }),
          expect.objectContaining({ id: cal, kind: 'SoftwareSubscription', lineItemNumber: 3, keyAvailable: false }),
          expect.objectContaining({
            id: esu,
            lineItemNumber: 4,
            keyAvailable: true,
            installationInstructionsUrl: (catalogueEntry(esuSku) as unknown as { installationInstructionsUrl: string }).installationInstructionsUrl,
          }),
        ]),
      );
      expect(response.body.items).toHaveLength(4);
      expect(response.body.items.find((item: { id: string }) => item.id === office).subscriptionId).toBeUndefined();
    });

    it('is for the partner\'s users and the customer\'s own GlobalAdmin; another partner gets 404', async () => {
      const bought = await purchase();
      const customerAdmin = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: bought.customer.id });
      expect((await get(app, `/v1/customers/${bought.customer.id}/software`, customerAdmin, bought.position)).status).toBe(200);
      expect((await get(app, `/v1/customers/${bought.customer.id}/software`, compliance, bought.position)).status).toBe(200);
      expectProblem(await get(app, `/v1/customers/${bought.customer.id}/software`, otherPartnerAdmin, bought.position), 404);
    });
  });

  describe('GenerateKey and reveal', () => {
    it('refuses KMS before anything else, whoever asks and whatever else the request holds', async () => {
      const bought = await purchase();
      const billing = await app.token({ roles: ['BillingAdmin'] });
      for (const [token, customerId, softwareId, body] of [
        [admin, bought.customer.id, bought.softwareIds[0]!, { keyType: 'KMS', ...DATACENTER_CHOICES }],
        [admin, bought.customer.id, bought.softwareIds[2]!, { keyType: 'kms' }],
        [admin, bought.customer.id, bought.softwareIds[0]!, { keyType: 'KMS', language: 'xx-xx' }],
        [billing, bought.customer.id, bought.softwareIds[0]!, { keyType: 'KMS' }],
        [otherPartnerAdmin, bought.customer.id, bought.softwareIds[0]!, { keyType: 'KMS' }],
      ] as const) {
        expectProblem(await post(`${base(customerId, softwareId)}/keys`, token, body), 422, 'KMS_KEYS_NOT_ALLOWED');
      }
    });

    it('answers a GenerateKey retried with its Idempotency-Key with the first key, drawing no second key from the issuer', async () => {
      const bought = await purchase();
      const keysIssued = async () => {
        const db = app.app.get<ReadModelDb>(READ_MODEL_DB);
        const { count } = await db.selectFrom('issued_key_fingerprints').select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
        return Number(count);
      };
      const before = await keysIssued();
      const path = `${base(bought.customer.id, bought.softwareIds[0]!)}/keys`;

      const first = await post(path, admin, DATACENTER_CHOICES, 'generate-once');
      const retried = await post(path, admin, DATACENTER_CHOICES, 'generate-once');

      expect(first.status).toBe(201);
      expect(retried.status).toBe(201);
      expect(retried.body).toEqual(first.body);
      expect(await keysIssued()).toBe(before + 1);
    });

    it('validates download options against the product: a value it does not offer, a missing or a hidden choice', async () => {
      const bought = await purchase();
      const [datacenter, , , esu] = bought.softwareIds;
      const notOffered = await post(`${base(bought.customer.id, datacenter!)}/keys`, admin, { ...DATACENTER_CHOICES, language: 'xx-xx' });
      expectProblem(notOffered, 422, 'INVALID_DOWNLOAD_OPTION');
      const missing = await post(`${base(bought.customer.id, datacenter!)}/keys`, admin, { version: '2022' });
      expectProblem(missing, 422, 'INVALID_DOWNLOAD_OPTION');
      expectProblem(await post(`${base(bought.customer.id, esu!)}/keys`, admin, { ...ESU_CHOICES, language: 'en-us' }), 422, 'INVALID_DOWNLOAD_OPTION');
      expectProblem(await post(`${base(bought.customer.id, datacenter!)}/downloads`, admin, { version: '2019' }), 422, 'INVALID_DOWNLOAD_OPTION');
      expectProblem(await post(`${base(bought.customer.id, datacenter!)}/download-links`, admin, {}), 422, 'INVALID_DOWNLOAD_OPTION');
    });

    it('refuses keys and downloads of licence-only products', async () => {
      const bought = await purchase();
      const cal = bought.softwareIds[2]!;
      expectProblem(await post(`${base(bought.customer.id, cal)}/keys`, admin, {}), 422, 'PRODUCT_DELIVERS_NO_KEYS');
      expectProblem(await post(`${base(bought.customer.id, cal)}/downloads`, admin, {}), 422, 'PRODUCT_DELIVERS_NO_KEYS');
      expectProblem(await post(`${base(bought.customer.id, cal)}/download-links`, admin, {}), 422, 'PRODUCT_DELIVERS_NO_KEYS');
    });

    it('generates a MAK without key text in the answer, reveals it, and returns installation instructions where the product has them', async () => {
      const bought = await purchase();
      const [datacenter, office, , esu] = bought.softwareIds;
      const generated = await post(`${base(bought.customer.id, datacenter!)}/keys`, admin, { ...DATACENTER_CHOICES, keyType: 'MAK' });
      expect(generated.status).toBe(201);
      expect(Object.keys(generated.body).sort()).toEqual(['keyId', 'keyType']);
      expect(generated.body.keyType).toBe('MAK');
      logPosition(generated);
      const productKey = await reveal(bought.customer.id, datacenter!, generated.body.keyId);
      expect(productKey).toMatch(MAK);
      const officeKey = await reveal(bought.customer.id, office!, await generate(bought.customer.id, office!, OFFICE_CHOICES));
      expect(officeKey).toMatch(MAK);
      expect(officeKey).not.toBe(productKey);

      const esuUrl = (catalogueEntry('windows-server-2012-esu-datacenter-2core:P1Y') as unknown as { installationInstructionsUrl: string }).installationInstructionsUrl;
      const esuKey = await post(`${base(bought.customer.id, esu!)}/keys`, admin, ESU_CHOICES);
      expect(esuKey.body).toEqual({ keyId: expect.any(String), keyType: 'MAK', installationInstructionsUrl: esuUrl });
      const revealed = await post(`${base(bought.customer.id, esu!)}/keys/${esuKey.body.keyId}/reveal`, admin);
      expect(revealed.body).toEqual({ productKey: expect.stringMatching(MAK), installationInstructionsUrl: esuUrl });
    });

    it('answers 404 for an unknown key or software item', async () => {
      const bought = await purchase();
      expectProblem(await post(`${base(bought.customer.id, bought.softwareIds[0]!)}/keys/no-such-key/reveal`, admin), 404, 'KEY_NOT_FOUND');
      expectProblem(await post(`${base(bought.customer.id, `${bought.orderId}-9`)}/keys`, admin, {}), 404, 'SOFTWARE_NOT_FOUND');
      expectProblem(await post(`${base(bought.customer.id, `${bought.orderId}-5`)}/keys`, admin, {}), 404, 'SOFTWARE_NOT_FOUND');
    });
  });

  describe('who may use keys', () => {
    it('customer GlobalAdmin: its own server subscriptions only; every other role 403; a foreign customer 404', async () => {
      const bought = await purchase();
      const [datacenter, office] = bought.softwareIds;
      const id = bought.customer.id;
      const customerAdmin = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: id, sub: 'customer-admin' });
      const keyId = await generate(id, datacenter!, DATACENTER_CHOICES, customerAdmin);
      expect(await reveal(id, datacenter!, keyId, customerAdmin)).toMatch(MAK);
      expect((await post(`${base(id, datacenter!)}/downloads`, customerAdmin, DATACENTER_CHOICES)).status).toBe(200);
      expect((await post(`${base(id, datacenter!)}/download-links`, customerAdmin, DATACENTER_CHOICES)).status).toBe(201);
      expectProblem(await post(`${base(id, office!)}/keys`, customerAdmin, OFFICE_CHOICES), 403, 'FORBIDDEN');

      const other = await registerCustomer(app);
      const otherCustomerAdmin = await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: other.id });
      const customerReader = await app.token({ roles: ['AccountAdmin'], kind: 'customer', tenant: id });
      const refused = [
        otherCustomerAdmin,
        customerReader,
        await app.token({ roles: ['GlobalAdmin'] }),
        await app.token({ roles: ['BillingAdmin'] }),
        await app.token({ roles: ['AccountAdmin', 'ReferralAdmin', 'MarketingContentAdmin'] }),
        await app.token({ roles: ['AdminAgent'], kind: 'service' }),
      ];
      for (const token of refused) {
        expectProblem(await post(`${base(id, datacenter!)}/keys`, token, DATACENTER_CHOICES), 403, 'FORBIDDEN');
        expectProblem(await post(`${base(id, datacenter!)}/keys/${keyId}/reveal`, token), 403, 'FORBIDDEN');
        expectProblem(await post(`${base(id, datacenter!)}/downloads`, token, DATACENTER_CHOICES), 403, 'FORBIDDEN');
        expectProblem(await post(`${base(id, datacenter!)}/download-links`, token, DATACENTER_CHOICES), 403, 'FORBIDDEN');
      }
      for (const [path, body] of [
        [`${base(id, datacenter!)}/keys`, DATACENTER_CHOICES],
        [`${base(id, datacenter!)}/keys/${keyId}/reveal`, {}],
        [`${base(id, datacenter!)}/downloads`, DATACENTER_CHOICES],
        [`${base(id, datacenter!)}/download-links`, DATACENTER_CHOICES],
      ] as const) {
        expectProblem(await post(path, otherPartnerAdmin, body), 404, 'UNKNOWN_CUSTOMER');
      }
    });
  });

  describe('downloads and shareable links', () => {
    it('starts a download: a signed address that serves the bits and is not a link use', async () => {
      const bought = await purchase();
      const office = bought.softwareIds[1]!;
      const started = await post(`${base(bought.customer.id, office)}/downloads`, admin, OFFICE_CHOICES);
      expect(started.status).toBe(200);
      expect(Object.keys(started.body)).toEqual(['downloadUrl']);
      const file = await app.http().get(linkPath(started.body.downloadUrl)).buffer(true);
      expect(file.status).toBe(200);
      expect(file.headers['content-type']).toBe('application/octet-stream');
      expect(file.headers['content-disposition']).toBe(`attachment; filename="${'office-ltsc-professional-plus-2021'}-2021-de-de-x86.img"`);
      expect(file.body.subarray(0, 60).toString('utf8')).toContain('product: office-ltsc-professional-plus-2021');
      const again = await app.http().get(started.body.downloadUrl).buffer(true);
      expect(Buffer.compare(again.body, file.body)).toBe(0);
      const uses = (await app.events()).filter((event) => event.type === 'DownloadLinkUsed' && event.data['softwareId'] === office);
      expect(uses).toHaveLength(0);
      app.clock.advanceMs(15 * 60 * 1000);
      expectProblem(await app.http().get(started.body.downloadUrl), 410, 'LINK_EXPIRED');
    });

    it('issues a link valid for 14 days: 201 { url, expiresAt }, served without a login, expired at exactly 14 days', async () => {
      const bought = await purchase();
      const datacenter = bought.softwareIds[0]!;
      const issuedAt = app.clock.now();
      const issued = await post(`${base(bought.customer.id, datacenter)}/download-links`, admin, DATACENTER_CHOICES);
      expect(issued.status).toBe(201);
      expect(issued.body).toEqual({ url: expect.any(String), expiresAt: addDays(issuedAt, 14) });
      const url = linkPath(issued.body.url);
      const used = await app.http().get(url).buffer(true);
      expect(used.status).toBe(200);
      expect(used.headers['content-disposition']).toBe(`attachment; filename="${catalogueEntry(SKU.datacenter1y).productId}-2022-en-us-x64.iso"`);
      logPosition(used);

      app.clock.advanceMs(14 * 24 * 3600 * 1000 - 1);
      expect((await app.http().get(url)).status).toBe(200);
      app.clock.advanceMs(1);
      expectProblem(await app.http().get(url), 410, 'LINK_EXPIRED');
    });

    it('answers 404 LINK_NOT_FOUND for a token it did not sign or that was altered', async () => {
      const bought = await purchase();
      const issued = await post(`${base(bought.customer.id, bought.softwareIds[0]!)}/download-links`, admin, DATACENTER_CHOICES);
      const [payload, signature] = (issued.body.url as string).slice('/v1/downloads/'.length).split('.') as [string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const forged = Buffer.from(JSON.stringify({ ...claims, linkId: 'another' }), 'base64url').toString('base64url');
      expectProblem(await app.http().get(`/v1/downloads/${forged}.${signature}`), 404, 'LINK_NOT_FOUND');
      const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
      expectProblem(await app.http().get(`/v1/downloads/${payload}.${flipped}`), 404, 'LINK_NOT_FOUND');
      expectProblem(await app.http().get('/v1/downloads/not-a-token'), 404, 'LINK_NOT_FOUND');
    });

    it('expires a link at its 50th use', async () => {
      const bought = await purchase();
      const issued = await post(`${base(bought.customer.id, bought.softwareIds[1]!)}/download-links`, admin, OFFICE_CHOICES);
      for (let use = 1; use <= 50; use++) expect((await app.http().get(issued.body.url)).status).toBe(200);
      const refused = await app.http().get(issued.body.url);
      expectProblem(refused, 410, 'LINK_EXPIRED');
      expect(refused.body).toMatchObject({ uses: 50, maxUses: 50 });
    });

    it('counts exactly: 60 concurrent uses of one fresh link give exactly 50 successes', async () => {
      const bought = await purchase();
      const issued = await post(`${base(bought.customer.id, bought.softwareIds[0]!)}/download-links`, admin, DATACENTER_CHOICES);
      const responses = await Promise.all(Array.from({ length: 60 }, () => app.http().get(issued.body.url)));
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(50);
      expect(statuses.filter((status) => status === 410)).toHaveLength(10);
      const linkId = (await app.events()).find((event) => event.type === 'DownloadLinkIssued' && event.data['softwareId'] === bought.softwareIds[0])!.data['linkId'];
      const uses = (await app.events()).filter((event) => event.type === 'DownloadLinkUsed' && event.data['linkId'] === linkId);
      expect(uses.map((event) => event.data['useNumber']).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
    });
  });

  describe('revocation after cancellation', () => {
    it('a cancelled subscription: reveal, generate, downloads and links answer 410 REVOKED; the item stays listed without key', async () => {
      const bought = await purchase();
      const datacenter = bought.softwareIds[0]!;
      const id = bought.customer.id;
      const keyId = await generate(id, datacenter, DATACENTER_CHOICES);
      const link = await post(`${base(id, datacenter)}/download-links`, admin, DATACENTER_CHOICES);
      const started = await post(`${base(id, datacenter)}/downloads`, admin, DATACENTER_CHOICES);
      const cancelled = await app.http().patch(`/v1/customers/${id}/subscriptions/${datacenter}`).set('Authorization', admin).send({ status: 'cancelled' });
      expect(cancelled.status).toBe(200);

      expectProblem(await post(`${base(id, datacenter)}/keys/${keyId}/reveal`, admin), 410, 'REVOKED');
      expectProblem(await post(`${base(id, datacenter)}/keys`, admin, DATACENTER_CHOICES), 410, 'REVOKED');
      expectProblem(await post(`${base(id, datacenter)}/downloads`, admin, DATACENTER_CHOICES), 410, 'REVOKED');
      expectProblem(await post(`${base(id, datacenter)}/download-links`, admin, DATACENTER_CHOICES), 410, 'REVOKED');
      expectProblem(await app.http().get(link.body.url), 410, 'REVOKED');
      expectProblem(await app.http().get(started.body.downloadUrl), 410, 'REVOKED');

      const listed = await get(app, `/v1/customers/${id}/software`, admin, logPosition(cancelled));
      expect(listed.body.items.find((item: { id: string }) => item.id === datacenter)).toMatchObject({ status: 'cancelled', keyAvailable: false });
    });

    it('a cancelled perpetual line: 410 REVOKED, listed as cancelled without key; the other lines keep their keys', async () => {
      const bought = await purchase();
      const [datacenter, office] = bought.softwareIds;
      const id = bought.customer.id;
      const officeKey = await generate(id, office!, OFFICE_CHOICES);
      const datacenterKey = await generate(id, datacenter!, DATACENTER_CHOICES);
      const cancelled = await app.http().patch(`/v1/customers/${id}/orders/${bought.orderId}`).set('Authorization', admin).send({ status: 'cancelled' });
      expect(cancelled.status).toBe(200);
      expectProblem(await post(`${base(id, office!)}/keys/${officeKey}/reveal`, admin), 410, 'REVOKED');
      expect(await reveal(id, datacenter!, datacenterKey)).toMatch(MAK);
      const listed = await get(app, `/v1/customers/${id}/software`, admin, logPosition(cancelled));
      expect(listed.body.items.find((item: { id: string }) => item.id === office)).toMatchObject({ status: 'cancelled', keyAvailable: false });
    });
  });

  describe('keys at rest', () => {
    it('keeps no key text in any file under DATA_DIR after a reveal, with or without dashes', async () => {
      const bought = await purchase();
      const productKey = await reveal(bought.customer.id, bought.softwareIds[0]!, await generate(bought.customer.id, bought.softwareIds[0]!, DATACENTER_CHOICES));
      // Let the projections fold the reveal, so their files hold whatever they would ever hold.
      await activity({}, compliance, logPosition(await post(`${base(bought.customer.id, bought.softwareIds[0]!)}/downloads`, admin, DATACENTER_CHOICES)));
      const files = filesUnder(app.dataDir);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const bytes = readFileSync(file);
        for (const text of [productKey, productKey.replace(/-/g, '')]) {
          for (const encoding of ['utf8', 'utf16le'] as const) expect({ file, found: bytes.includes(Buffer.from(text, encoding)) }).toEqual({ file, found: false });
        }
      }
      const generated = (await app.events()).filter((event) => event.type === 'KeyGenerated');
      for (const event of generated) expect(isEncryptedField(event.data['productKey'])).toBe(true);
    });

    it('after cancellation no key in the log can be decrypted any more, even after rebuilding every projection', async () => {
      const bought = await purchase();
      const datacenter = bought.softwareIds[0]!;
      const productKey = await reveal(bought.customer.id, datacenter, await generate(bought.customer.id, datacenter, DATACENTER_CHOICES));
      const db = app.app.get<ReadModelDb>(READ_MODEL_DB);
      const masterKey = readFileSync(join(app.dataDir, 'dev-key-encryption-key'), 'utf8').trim();
      const envelope = (await app.events()).find((event) => event.type === 'KeyGenerated' && event.data['softwareId'] === datacenter)!.data['productKey'];
      if (!isEncryptedField(envelope)) throw new Error('the stored key is not an encrypted field');
      const liveRow = await db.selectFrom('data_keys').selectAll().where('software_id', '=', datacenter).executeTakeFirstOrThrow();
      expect(decryptField(envelope, unwrapDataKey(liveRow.wrapped_key!, Buffer.from(masterKey, 'base64')), datacenter)).toBe(productKey);

      const cancelled = await app.http().patch(`/v1/customers/${bought.customer.id}/subscriptions/${datacenter}`).set('Authorization', admin).send({ status: 'cancelled' });
      expect(cancelled.status).toBe(200);
      await get(app, `/v1/customers/${bought.customer.id}/software`, admin, logPosition(cancelled));
      const operations = new ProjectionOperations(app.eventStore, db, projectionRegistry);
      for (const projection of projectionRegistry) await operations.rebuild(projection.name);

      const shredded = await db.selectFrom('data_keys').selectAll().where('software_id', '=', datacenter).executeTakeFirstOrThrow();
      expect(shredded).toMatchObject({ wrapped_key: null, destroyed_at: expect.any(String) });
      const survivors = await db.selectFrom('data_keys').select('wrapped_key').where('wrapped_key', 'is not', null).execute();
      for (const { wrapped_key } of survivors) {
        const dataKey = unwrapDataKey(wrapped_key!, Buffer.from(masterKey, 'base64'));
        expect(() => decryptField(envelope, dataKey, datacenter)).toThrow();
      }
      expectProblem(await post(`${base(bought.customer.id, datacenter)}/keys/any/reveal`, admin), 410, 'REVOKED');
    });
  });

  describe('GET /v1/activity-log', () => {
    it('records every reveal, download, link issued and link used exactly once, also when a request is retried with its Idempotency-Key', async () => {
      const bought = await purchase();
      const id = bought.customer.id;
      const datacenter = bought.softwareIds[0]!;
      const keyId = await generate(id, datacenter, DATACENTER_CHOICES);
      const path = `${base(id, datacenter)}/keys/${keyId}/reveal`;
      const revealedAt = app.clock.now();
      const first = await post(path, admin, {}, 'reveal-once');
      const retried = await post(path, admin, {}, 'reveal-once');
      expect(retried.status).toBe(200);
      expect(retried.body.productKey).toBe(first.body.productKey);
      app.clock.advanceMs(1000);
      const startedAt = app.clock.now();
      const started = await post(`${base(id, datacenter)}/downloads`, admin, DATACENTER_CHOICES, 'download-once');
      expect((await post(`${base(id, datacenter)}/downloads`, admin, DATACENTER_CHOICES, 'download-once')).body).toEqual(started.body);
      app.clock.advanceMs(1000);
      const issuedAt = app.clock.now();
      const link = await post(`${base(id, datacenter)}/download-links`, admin, DATACENTER_CHOICES, 'link-once');
      expect((await post(`${base(id, datacenter)}/download-links`, admin, DATACENTER_CHOICES, 'link-once')).body).toEqual(link.body);
      app.clock.advanceMs(1000);
      const usedAt = app.clock.now();
      const used = await app.http().get(link.body.url);
      await app.http().get(started.body.downloadUrl);

      const response = await activity({ customerId: id }, compliance, logPosition(used));
      expect(response.status).toBe(200);
      const linkId = JSON.parse(Buffer.from((link.body.url as string).slice('/v1/downloads/'.length).split('.')[0]!, 'base64url').toString('utf8')).linkId;
      const common = { customerId: id, softwareId: datacenter, productTitle: catalogueEntry(SKU.datacenter1y).title, id: expect.any(String) };
      const agent = { userId: 'agent-7', userName: 'Ada Agent' };
      expect(response.body.items).toEqual([
        { ...common, ...agent, action: 'key_revealed', occurredAt: revealedAt },
        { ...common, ...agent, action: 'download_started', occurredAt: startedAt },
        { ...common, ...agent, action: 'download_link_issued', occurredAt: issuedAt },
        { ...common, action: 'download_link_used', userId: `link:${linkId}`, occurredAt: usedAt },
      ]);
      expect(response.body.items).toHaveLength(4);
      expect(response.body.totalCount).toBe(4);
    });

    it('filters by date range (endDate exclusive, bare dates at midnight UTC), user and action, and pages', async () => {
      const bought = await purchase();
      const id = bought.customer.id;
      const datacenter = bought.softwareIds[0]!;
      const keyId = await generate(id, datacenter, DATACENTER_CHOICES);
      const day = app.clock.now().slice(0, 10);
      let last: request.Response | undefined;
      for (let index = 0; index < 3; index++) last = await post(`${base(id, datacenter)}/keys/${keyId}/reveal`, admin);
      const at = app.clock.now();
      const position = logPosition(last!);
      expect((await activity({ customerId: id, startDate: at, endDate: new Date(Date.parse(at) + 1).toISOString() }, compliance, position)).body.items).toHaveLength(3);
      expect((await activity({ customerId: id, startDate: day, endDate: day }, compliance, position)).status).toBe(400);
      expect((await activity({ customerId: id, startDate: '2020-01-01', endDate: at }, compliance, position)).body.items).toHaveLength(0);
      expect((await activity({ customerId: id, userId: 'someone-else' }, compliance, position)).body.items).toHaveLength(0);
      expect((await activity({ customerId: id, action: 'download_started' }, compliance, position)).body.items).toHaveLength(0);
      const firstPage = await activity({ customerId: id, action: 'key_revealed', size: '2' }, compliance, position);
      expect(firstPage.body.items).toHaveLength(2);
      expect(firstPage.body.totalCount).toBe(3);
      const secondPage = await activity({ customerId: id, action: 'key_revealed', size: '2', continuationToken: firstPage.body.continuationToken }, compliance, position);
      expect(secondPage.body.items).toHaveLength(1);
      expect(secondPage.body.continuationToken).toBeUndefined();
      expect(new Set([...firstPage.body.items, ...secondPage.body.items].map((item: { id: string }) => item.id)).size).toBe(3);
    });

    it('exports CSV with Accept: text/csv', async () => {
      const bought = await purchase();
      const id = bought.customer.id;
      const keyId = await generate(id, bought.softwareIds[1]!, OFFICE_CHOICES);
      const revealed = await post(`${base(id, bought.softwareIds[1]!)}/keys/${keyId}/reveal`, admin);
      const search = new URLSearchParams({ startDate: '2026-01-01', endDate: '2027-01-01', customerId: id });
      const csv = await app.http().get(`/v1/activity-log?${search.toString()}`).set('Authorization', compliance).set('Accept', 'text/csv').set('X-Min-Position', logPosition(revealed));
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const lines = csv.text.trim().split(/\r?\n/);
      expect(lines[0]).toBe('id,occurredAt,userId,userName,customerId,softwareId,productTitle,action');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toContain(`,${app.clock.now()},agent-7,Ada Agent,${id},${bought.softwareIds[1]},`);
      expect(lines[1]!.endsWith(',key_revealed')).toBe(true);
    });

    it('exports the same rows from the compliance CLI: activity-log export --from --to --customer', async () => {
      const bought = await purchase();
      const id = bought.customer.id;
      const datacenter = bought.softwareIds[0]!;
      const keyId = await generate(id, datacenter, DATACENTER_CHOICES);
      await post(`${base(id, datacenter)}/keys/${keyId}/reveal`, admin);
      const link = await post(`${base(id, datacenter)}/download-links`, admin, DATACENTER_CHOICES);
      const used = await app.http().get(link.body.url);
      // Earlier tests move the shared clock on: the range is around now, a bare date for the API, instants for the CLI.
      const day = app.clock.now().slice(0, 10);
      const nextDay = new Date(Date.parse(`${day}T00:00:00Z`) + 24 * 3600 * 1000).toISOString();
      const search = new URLSearchParams({ startDate: day, endDate: nextDay, customerId: id });
      const api = await app.http().get(`/v1/activity-log?${search.toString()}`).set('Authorization', compliance).set('Accept', 'text/csv').set('X-Min-Position', logPosition(used));
      let out = '';
      await buildCli({ env: app.env, stdout: (text) => (out += text), stderr: () => undefined }).parseAsync([
        'node', 'csp', 'activity-log', 'export', '--from', `${day}T00:00:00Z`, '--to', nextDay, '--customer', id.toUpperCase(),
      ]);
      expect(out).toBe(api.text);
      expect(out.trim().split(/\r?\n/)).toHaveLength(4);
      expect(out).toContain(',download_link_used');
    });

    it('is readable by partner GlobalAdmin, AccountAdmin, ReferralAdmin and MarketingContentAdmin only; startDate and endDate are required', async () => {
      for (const role of ['GlobalAdmin', 'AccountAdmin', 'ReferralAdmin', 'MarketingContentAdmin'] as const) {
        expect((await activity({}, await app.token({ roles: [role] }))).status).toBe(200);
      }
      const customer = await registerCustomer(app);
      for (const token of [
        admin,
        await app.token({ roles: ['BillingAdmin'] }),
        await app.token({ roles: ['GlobalAdmin'], kind: 'customer', tenant: customer.id }),
        await app.token({ roles: ['GlobalAdmin', 'AccountAdmin'], kind: 'service' }),
      ]) {
        expectProblem(await activity({}, token), 403, 'FORBIDDEN');
      }
      expectProblem(await get(app, '/v1/activity-log?startDate=2026-01-01', compliance), 400, 'VALIDATION_FAILED');
      expectProblem(await get(app, '/v1/activity-log?endDate=2026-01-01', compliance), 400, 'VALIDATION_FAILED');
      expectProblem(await activity({ startDate: '2026-02-30' }), 400, 'VALIDATION_FAILED');
      expectProblem(await activity({ action: 'key_generated' }), 400, 'VALIDATION_FAILED');
    });

    it('shows a partner only its own customers\' activity', async () => {
      const bought = await purchase();
      const keyId = await generate(bought.customer.id, bought.softwareIds[0]!, DATACENTER_CHOICES);
      const revealed = await post(`${base(bought.customer.id, bought.softwareIds[0]!)}/keys/${keyId}/reveal`, admin);
      const otherReader = await app.token({ roles: ['GlobalAdmin'], tenant: 'partner-2' });
      const seen = await activity({}, otherReader, logPosition(revealed));
      expect(seen.body.items.filter((item: { customerId: string }) => item.customerId === bought.customer.id)).toEqual([]);
      expectProblem(await activity({ customerId: bought.customer.id }, otherReader), 404);
    });
  });
});
