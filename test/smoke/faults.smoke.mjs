// Smoke check of the fault answers of the built processes (dist/), as an operator meets them: a
// second service on one DATA_DIR, a port in use, a restart after kill -9, the api + projector split
// with the projector's own health port, and `log verify` on a clean and on a tampered log.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const { SqliteEventStore } = require(join(root, 'dist/libs/event-store/src/index.js'));
const children = [];
const dirs = [];
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

function start(script, env, args = []) {
  const child = spawn(process.execPath, [join(root, script), ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  children.push(child);
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

async function waitFor(probe, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function exitWithin(process, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => (process.child.kill('SIGKILL'), resolve('still running')), ms)));
  return Promise.race([process.exited, timeout]).finally(() => clearTimeout(timer));
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

function newDir() {
  const dir = mkdtempSync(join(tmpdir(), 'csp-faults-smoke-'));
  dirs.push(dir);
  return dir;
}

const ready = async (base) => (await fetch(`${base}/health/ready`)).status === 200;

async function oneDataDirOneService() {
  const dataDir = newDir();
  const port = await freePort();
  const first = start('dist/apps/api/src/main.js', { DATA_DIR: dataDir, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(() => ready(base), 'the first service');
  check('the banner names the address really bound', first.stdout().includes(`listening on ${base} `), first.stdout().slice(0, 400));

  const second = start('dist/apps/api/src/main.js', { DATA_DIR: dataDir, PORT: String(await freePort()) });
  const code = await exitWithin(second, 20_000);
  const expected = `Failed to start: DATA_DIR ${dataDir} is in use: process ${first.child.pid} holds its api role`;
  check('a second service on the same DATA_DIR exits 1', code === 1, `exit ${code}`);
  check('with one line naming the directory and the holder', second.stderr().startsWith(expected) && second.stderr().trim().split('\n').length === 1, JSON.stringify(second.stderr()));
  check('and no stack trace anywhere', !/\n\s+at /.test(second.stdout() + second.stderr()), second.stdout().slice(0, 400));

  const projector = start('dist/apps/projector/src/main.js', { DATA_DIR: dataDir, PROJECTOR_PORT: String(await freePort()) });
  const projectorCode = await exitWithin(projector, 20_000);
  check('a projector beside the all-in-one service is refused too', projectorCode === 1 && projector.stderr().includes('holds its projector role'), `${projectorCode} ${projector.stderr()}`);

  const portTaken = start('dist/apps/api/src/main.js', { DATA_DIR: newDir(), PORT: String(port) });
  const portCode = await exitWithin(portTaken, 20_000);
  check(
    'a port in use is one line saying which and what to do',
    portCode === 1 && portTaken.stderr() === `Failed to start: 127.0.0.1:${port} is already in use by another process: stop it, or set PORT to a free port\n`,
    `${portCode} ${JSON.stringify(portTaken.stderr())}`,
  );

  first.child.kill('SIGKILL');
  await first.exited;
  const restarted = start('dist/apps/api/src/main.js', { DATA_DIR: dataDir, PORT: String(port) });
  await waitFor(() => ready(base), 'the service restarted after kill -9 (its lock left behind)');
  check('a lock left by a killed process does not block the restart', true, '');
  restarted.child.kill('SIGTERM');
  await exitWithin(restarted, 15_000);
}

async function splitOnOneDataDir() {
  const dataDir = newDir();
  const [apiPort, projectorPort] = [await freePort(), await freePort()];
  const projector = start('dist/apps/projector/src/main.js', { DATA_DIR: dataDir, PROJECTOR_PORT: String(projectorPort) });
  const projectorBase = `http://127.0.0.1:${projectorPort}`;
  await waitFor(() => ready(projectorBase), 'the projector health port');
  const api = start('dist/apps/api/src/main.js', { DATA_DIR: dataDir, PORT: String(apiPort), PROJECTIONS: 'external' });
  await waitFor(() => ready(`http://127.0.0.1:${apiPort}`), 'the api beside the projector');
  check('the api beside one projector shares the DATA_DIR', api.child.exitCode === null && projector.child.exitCode === null, '');
  const metrics = await fetch(`${projectorBase}/metrics`);
  check('the projector serves /metrics', metrics.status === 200 && (await metrics.text()).includes('projection_lag_events'), String(metrics.status));
  check('and says where in its banner', projector.stdout().includes(`health and metrics on ${projectorBase}`), projector.stdout().slice(0, 400));
  api.child.kill('SIGTERM');
  projector.child.kill('SIGTERM');
  await Promise.all([exitWithin(api, 15_000), exitWithin(projector, 15_000)]);
}

async function verifyTheLog() {
  const dataDir = newDir();
  const store = SqliteEventStore.open(join(dataDir, 'events.db'));
  for (let n = 1; n <= 3; n++) {
    await store.appendToStream(`order-${n}`, [{ id: crypto.randomUUID(), type: 'PriceRecorded', data: { unitPrice: 1000 * n } }], { expectedRevision: 'no_stream' });
  }
  await store.close();
  const clean = start('dist/apps/cli/src/main.js', { DATA_DIR: dataDir }, ['log', 'verify']);
  const cleanCode = await exitWithin(clean, 20_000);
  check('log verify on a clean log prints the count and last position, exit 0', cleanCode === 0 && clean.stdout() === 'log intact: 3 events verified, last position 3.3\n', `${cleanCode} ${clean.stdout()}`);

  const raw = new Database(join(dataDir, 'events.db'));
  raw.prepare('UPDATE events SET data = ? WHERE position = 2').run('{"unitPrice":1}');
  raw.close();
  const tampered = start('dist/apps/cli/src/main.js', { DATA_DIR: dataDir }, ['log', 'verify']);
  const tamperedCode = await exitWithin(tampered, 20_000);
  check('log verify on a tampered log names position 2.2 and exits 3', tamperedCode === 3 && tampered.stderr().startsWith('log TAMPERED at position 2.2 (altered)'), `${tamperedCode} ${tampered.stderr()}`);
}

try {
  console.log('faults smoke: built processes');
  await oneDataDirOneService();
  await splitOnOneDataDir();
  await verifyTheLog();
} catch (error) {
  failed++;
  console.log(`  FAIL ${error instanceof Error ? error.message : String(error)}`);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
console.log(`faults smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
