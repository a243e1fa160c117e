// Webhook delivery survives kill -9: the built service (which delivers webhooks, as the process that
// runs projections) is killed with SIGKILL while it is delivering a burst of purchases to a receiver
// on 127.0.0.1. After a restart on the same DATA_DIR every event of the feed reaches the receiver,
// in feed order; an event arrives twice only with the same `webhook-id` and the same body. Every
// delivery is verified with the `standardwebhooks` package. A correctness check, not a timed one.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { Webhook } from 'standardwebhooks';

const root = new URL('../../', import.meta.url).pathname;
const SECRET = 'webhooks-smoke-secret-that-is-long-enough-0123456789';
const PARTNER = 'partner-webhooks-smoke';
const PURCHASES = 40;
/** The kill comes once the receiver has this many deliveries, well before the burst's last one. */
const DELIVERIES_BEFORE_KILL = 25;
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

const token = (roles) =>
  new SignJWT({ tid: PARTNER, kind: 'partner', roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`smoke-${roles.join('-')}`)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));

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
      if ((await fetch(`${base}/health`)).status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`the service did not answer /health: ${output.slice(-500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, exited, base };
}

async function call(service, bearer, method, path, body) {
  const response = await fetch(`${service.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A receiver that verifies every delivery and answers after a few milliseconds, so deliveries are in flight when the kill comes. */
function startReceiver() {
  const receiver = { secret: undefined, deliveries: [], rejected: 0, server: undefined, url: '' };
  receiver.server = createHttpServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      new Webhook(receiver.secret).verify(body, request.headers);
    } catch {
      receiver.rejected++;
      response.writeHead(400).end();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
    receiver.deliveries.push({ webhookId: request.headers['webhook-id'], body });
    response.writeHead(204).end();
  });
  return new Promise((resolve) =>
    receiver.server.listen(0, '127.0.0.1', () => {
      receiver.url = `http://127.0.0.1:${receiver.server.address().port}/hooks`;
      resolve(receiver);
    }),
  );
}

async function feedFromStart(service, bearer) {
  const items = [];
  let after = '0';
  for (;;) {
    const page = await call(service, bearer, 'GET', `/v1/events?after=${after}&limit=100`);
    if (page.status !== 200) throw new Error(`feed: ${page.status} ${JSON.stringify(page.body)}`);
    if (page.body.items.length === 0) return items;
    items.push(...page.body.items);
    after = page.body.lastPosition;
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'csp-webhooks-smoke-'));
const env = {
  PORT: String(await freePort()),
  DATA_DIR: dataDir,
  NODE_ENV: 'development',
  AUTH_JWT_SECRET: SECRET,
  LOG_LEVEL: 'warn',
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_RETRY_BASE_MS: '100',
};
const receiver = await startReceiver();
let second;
try {
  console.log('smoke: webhook deliveries survive kill -9');
  const [admin, agent] = [await token(['GlobalAdmin']), await token(['AdminAgent'])];
  const first = await startService(env);
  const created = await call(first, admin, 'POST', '/v1/webhooks', { url: receiver.url });
  if (created.status !== 201) throw new Error(`webhook: ${created.status} ${JSON.stringify(created.body)}`);
  receiver.secret = created.body.secret;
  const customerId = crypto.randomUUID();
  await call(first, agent, 'POST', '/v1/customers', { id: customerId, companyName: 'Webhook Smoke', domain: 'webhook-smoke.example', country: 'DE' });

  let sending = true;
  let acknowledged = 0;
  const buyers = Array.from({ length: 8 }, async () => {
    while (sending && acknowledged < PURCHASES) {
      try {
        const answer = await call(first, agent, 'POST', `/v1/customers/${customerId}/orders`, {
          lineItems: [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'annual' }],
        });
        if (answer.status === 201) acknowledged++;
      } catch {
        return; // the connection died with the process
      }
    }
  });
  const deadline = Date.now() + 30_000;
  while (receiver.deliveries.length < DELIVERIES_BEFORE_KILL && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  first.child.kill('SIGKILL');
  const signal = await first.exited;
  sending = false;
  await Promise.all(buyers);
  const deliveredBeforeKill = receiver.deliveries.length;
  check('the delivering service was killed with SIGKILL mid-burst', signal === 'SIGKILL' && deliveredBeforeKill >= DELIVERIES_BEFORE_KILL, `exit ${signal}, ${deliveredBeforeKill} deliveries`);

  second = await startService(env);
  // The restarted service folds the log into the feed again from its checkpoint: read it once it stops growing.
  let feed = await feedFromStart(second, admin);
  for (let again = await feedFromStart(second, admin); again.length !== feed.length; again = await feedFromStart(second, admin)) {
    feed = again;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const feedIds = feed.map((event) => event.id);
  const settle = Date.now() + 30_000;
  const uniqueIds = () => new Set(receiver.deliveries.map((delivery) => delivery.webhookId));
  while (feedIds.some((id) => !uniqueIds().has(id)) && Date.now() < settle) await new Promise((resolve) => setTimeout(resolve, 50));

  check('the kill interrupted the deliveries (the feed holds more than had arrived)', feed.length > deliveredBeforeKill, `${feed.length} events, ${deliveredBeforeKill} delivered before the kill`);
  const missing = feedIds.filter((id) => !uniqueIds().has(id));
  check(`after the restart every one of the ${feed.length} feed events was delivered`, missing.length === 0, `missing ${missing.length}: ${missing.slice(0, 3).join(', ')}`);
  const firstArrivals = [...uniqueIds()];
  check('first arrivals are in feed order, nothing outside the feed', JSON.stringify(firstArrivals) === JSON.stringify(feedIds), `${firstArrivals.length} arrivals vs ${feedIds.length} feed events`);
  const bodies = new Map();
  const mismatched = receiver.deliveries.filter(({ webhookId, body }) => {
    if (JSON.parse(body).id !== webhookId) return true;
    if (!bodies.has(webhookId)) bodies.set(webhookId, body);
    return bodies.get(webhookId) !== body;
  });
  const duplicates = receiver.deliveries.length - uniqueIds().size;
  check(`duplicates (${duplicates}) only repeat a webhook-id with the same body`, mismatched.length === 0, `${mismatched.length} differ`);
  check('every delivery verified with standardwebhooks', receiver.rejected === 0, `${receiver.rejected} rejected`);
  const feedBodies = new Map(feed.map((event) => [event.id, event]));
  check(
    'each delivered body is the feed item',
    [...bodies].every(([id, body]) => JSON.stringify(JSON.parse(body)) === JSON.stringify(feedBodies.get(id))),
    'a body differs from its feed item',
  );
} catch (error) {
  failed++;
  console.log(`  FAIL ${error instanceof Error ? error.message : String(error)}`);
} finally {
  if (second) {
    second.child.kill('SIGTERM');
    await second.exited;
  }
  receiver.server.closeAllConnections();
  receiver.server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
