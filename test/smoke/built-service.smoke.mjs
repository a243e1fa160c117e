// Smoke check of what `npm start` runs: the built service (dist/, path aliases rewritten), started
// as its own process on the embedded default, and again on EventStoreDB through the project's
// EventStoreDB-protocol test server, both started the way the README says.
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The service prints its development token just after it starts listening: /health may answer first.
const TOKEN_PRINTED = /Development AdminAgent token[^\n]*\n\S+\n/;

const root = new URL('../../', import.meta.url).pathname;
const children = [];
let passed = 0;
let failed = 0;

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

function start(script, args, env) {
  const child = spawn(process.execPath, [join(root, script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  children.push(child);
  return { child, output: () => output };
}

async function waitFor(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function call(base, token, method, path, body, headers = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, position: response.headers.get('x-log-position'), body: await response.json() };
}

/** The exit code, or 'still running' (and the process killed) after `ms`: a hang must fail, not stall the run. */
function exitWithin(child, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('still running');
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function check(name, condition, detail) {
  if (condition) {
    passed++;
    console.log(`  ok   ${name}`);
  } else {
    failed++;
    console.log(`  FAIL ${name}: ${detail}`);
  }
}

/** The nice value of each of a process's threads, from /proc (field 19 of a task's stat). */
function threadNiceness(pid) {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return { tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
  });
}

async function lifecycleOverHttp(label, env, { projectionWorker = false } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'csp-smoke-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = start('dist/apps/api/src/main.js', [], { ...env, PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development', AUTH_JWT_SECRET: '', LOG_LEVEL: 'warn' });
  try {
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200 && TOKEN_PRINTED.test(api.output()), `${label}: /health and the token`);
    const token = /Development AdminAgent token[^\n]*\n(\S+)/.exec(api.output())?.[1];
    check(`${label}: prints a ready AdminAgent token`, Boolean(token), api.output().slice(-500));
    const customerId = '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
    const registered = await call(base, token, 'POST', '/v1/customers', { id: customerId, companyName: 'Smoke', domain: 'smoke.example', country: 'DE' });
    check(`${label}: registers a customer`, registered.status === 201 && registered.position, JSON.stringify(registered));
    const order = await call(base, token, 'POST', `/v1/customers/${customerId}/orders`, {
      lineItems: [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'annual' }],
    });
    const subscriptionId = order.body.lineItems?.[0]?.subscriptionId;
    check(`${label}: buys a subscription`, order.status === 201 && subscriptionId, JSON.stringify(order.body));
    const list = await call(base, token, 'GET', `/v1/customers/${customerId}/subscriptions`, undefined, { 'x-min-position': order.position });
    check(`${label}: lists it at the purchase position`, list.status === 200 && list.body.items?.[0]?.id === subscriptionId, JSON.stringify(list.body));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const series = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    check(
      `${label}: /metrics counts the live projection batches that folded the registration and the purchase, each timed`,
      series('projection_batch_events_sum') >= 2 &&
        series('projection_batch_events_count') >= 1 &&
        series('projection_visible_after_seconds_count') === series('projection_batch_events_count') &&
        series('projection_batch_fold_seconds_sum') > 0,
      metrics.split('\n').filter((line) => line.startsWith('projection_')).join('\n'),
    );
    const cancelled = await call(base, token, 'PATCH', `/v1/customers/${customerId}/subscriptions/${subscriptionId}`, { status: 'cancelled' });
    check(`${label}: cancels it with a refund`, cancelled.status === 200 && cancelled.body.refund?.amount > 0, JSON.stringify(cancelled.body));
    if (projectionWorker) {
      const threads = threadNiceness(api.child.pid);
      const requestThread = threads.find((thread) => thread.tid === api.child.pid);
      const below = threads.filter((thread) => thread.nice === Math.min(19, requestThread.nice + 10));
      const others = threads.filter((thread) => thread.nice !== requestThread.nice && !below.includes(thread));
      check(`${label}: with PROJECTION_WORKER_NICE=10 the projection worker alone runs 10 nice levels below the requests`, below.length === 1 && others.length === 0, JSON.stringify(threads));
    }
  } finally {
    api.child.kill('SIGTERM');
    await new Promise((resolve) => api.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function refusesProductionWithoutSecret() {
  const dataDir = mkdtempSync(join(tmpdir(), 'csp-smoke-'));
  // An empty secret counts as none, also when the calling environment has one. The key-encryption
  // key is given, so the refusal can only come from the missing JWT secret.
  const api = start('dist/apps/api/src/main.js', [], {
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: '',
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
  });
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve('still running'), 15_000);
    api.child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  check('production without AUTH_JWT_SECRET refuses to start', code !== 0 && code !== 'still running' && /AUTH_JWT_SECRET/.test(api.output()), `exit ${code}: ${api.output().slice(-300)}`);
  rmSync(dataDir, { recursive: true, force: true });
}

/** A start whose read store is gone, with a backlog too small for a catch-up thread: the projection worker folds it and the service answers all of it. */
async function startsOnAnEmptyReadStore({ dataDir, base, env, acknowledged }) {
  for (const file of ['read-models.db', 'read-models.db-wal', 'read-models.db-shm']) rmSync(join(dataDir, file), { force: true });
  const third = start('dist/apps/api/src/main.js', [], { ...env, LOG_LEVEL: 'info' });
  try {
    await waitFor(async () => (await fetch(`${base}/health/ready`)).status === 200 && TOKEN_PRINTED.test(third.output()), 'empty read store: ready');
    check('empty read store, a small log: the projection worker folds it without a catch-up thread', !/caught up with the log in/.test(third.output()), third.output().slice(-800));
    const token = /Development AdminAgent token[^\n]*\n(\S+)/.exec(third.output())?.[1];
    let missing = 0;
    for (const [id] of acknowledged) {
      if ((await call(base, token, 'GET', `/v1/customers/${id}`)).status !== 200) missing++;
    }
    check(`empty read store: all ${acknowledged.length} registrations answer from the rebuilt read models`, acknowledged.length > 0 && missing === 0, `${missing} missing`);
  } finally {
    third.child.kill('SIGTERM');
    await new Promise((resolve) => third.child.once('exit', resolve));
  }
}

/** The names of a process's threads, from /proc. */
function threadNames(pid) {
  return readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
}

/**
 * A start on a log of 60,000 events and no read store folds them in a catch-up thread that ends
 * before the service answers; the projection worker then follows the log from its head.
 */
async function foldsABacklogInACatchUpThread() {
  const work = mkdtempSync(join(tmpdir(), 'csp-smoke-backlog-'));
  try {
    const made = spawnSync(process.execPath, [join(root, 'test/bench/log-fixture.mjs'), '--dir', work, '--events', '60000'], { encoding: 'utf8' });
    const { dataDir } = JSON.parse(made.stdout.trim().split('\n').at(-1));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development', AUTH_JWT_SECRET: '', LOG_LEVEL: 'info' };
    const api = start('dist/apps/api/src/main.js', [], env);
    try {
      await waitFor(async () => (await fetch(`${base}/health/ready`)).status === 200 && TOKEN_PRINTED.test(api.output()), 'a backlog: ready', 120_000);
      check('a backlog: the start says it caught up in a thread of its own', /caught up with the log in [\d.]+ s, in a thread of its own that has ended/.test(api.output()), api.output().slice(-800));
      const threads = threadNames(api.child.pid);
      check(
        'a backlog: once ready, the catch-up thread has ended and one projection worker follows the log',
        !threads.includes('csp-catch-up') && threads.filter((name) => name === 'csp-projections').length === 1,
        JSON.stringify(threads),
      );
    } finally {
      api.child.kill('SIGTERM');
      await new Promise((resolve) => api.child.once('exit', resolve));
    }
    const status = spawnSync(process.execPath, [join(root, 'dist/apps/cli/src/main.js'), 'projections', 'status', '--json'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const projections = JSON.parse(status.stdout);
    check(
      'a backlog: every projection stands at the head of the log, current',
      projections.length > 0 && projections.every((projection) => projection.eventsBehind === 0 && projection.state === 'current' && projection.position !== null),
      status.stdout.slice(0, 800),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function stopsUnderLoadLosingNothing() {
  const dataDir = mkdtempSync(join(tmpdir(), 'csp-smoke-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development', AUTH_JWT_SECRET: '', LOG_LEVEL: 'warn' };
  const first = start('dist/apps/api/src/main.js', [], env);
  const acknowledged = [];
  try {
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200 && TOKEN_PRINTED.test(first.output()), 'stop under load: /health and the token');
    const token = /Development AdminAgent token[^\n]*\n(\S+)/.exec(first.output())?.[1];
    let sending = true;
    // Busy keep-alive clients: registrations whose 201 must survive, and reads that keep the connections busy.
    const clients = Array.from({ length: 8 }, async (_, client) => {
      for (let index = 0; sending; index++) {
        try {
          const id = crypto.randomUUID();
          const answer = await call(base, token, 'POST', '/v1/customers', { id, companyName: `Load ${client}-${index}`, domain: `l${client}x${index}.example`, country: 'DE' });
          if (answer.status === 201) acknowledged.push([id, answer.position]);
          await fetch(`${base}/v1/products?country=DE`, { headers: { authorization: `Bearer ${token}` } });
        } catch {
          return; // the server closed the connection: the client stops
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const exitCode = await exitWithin(first.child, 15_000);
    const stoppedInMs = Date.now() - signalled;
    sending = false;
    await Promise.all(clients);
    check('stop under load: SIGTERM exits cleanly and promptly', exitCode === 0 && stoppedInMs < 12_000, `exit ${exitCode} after ${stoppedInMs} ms`);

    const second = start('dist/apps/api/src/main.js', [], env);
    try {
      await waitFor(async () => (await fetch(`${base}/health`)).status === 200 && TOKEN_PRINTED.test(second.output()), 'stop under load: restart');
      const token2 = /Development AdminAgent token[^\n]*\n(\S+)/.exec(second.output())?.[1];
      let missing = 0;
      for (const [id, position] of acknowledged) {
        if ((await call(base, token2, 'GET', `/v1/customers/${id}`, undefined, { 'x-min-position': position })).status !== 200) missing++;
      }
      check(`stop under load: all ${acknowledged.length} acknowledged registrations are there after a restart`, acknowledged.length > 0 && missing === 0, `${missing} missing`);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    }
    await startsOnAnEmptyReadStore({ dataDir, base, env, acknowledged });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  console.log('smoke: the built service');
  await stopsUnderLoadLosingNothing();
  await foldsABacklogInACatchUpThread();
  await refusesProductionWithoutSecret();
  await lifecycleOverHttp('embedded SQLite', { PROJECTION_WORKER_NICE: '10' }, { projectionWorker: true });
  const esdbPort = await freePort();
  const esdb = start('dist/libs/testing/src/esdb-test-server/main.js', ['--port', String(esdbPort)], {});
  await waitFor(async () => esdb.output().includes('EventStoreDB test server listening on'), 'the EventStoreDB test server', 10_000);
  await lifecycleOverHttp('EventStoreDB test server', { EVENTSTORE_CONNECTION_STRING: `esdb://127.0.0.1:${esdbPort}?tls=false` });
} catch (error) {
  failed++;
  console.log(`  FAIL ${error instanceof Error ? error.message : String(error)}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
}
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
