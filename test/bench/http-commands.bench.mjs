// Throughput and latency of commands over the whole stack: the built service as its own process
// on the embedded default (SQLite, synchronous=FULL), driven over HTTP by concurrent clients.
// Prints figures; asserts nothing. Run after `npm run build`:
//   node test/bench/http-commands.bench.mjs [--purchases 2000] [--concurrency 32]
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { purchases: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '32' } } });
const purchases = Number(values.purchases);
const concurrency = Number(values.concurrency);
const root = new URL('../../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'csp-bench-'));
const port = 3900 + Math.floor(Math.random() * 90);
const base = `http://127.0.0.1:${port}`;

const service = spawn(process.execPath, [join(root, 'dist/apps/api/src/main.js')], {
  env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'development' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
service.stdout.on('data', (chunk) => (output += chunk));

async function until(check) {
  for (let i = 0; i < 150; i++) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the service did not start');
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(label, count, send) {
  const latencies = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const t0 = performance.now();
        const status = await send(index);
        latencies.push(performance.now() - t0);
        if (status >= 300) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(28)} ${String(count).padStart(6)} in ${seconds.toFixed(2)} s = ${(count / seconds).toFixed(0).padStart(5)}/s` +
      `  p50 ${percentile(latencies, 50).toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  failures ${failures}`,
  );
}

try {
  await until(async () => (await fetch(`${base}/health`)).ok);
  const token = /Development AdminAgent token[^\n]*\n(\S+)/.exec(output)[1];
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = (path, body, method = 'POST') => fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body) });

  const customers = Array.from({ length: concurrency }, () => randomUUID());
  await run('register customers', customers.length, async (index) =>
    (await post('/v1/customers', { id: customers[index], companyName: `Bench ${index}`, domain: `b${index}.example`, country: 'DE' })).status,
  );
  const subscriptions = [];
  await run('purchases (2 lines)', purchases, async (index) => {
    const response = await post(`/v1/customers/${customers[index % customers.length]}/orders`, {
      lineItems: [
        { skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'monthly' },
        { skuId: 'office-ltsc-professional-plus-2021:PERPETUAL', quantity: 1, billingCycle: 'oneTime' },
      ],
    });
    const body = await response.json();
    if (response.ok) subscriptions.push([customers[index % customers.length], body.lineItems[0].subscriptionId]);
    return response.status;
  });
  await run('cancellations', subscriptions.length, async (index) => {
    const [customerId, subscriptionId] = subscriptions[index];
    return (await post(`/v1/customers/${customerId}/subscriptions/${subscriptionId}`, { status: 'cancelled' }, 'PATCH')).status;
  });
  const memory = await (await fetch(`${base}/metrics`)).text();
  const rss = /process_resident_memory_bytes (\d+)/.exec(memory)?.[1];
  console.log(`service resident memory after the run: ${rss ? (Number(rss) / 1024 / 1024).toFixed(0) : '?'} MiB`);
} finally {
  service.kill('SIGTERM');
  await new Promise((resolve) => service.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
