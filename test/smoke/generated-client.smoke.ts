/**
 * A partner's integration as the README tells it to be built: types generated from docs/openapi.json
 * (openapi-typescript, `npm run openapi:write`), the openapi-fetch client over them, unchanged. Drives
 * the built service through a whole lifecycle: register, buy, list, switch autorenew off, cancel.
 * Type-checked by `npm run typecheck`; compiled and run by `npm run smoke`.
 */
import createClient from 'openapi-fetch';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { paths } from './generated/openapi-types';

const root = join(__dirname, '../../..');
let failed = 0;

function check(name: string, condition: boolean, detail: unknown): void {
  if (condition) {
    console.log(`  ok   ${name}`);
    return;
  }
  failed++;
  console.log(`  FAIL ${name}: ${JSON.stringify(detail)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(base: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the service did not come up within 30 s');
}

/** The token command as a person runs it: standard output carries the token and nothing else. */
function mintToken(env: NodeJS.ProcessEnv): string {
  const minted = spawnSync(process.execPath, [join(root, 'dist/apps/cli/src/main.js'), 'token', '--role', 'AdminAgent'], { env, encoding: 'utf8' });
  const token = minted.stdout;
  check('the token command prints only the token', minted.status === 0 && /^[\w-]+\.[\w-]+\.[\w-]+\n$/.test(token), { status: minted.status, stdout: token });
  return token.trim();
}

async function lifecycle(base: string, token: string): Promise<void> {
  const client = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token}` } });
  const customerId = randomUUID();

  const registered = await client.POST('/v1/customers', {
    body: { id: customerId, companyName: 'Generated Client GmbH', domain: `g${customerId.slice(0, 8)}.example`, country: 'de' },
  });
  check('registers a customer (country answered upper case)', registered.response.status === 201 && registered.data?.country === 'DE', registered.error ?? registered.data);

  const products = await client.GET('/v1/products', { params: { query: { country: 'DE' } } });
  const sku = products.data?.items.find((product) => product.skuId === 'windows-server-2022-standard-2core:P1Y');
  check('reads the catalogue with typed prices', sku !== undefined && Number.isInteger(sku.price.amount), products.error);

  const bought = await client.POST('/v1/customers/{customerId}/orders', {
    params: { path: { customerId } },
    body: { lineItems: [{ skuId: 'windows-server-2022-standard-2core:P1Y', quantity: 2, billingCycle: 'monthly', friendlyName: 'Generated file server' }] },
  });
  const subscriptionId = bought.data?.lineItems[0]?.subscriptionId;
  const position = bought.response.headers.get('x-log-position') ?? '';
  check('buys a subscription', bought.response.status === 201 && typeof subscriptionId === 'string' && position !== '', bought.error ?? bought.data);
  if (!subscriptionId) return;

  const listed = await client.GET('/v1/customers/{customerId}/subscriptions', {
    params: { path: { customerId }, header: { 'X-Min-Position': position } },
  });
  const listedOne = listed.data?.items.find((subscription) => subscription.id === subscriptionId);
  check('lists it after the write (X-Min-Position)', listed.data?.totalCount === 1 && listedOne?.autoRenewEnabled === true, listed.error ?? listed.data);

  const toggled = await client.PATCH('/v1/customers/{customerId}/subscriptions/{subscriptionId}', {
    params: { path: { customerId, subscriptionId } },
    body: { autoRenewEnabled: false },
  });
  check('switches autorenew off', toggled.data?.autoRenewEnabled === false, toggled.error ?? toggled.data);

  const cancelled = await client.PATCH('/v1/customers/{customerId}/subscriptions/{subscriptionId}', {
    params: { path: { customerId, subscriptionId } },
    body: { status: 'cancelled' },
  });
  check(
    'cancels within the window with a refund',
    cancelled.data?.status === 'cancelled' && Number.isInteger(cancelled.data.refund?.amount),
    cancelled.error ?? cancelled.data,
  );

  const again = await client.PATCH('/v1/customers/{customerId}/subscriptions/{subscriptionId}', {
    params: { path: { customerId, subscriptionId } },
    body: { status: 'cancelled' },
  });
  check('a second cancellation is a typed problem: 409 ALREADY_CANCELLED', again.response.status === 409 && again.error?.code === 'ALREADY_CANCELLED', again.error);
}

async function main(): Promise<void> {
  console.log('generated client (openapi-typescript + openapi-fetch) against the built service');
  const dataDir = mkdtempSync(join(tmpdir(), 'csp-generated-client-'));
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development', AUTH_JWT_SECRET: '', LOG_LEVEL: 'warn' };
  const service: ChildProcess = spawn(process.execPath, [join(root, 'dist/apps/api/src/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntilUp(base);
    await lifecycle(base, mintToken(env));
  } finally {
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (failed > 0) {
    console.log(`${failed} generated-client check(s) failed`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
