// Durability of acknowledged commands: the built service is killed with SIGKILL (no shutdown hook
// runs) in the middle of a burst of concurrent registrations and purchases. After a restart on the
// same DATA_DIR, every command that was answered 2xx must be in the log file and in its read models
// (the customer, the order and its subscription answer at the position the command reported).
// A correctness check, not a timed one.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The service prints its development token just after it starts listening: /health may answer first.
const TOKEN_PRINTED = /Development AdminAgent token[^\n]*\n\S+\n/;

const root = new URL('../../', import.meta.url).pathname;
const CLIENTS = 32;
/** The kill comes once the burst has this many acknowledged purchases (or after BURST_LIMIT_MS on a very slow machine). */
const PURCHASES_BEFORE_KILL = 40;
const BURST_LIMIT_MS = 20_000;
let passed = 0;
let failed = 0;

function check(name, condition, detail) {
  if (condition) {
    passed++;
    console.log(`  ok   ${name}`);
  } else {
    failed++;
    console.log(`  FAIL ${name}: ${detail}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startService(env) {
  const child = spawn(process.execPath, [join(root, 'dist/apps/api/src/main.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const base = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited: ${output.slice(-500)}`);
    try {
      if ((await fetch(`${base}/health`)).status === 200 && TOKEN_PRINTED.test(output)) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`the service did not answer /health: ${output.slice(-500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const token = /Development AdminAgent token[^\n]*\n(\S+)/.exec(output)?.[1];
  return { child, exited, base, token };
}

async function call(service, method, path, body, headers = {}) {
  const response = await fetch(`${service.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${service.token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, position: response.headers.get('x-log-position'), body: text ? JSON.parse(text) : undefined };
}

const dataDir = mkdtempSync(join(tmpdir(), 'csp-durability-'));
const env = { PORT: String(await freePort()), DATA_DIR: dataDir, NODE_ENV: 'development', AUTH_JWT_SECRET: '', LOG_LEVEL: 'warn' };
let second;
try {
  console.log('smoke: acknowledged commands survive kill -9');
  const first = await startService(env);
  const customers = [];
  for (let index = 0; index < 4; index++) {
    const id = crypto.randomUUID();
    const answer = await call(first, 'POST', '/v1/customers', { id, companyName: `Durable ${index}`, domain: `durable${index}.example`, country: 'DE' });
    if (answer.status === 201) customers.push({ id, position: answer.position });
  }
  const purchases = [];
  let sending = true;
  let answeredWhileRunning = 0;
  const clients = Array.from({ length: CLIENTS }, async (_, client) => {
    for (let index = 0; sending; index++) {
      try {
        // A quarter of the clients register customers, the others buy for customers already acknowledged.
        if (client % 4 === 0) {
          const id = crypto.randomUUID();
          const answer = await call(first, 'POST', '/v1/customers', { id, companyName: `Durable ${client}-${index}`, domain: `d${client}x${index}.example`, country: 'DE' });
          if (answer.status >= 200 && answer.status < 300) customers.push({ id, position: answer.position });
        } else {
          const customer = customers[index % customers.length];
          const answer = await call(first, 'POST', `/v1/customers/${customer.id}/orders`, {
            lineItems: [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'monthly' }],
          });
          if (answer.status >= 200 && answer.status < 300) {
            purchases.push({ customerId: customer.id, orderId: answer.body.id, subscriptionId: answer.body.lineItems[0].subscriptionId, position: answer.position });
          }
        }
        answeredWhileRunning++;
      } catch {
        return; // the connection died with the process
      }
    }
  });
  const burstEnds = Date.now() + BURST_LIMIT_MS;
  while (purchases.length < PURCHASES_BEFORE_KILL && Date.now() < burstEnds) await new Promise((resolve) => setTimeout(resolve, 20));
  first.child.kill('SIGKILL');
  const signal = await first.exited;
  sending = false;
  await Promise.all(clients);
  check('the service was killed with SIGKILL during the burst', signal === 'SIGKILL' && answeredWhileRunning > 0, `exit ${signal}, ${answeredWhileRunning} answers`);
  check('the burst acknowledged registrations and purchases', customers.length > 0 && purchases.length > 0, `${customers.length} customers, ${purchases.length} purchases`);

  // The log file itself, before any process opens it again: every acknowledged stream is there.
  const log = new Database(join(dataDir, 'events.db'), { readonly: true });
  const hasStream = log.prepare('SELECT count(*) AS events FROM events WHERE stream_name = ?');
  const missingInLog = [
    ...customers.filter(({ id }) => hasStream.get(`customer-${id}`).events === 0).map(({ id }) => `customer-${id}`),
    ...purchases.flatMap(({ orderId, subscriptionId }) =>
      [`order-${orderId}`, `subscription-${subscriptionId}`].filter((stream) => hasStream.get(stream).events === 0),
    ),
  ];
  log.close();
  check(`all ${customers.length + purchases.length * 2} acknowledged streams are in the log file`, missingInLog.length === 0, `missing: ${missingInLog.slice(0, 5).join(', ')}`);

  second = await startService(env);
  const missingInReadModels = [];
  for (const { id, position } of customers) {
    const answer = await call(second, 'GET', `/v1/customers/${id}`, undefined, { 'x-min-position': position });
    if (answer.status !== 200) missingInReadModels.push(`customer ${id}: ${answer.status}`);
  }
  for (const { customerId, orderId, subscriptionId, position } of purchases) {
    const order = await call(second, 'GET', `/v1/customers/${customerId}/orders/${orderId}`, undefined, { 'x-min-position': position });
    if (order.status !== 200) missingInReadModels.push(`order ${orderId}: ${order.status}`);
    const subscription = await call(second, 'GET', `/v1/customers/${customerId}/subscriptions/${subscriptionId}`, undefined, { 'x-min-position': position });
    if (subscription.status !== 200 || subscription.body.status !== 'active') missingInReadModels.push(`subscription ${subscriptionId}: ${subscription.status}`);
  }
  check('after a restart every acknowledged customer, order and subscription answers from the read models', missingInReadModels.length === 0, missingInReadModels.slice(0, 5).join('; '));
} catch (error) {
  failed++;
  console.log(`  FAIL ${error instanceof Error ? error.message : String(error)}`);
} finally {
  if (second) {
    second.child.kill('SIGTERM');
    await second.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
