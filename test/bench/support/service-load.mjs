// The benchmark's load on the built service: customers, purchases and cancellations over HTTP,
// purchases offered at a fixed rate, projection-lag probes. Used by `run.mjs` (the whole benchmark)
// and `paired.mjs` (two builds alternated).
import autocannon from 'autocannon';
import { loadTest } from 'loadtest';
import { startFsyncProbe } from './fsync-probe.mjs';
import { cpuMicrosPerRequest, rssMb, root, startService, storageWriteBytes, threadCpuSeconds } from './processes.mjs';

export const CONNECTIONS = 32;
export const OFFERED_RATE = 500;
/** The open loop's first second opens the load generator's connections: sent, answered, not counted. */
const RAMP_UP_SECONDS = 1;
/** After the saturating runs: time for the checkpointers to copy what the burst left in the write-ahead logs. */
const SETTLE_MS = 2000;
const CUSTOMERS = 64;
export const ONE_LINE = JSON.stringify({ lineItems: [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'monthly' }] });

export function summary(result) {
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}

function call(service, method, path, body, headers = {}) {
  return fetch(`${service.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${service.token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
}

export async function registerCustomers(service) {
  const customers = Array.from({ length: CUSTOMERS }, () => crypto.randomUUID());
  for (const [index, id] of customers.entries()) {
    const response = await call(service, 'POST', '/v1/customers', { id, companyName: `Bench ${index}`, domain: `bench${index}.example`, country: 'DE' });
    if (response.status !== 201) throw new Error(`registering a customer answered ${response.status}: ${await response.text()}`);
  }
  return customers;
}

/** autocannon's options for one kind of request, sent as the service's development AdminAgent at 32 connections. */
function asAdminAgent(service, request) {
  return {
    url: service.base,
    connections: CONNECTIONS,
    headers: { authorization: `Bearer ${service.token}`, 'content-type': 'application/json' },
    requests: [request],
  };
}

/** Purchases over HTTP, each for the next customer in turn; every bought subscription lands in `bought`. */
export function purchaseRequests(service, customers, bought) {
  let next = 0;
  return asAdminAgent(service, {
    method: 'POST',
    body: ONE_LINE,
    setupRequest: (request, context) => {
      context.customer = customers[next++ % customers.length];
      return { ...request, path: `/v1/customers/${context.customer}/orders` };
    },
    onResponse: (status, body, context) => {
      if (status === 201) bought.push([context.customer, JSON.parse(body).lineItems[0].subscriptionId]);
    },
  });
}

/**
 * Purchases at a steady `rate` per second, each sent on schedule whether or not earlier ones were
 * answered (an open loop: the latency of a slow answer is not hidden by sending less). autocannon's
 * `overallRate` cannot do this: it lets every connection send its share as fast as it is answered
 * at the start of each second, so its "500/s" is a burst of 32 concurrent connections, then quiet.
 * Latency is timed here from the moment each request is sent; the percentiles count the requests
 * sent after the ramp-up (the p99 with it is reported beside them).
 */
async function purchasesAtRate(service, customers, rate, seconds) {
  let next = 0;
  const timings = [];
  const started = performance.now();
  const result = await loadTest({
    url: `${service.base}/v1/customers/${customers[0]}/orders`,
    requestsPerSecond: rate,
    maxSeconds: RAMP_UP_SECONDS + seconds,
    agentKeepAlive: true,
    requestGenerator: (params, options, client, callback) => {
      const sentAt = performance.now();
      const request = client({ ...options, path: `/v1/customers/${customers[next++ % customers.length]}/orders`, method: 'POST' }, (response) => {
        response.once('end', () => timings.push({ sentAt: sentAt - started, ms: performance.now() - sentAt }));
        callback(response);
      });
      request.setHeader('authorization', `Bearer ${service.token}`);
      request.setHeader('content-type', 'application/json');
      request.setHeader('content-length', Buffer.byteLength(ONE_LINE));
      request.end(ONE_LINE);
      return request;
    },
  });
  const measured = timings.filter((timing) => timing.sentAt >= RAMP_UP_SECONDS * 1000).map((timing) => timing.ms);
  return {
    requestsPerSecond: Math.round(result.effectiveRps),
    answered: timings.length,
    p50: percentile(measured, 50),
    p90: percentile(measured, 90),
    p99: percentile(measured, 99),
    p99WithRampUp: percentile(timings.map((timing) => timing.ms), 99),
    rampUpSeconds: RAMP_UP_SECONDS,
    requests: measured.length,
    errors: result.totalErrors,
  };
}

/**
 * Waits until the read models have folded everything the saturating runs wrote (a purchase, then
 * a read with its `X-Min-Position`), then SETTLE_MS more: the offered-rate run measures a service
 * at a steady 500/s, not one still working off the burst before it.
 */
async function settle(service, customers) {
  for (;;) {
    const bought = await call(service, 'POST', `/v1/customers/${customers[0]}/orders`, JSON.parse(ONE_LINE));
    await bought.arrayBuffer();
    const read = await call(service, 'GET', `/v1/customers/${customers[0]}`, undefined, { 'x-min-position': bought.headers.get('x-log-position') });
    await read.arrayBuffer();
    if (read.status === 200) break;
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

function cancelRequests(service, bought) {
  return asAdminAgent(service, {
    method: 'PATCH',
    body: JSON.stringify({ status: 'cancelled' }),
    setupRequest: (request) => {
      const [customer, subscription] = bought.pop();
      return { ...request, path: `/v1/customers/${customer}/subscriptions/${subscription}` };
    },
  });
}

/**
 * Projection lag while the offered load runs: a probe buys, then asks for the customer with
 * X-Min-Position (answered only once every projection has folded the purchase) and, at the same
 * time, without it. The difference is the time the read models were behind the acknowledged write.
 */
async function probeProjectionLag(service, customers, until) {
  const lags = [];
  let lagging = 0;
  let purchases = 0;
  for (let index = 0; Date.now() < until; index++) {
    const customer = customers[index % customers.length];
    const bought = await call(service, 'POST', `/v1/customers/${customer}/orders`, JSON.parse(ONE_LINE));
    const position = bought.headers.get('x-log-position');
    await bought.arrayBuffer();
    if (bought.status !== 201 || !position) continue;
    purchases++;
    const started = performance.now();
    const timed = async (headers) => {
      const response = await call(service, 'GET', `/v1/customers/${customer}`, undefined, headers);
      await response.arrayBuffer();
      return { status: response.status, ms: performance.now() - started };
    };
    const [fresh, control] = await Promise.all([timed({ 'x-min-position': position }), timed({})]);
    // 503 PROJECTION_LAGGING: the read models were still behind when the service's wait ran out.
    if (fresh.status === 503) lagging++;
    else if (fresh.status !== 200 || control.status !== 200) throw new Error(`the lag probe's reads answered ${fresh.status} and ${control.status}`);
    lags.push(Math.max(0, fresh.ms - control.ms));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { lags, lagging, purchases };
}

/**
 * The service's `event_log_commit_*` histograms from its /metrics, to be subtracted from a later
 * reading. `null` for a build without them (`paired.mjs --against` an older checkout).
 */
async function logCommitReading(service) {
  const text = await (await fetch(`${service.base}/metrics`)).text();
  const series = (name) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  const count = series('event_log_commit_duration_seconds_count');
  if (count === undefined) return null;
  const buckets = [...text.matchAll(/^event_log_commit_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map(([, bound, commits]) => ({
    seconds: bound === '+Inf' ? Infinity : Number(bound),
    commits: Number(commits),
  }));
  return { count, seconds: series('event_log_commit_duration_seconds_sum'), appends: series('event_log_commit_appends_sum'), buckets };
}

/**
 * The commits between two readings: how many, their appends and mean time, the bucket bound that
 * 99 % of them stayed within, and how many took over 5 and over 10 ms.
 */
function logCommitsBetween(before, after) {
  if (before === null || after === null) return null;
  const commits = after.count - before.count;
  if (commits === 0) return { commits };
  const within = (seconds) => after.buckets.find((bucket) => bucket.seconds === seconds).commits - before.buckets.find((bucket) => bucket.seconds === seconds).commits;
  const p99Bound = after.buckets.find((bucket) => within(bucket.seconds) >= 0.99 * commits).seconds;
  return {
    commits,
    appendsPerCommit: Math.round(((after.appends - before.appends) / commits) * 10) / 10,
    meanMs: Math.round(((after.seconds - before.seconds) * 1000 * 100) / commits) / 100,
    p99AtMostMs: p99Bound === Infinity ? null : Math.round(p99Bound * 1000 * 10) / 10,
    over5Ms: commits - within(0.005),
    over10Ms: commits - within(0.01),
  };
}

/**
 * The service's HTTP phase of the benchmark, on a fresh `dataDir`: purchases at 32 connections for
 * `seconds` after a 2 s warm-up, the cancellation of every subscription they bought, then, once the
 * read models have caught up, purchases offered at 500/s for `seconds` with projection-lag probes alongside. `checkout` is the repository
 * whose built dist/ runs (another checkout's, to compare two builds); `env` is added to the service's,
 * `nodeArgs` to its node command line.
 */
export async function httpRuns({ dataDir, checkout = root, env = {}, nodeArgs = [], seconds, log }) {
  const service = await startService({ dataDir, checkout, env, nodeArgs });
  try {
    const customers = await registerCustomers(service);
    const bought = [];
    log('HTTP purchases (warm-up, then measured)');
    await autocannon({ ...purchaseRequests(service, customers, bought), duration: 2 });
    const pid = service.child.pid;
    const cpuBeforePurchases = threadCpuSeconds(pid);
    const purchase = summary(await autocannon({ ...purchaseRequests(service, customers, bought), duration: seconds }));
    const cpuAfterPurchases = threadCpuSeconds(pid);
    log(`HTTP cancellations (${bought.length} subscriptions bought)`);
    const cancel = summary(await autocannon({ ...cancelRequests(service, bought), amount: bought.length }));
    const cpuAfterCancellations = threadCpuSeconds(pid);
    log('settling: read models caught up, write-ahead logs copied');
    await settle(service, customers);
    log(`HTTP purchases offered at ${OFFERED_RATE}/s (${RAMP_UP_SECONDS} s ramp-up, then measured), projection lag probes alongside`);
    const until = Date.now() + (RAMP_UP_SECONDS + seconds) * 1000;
    const writtenBefore = storageWriteBytes(service.child.pid);
    const commitsBefore = await logCommitReading(service);
    const stopFsyncProbe = startFsyncProbe(dataDir);
    const loadStarted = performance.now();
    const [atRate, { lags, lagging, purchases: probePurchases }] = await Promise.all([
      purchasesAtRate(service, customers, OFFERED_RATE, seconds),
      new Promise((resolve) => setTimeout(resolve, RAMP_UP_SECONDS * 1000)).then(() => probeProjectionLag(service, customers, until)),
    ]);
    const syncLatencies = await stopFsyncProbe();
    const commitsAfter = await logCommitReading(service);
    const writtenAfter = storageWriteBytes(service.child.pid);
    const written = writtenBefore === null || writtenAfter === null ? null : writtenAfter - writtenBefore;
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    return {
      purchase,
      cancel,
      // Where each request's CPU went, thread by thread (the measured runs only, not their warm-up).
      cpuMicrosPerRequest: {
        purchase: cpuMicrosPerRequest(cpuBeforePurchases, cpuAfterPurchases, purchase.requests),
        cancel: cpuMicrosPerRequest(cpuAfterPurchases, cpuAfterCancellations, cancel.requests),
      },
      purchaseAt500: { offeredPerSecond: OFFERED_RATE, ...atRate },
      projectionLag: { samples: lags.length, p50: percentile(lags, 50), p99: percentile(lags, 99), lagging503: lagging },
      // What the service wrote to storage while it answered the offered load and the probes (ramp-up included).
      storageWritesAt500:
        written === null
          ? null
          : {
              megabytesPerSecond: Math.round((written / 1024 / 1024 / loadSeconds) * 10) / 10,
              kilobytesPerPurchase: Math.round((written / 1024 / (atRate.answered + probePurchases)) * 10) / 10,
            },
      // The storage's sync latency meanwhile, from a probe beside the service (see fsync-probe.mjs).
      fsync4KiBMsAt500: { syncs: syncLatencies.length, p50: percentile(syncLatencies, 50), p99: percentile(syncLatencies, 99), max: percentile(syncLatencies, 100) },
      // The event log's group commits meanwhile, as the service's /metrics times them (fsync included).
      logCommitsAt500: logCommitsBetween(commitsBefore, commitsAfter),
      rssAfterHttp: rssMb(service.child.pid),
    };
  } finally {
    await service.stop();
  }
}
