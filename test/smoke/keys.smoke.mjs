// Smoke check of product keys in the built service (dist/): a key is generated, revealed, downloaded
// and shared over HTTP with every log line the service can write captured (LOG_LEVEL=debug), and
// then neither that output nor any file under DATA_DIR holds the key text, with or without dashes.
// The master key: a development key is announced at start; production without KEY_ENCRYPTION_KEY
// refuses to start, and starts with one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The service prints its development token just after it starts listening: /health may answer first.
const TOKEN_PRINTED = /Development AdminAgent token[^\n]*\n\S+\n/;

const root = new URL('../../', import.meta.url).pathname;
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

function start(env) {
  const child = spawn(process.execPath, [join(root, 'dist/apps/api/src/main.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function stop(api) {
  // Ended already (on its own, or by a signal from elsewhere): its 'exit' has been emitted.
  if (api.child.exitCode !== null || api.child.signalCode !== null) return;
  api.child.kill('SIGTERM');
  await new Promise((resolve) => api.child.once('exit', resolve));
}

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

async function call(base, token, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, position: response.headers.get('x-log-position'), body: parsed };
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

function filesUnder(directory) {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function noKeyTextAnywhere() {
  const dataDir = mkdtempSync(join(tmpdir(), 'csp-smoke-keys-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = start({ PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development', AUTH_JWT_SECRET: '', KEY_ENCRYPTION_KEY: '', LOG_LEVEL: 'debug' });
  let productKey;
  try {
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200 && TOKEN_PRINTED.test(api.output()), 'keys: /health and the token');
    check('announces the development key encryption key at start', /KEY_ENCRYPTION_KEY is not set[^\n]*dev-key-encryption-key/.test(api.output()), api.output().slice(-500));
    const token = /Development AdminAgent token[^\n]*\n(\S+)/.exec(api.output())?.[1];
    const customerId = '0b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e';
    await call(base, token, 'POST', '/v1/customers', { id: customerId, companyName: 'Keys Smoke', domain: 'keys-smoke.example', country: 'DE' });
    const order = await call(base, token, 'POST', `/v1/customers/${customerId}/orders`, {
      lineItems: [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'annual' }],
    });
    const softwareId = order.body.lineItems?.[0]?.subscriptionId;
    const choices = { version: '2022', language: 'en-us', fileType: 'ISO', operatingSystem: 'x64' };
    const item = `/v1/customers/${customerId}/software/${softwareId}`;
    const generated = await call(base, token, 'POST', `${item}/keys`, choices);
    check('generates a key (201, no key text)', generated.status === 201 && Object.keys(generated.body).join() === 'keyId,keyType', JSON.stringify(generated.body));
    const revealed = await call(base, token, 'POST', `${item}/keys/${generated.body.keyId}/reveal`);
    productKey = revealed.body.productKey;
    check('reveals a MAK-shaped key', revealed.status === 200 && /^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/.test(productKey ?? ''), JSON.stringify(revealed));
    const started = await call(base, token, 'POST', `${item}/downloads`, choices);
    const link = await call(base, token, 'POST', `${item}/download-links`, choices);
    const fetched = await fetch(`${base}${link.body.url}`);
    check('serves the bits of a shared link without a login', fetched.status === 200 && (await fetched.arrayBuffer()).byteLength > 0, String(fetched.status));
    const downloaded = await fetch(`${base}${started.body.downloadUrl}`);
    check('serves the bits of a started download', downloaded.status === 200, String(downloaded.status));
    // A failing reveal and a refused request go through the error paths (and their log lines) too.
    await call(base, token, 'POST', `${item}/keys/no-such-key/reveal`);
    await call(base, token, 'POST', `${item}/keys`, { ...choices, keyType: 'KMS' });
    const activity = await call(base, undefined, 'GET', `/v1/activity-log?startDate=2000-01-01&endDate=2100-01-01`);
    check('the activity log needs a login', activity.status === 401, JSON.stringify(activity));
  } finally {
    await stop(api);
  }
  if (productKey) {
    const needles = [productKey, productKey.replace(/-/g, '')];
    const output = api.output();
    check('the captured service output holds no key text', needles.every((needle) => !output.includes(needle)), 'key text found in stdout/stderr');
    const files = filesUnder(dataDir);
    const holding = files.filter((file) => {
      const bytes = readFileSync(file);
      return needles.some((needle) => bytes.includes(Buffer.from(needle, 'utf8')) || bytes.includes(Buffer.from(needle, 'utf16le')));
    });
    check(`no file under DATA_DIR holds key text (${files.length} files scanned)`, files.length > 0 && holding.length === 0, holding.join(', '));
  }
  rmSync(dataDir, { recursive: true, force: true });
}

async function productionNeedsKeyEncryptionKey() {
  const dataDir = mkdtempSync(join(tmpdir(), 'csp-smoke-keys-'));
  const secret = 'smoke-secret-that-is-long-enough-for-hs256-0123456789';
  const refused = start({ NODE_ENV: 'production', AUTH_JWT_SECRET: secret, KEY_ENCRYPTION_KEY: '', DATA_DIR: dataDir, PORT: String(await freePort()) });
  const code = await exitWithin(refused.child, 15_000);
  check(
    'production without KEY_ENCRYPTION_KEY refuses to start, saying so',
    code !== 0 && code !== 'still running' && /KEY_ENCRYPTION_KEY is not set/.test(refused.output()),
    `exit ${code}: ${refused.output().slice(-300)}`,
  );
  const port = await freePort();
  const keyEncryptionKey = Buffer.alloc(32, 7).toString('base64');
  const started = start({ NODE_ENV: 'production', AUTH_JWT_SECRET: secret, KEY_ENCRYPTION_KEY: keyEncryptionKey, DATA_DIR: dataDir, PORT: String(port) });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200, 'production with KEY_ENCRYPTION_KEY: /health');
    check('production with KEY_ENCRYPTION_KEY starts', true, '');
    check('and never prints the master key', !started.output().includes(keyEncryptionKey), 'master key found in output');
  } catch (error) {
    check('production with KEY_ENCRYPTION_KEY starts', false, `${error.message}: ${started.output().slice(-300)}`);
  } finally {
    await stop(started);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await noKeyTextAnywhere();
await productionNeedsKeyEncryptionKey();
console.log(`keys smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
