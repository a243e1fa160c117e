// The benchmark's load on the built service: customers, purchases and cancellations over HTTP,
// purchases offered at a fixed rate, projection-lag probes. Used by `run.mjs` (the whole benchmark)
// and `paired.mjs` (two builds alternated).
import autocannon from 'autocannon';
import { loadTest } from 'loadtest';
import { startFsyncProbe } from './fsync-probe.mjs';
import { cpuMicrosPerRequest, rssMb, root, startService, storageWriteBytes, threadCpuSeconds } from './processes.mjs';

export const CONNECTIONS = 32;
export const OFFERED_RATE = 500;
/**
 * How long the trivial POST and the purchases are sent, unmeasured, before their measured runs (the
 * cancellations' warm-up is a third of the subscriptions bought, about as long). Per second from a
 * cold start on the fifty-first round's machine, the trivial app answered 1,632 / 5,609 and then
 * 6,366 to 7,450; the service's purchases 1,019 / 1,235 / 1,665 / 2,361 / 3,019 and then 2,370 to
 * 3,535, its cancellations 1,651 / 2,401 and then 2,721 to 3,530. V8 compiles a command's path for
 * seconds, the trivial app's in one: with 2 s the measured purchases began in that climb and the
 * cancellations had no warm-up at all.
 */
export const WARM_UP_SECONDS = 5;
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
 * Requests at a steady `rate` per second, each sent on schedule whether or not earlier ones were
 * answered (an open loop: the latency of a slow answer is not hidden by sending less). autocannon's
 * `overallRate` cannot do this: it lets every connection send its share as fast as it is answered
 * at the start of each second, so its "500/s" is a burst of 32 concurrent connections, then quiet.
 * Latency is timed here from the moment each request is sent; the percentiles count the requests
 * sent after the ramp-up (the p99 with it is reported beside them). `nextPath()` gives each
 * request's path; every request posts the one-line body.
 */
export async function postsAtRate({ base, headers = {}, nextPath, rate, seconds }) {
  const timings = [];
  const started = performance.now();
  const result = await loadTest({
    // Only the host and port: each request's path is its own.
    url: `${base}/`,
    requestsPerSecond: rate,
    maxSeconds: RAMP_UP_SECONDS + seconds,
    agentKeepAlive: true,
    requestGenerator: (params, options, client, callback) => {
      const sentAt = performance.now();
      const request = client({ ...options, path: nextPath(), method: 'POST' }, (response) => {
        response.once('end', () => timings.push({ sentAt: sentAt - started, ms: performance.now() - sentAt }));
        callback(response);
      });
      for (const [name, value] of Object.entries(headers)) request.setHeader(name, value);
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

/** Purchases at a steady `rate` per second (`postsAtRate`), each for the next customer in turn. */
function purchasesAtRate(service, customers, rate, seconds) {
  let next = 0;
  return postsAtRate({
    base: service.base,
    headers: { authorization: `Bearer ${service.token}` },
    nextPath: () => `/v1/customers/${customers[next++ % customers.length]}/orders`,
    rate,
    seconds,
  });
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
 * One scrape of the service's /metrics, its unlabelled histograms to be subtracted from a later
 * scrape's (see `histogramBetween`).
 */
async function metricsReading(service) {
  return (await fetch(`${service.base}/metrics`)).text();
}

/**
 * The observations of histogram `name` between two scrapes: how many, their sum, the bucket bound
 * that 99 % of them stayed within, and how many were over each of `over` (bucket bounds, in the
 * histogram's unit). `null` for a build without it (`paired.mjs --against` an older checkout).
 */
function histogramBetween(before, after, name, over) {
  const read = (text) => {
    const series = (suffix) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}_${suffix} `));
      return line === undefined ? undefined : Number(line.slice(name.length + suffix.length + 2));
    };
    const count = series('count');
    if (count === undefined) return null;
    const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))].map(([, bound, observed]) => ({
      bound: bound === '+Inf' ? Infinity : Number(bound),
      observed: Number(observed),
    }));
    return { count, sum: series('sum'), buckets };
  };
  const [first, last] = [read(before), read(after)];
  if (first === null || last === null) return null;
  const count = last.count - first.count;
  const within = (bound) => last.buckets.find((bucket) => bucket.bound === bound).observed - first.buckets.find((bucket) => bucket.bound === bound).observed;
  const p99Bound = count === 0 ? undefined : last.buckets.find((bucket) => within(bucket.bound) >= 0.99 * count).bound;
  return { count, sum: last.sum - first.sum, p99Bound, over: over.map((bound) => count - within(bound)) };
}

const milliseconds = (seconds, places) => Math.round(seconds * 1000 * 10 ** places) / 10 ** places;

/**
 * The log's group commits between two scrapes: how many, their appends and mean time, the bucket
 * bound that 99 % of them stayed within, and how many took over 5 and over 10 ms.
 */
function logCommitsBetween(before, after) {
  const durations = histogramBetween(before, after, 'event_log_commit_duration_seconds', [0.005, 0.01]);
  if (durations === null) return null;
  if (durations.count === 0) return { commits: 0 };
  const appends = histogramBetween(before, after, 'event_log_commit_appends', []);
  return {
    commits: durations.count,
    appendsPerCommit: Math.round((appends.sum / appends.count) * 10) / 10,
    meanMs: milliseconds(durations.sum / durations.count, 2),
    p99AtMostMs: durations.p99Bound === Infinity ? null : milliseconds(durations.p99Bound, 1),
    over5Ms: durations.over[0],
    over10Ms: durations.over[1],
  };
}

/**
 * The projections' live batches between two scrapes: how many, their events, the mean fold (and
 * commit) and how many took over 5 ms, and how long after the log each became visible (the mean, the
 * bucket bound 99 % stayed within, how many over 10 ms): the projection worker's own side of the lag.
 */
function projectionBatchesBetween(before, after) {
  const visible = histogramBetween(before, after, 'projection_visible_after_seconds', [0.01]);
  if (visible === null) return null;
  if (visible.count === 0) return { batches: 0 };
  const folds = histogramBetween(before, after, 'projection_batch_fold_seconds', [0.005]);
  const events = histogramBetween(before, after, 'projection_batch_events', []);
  return {
    batches: visible.count,
    eventsPerBatch: Math.round((events.sum / events.count) * 10) / 10,
    foldMeanMs: milliseconds(folds.sum / folds.count, 2),
    foldOver5Ms: folds.over[0],
    visibleMeanMs: milliseconds(visible.sum / visible.count, 2),
    visibleP99AtMostMs: visible.p99Bound === Infinity ? null : milliseconds(visible.p99Bound, 1),
    visibleOver10Ms: visible.over[0],
  };
}

/**
 * The service's HTTP phase of the benchmark, on a fresh `dataDir`: purchases at 32 connections for
 * `seconds` after a warm-up (`WARM_UP_SECONDS`), the cancellation of every subscription they bought (a
 * third of them as the cancellations' warm-up, the rest measured), then, once the
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
    await autocannon({ ...purchaseRequests(service, customers, bought), duration: WARM_UP_SECONDS });
    const pid = service.child.pid;
    const cpuBeforePurchases = threadCpuSeconds(pid);
    const purchase = summary(await autocannon({ ...purchaseRequests(service, customers, bought), duration: seconds }));
    const cpuAfterPurchases = threadCpuSeconds(pid);
    log(`HTTP cancellations (${bought.length} subscriptions bought; a third as the warm-up, then the rest measured)`);
    // By count, not time: the measured run must still find subscriptions to cancel on a machine that cancels faster than it bought.
    const warmUpCancellations = Math.floor(bought.length / 3);
    if (warmUpCancellations > 0) await autocannon({ ...cancelRequests(service, bought), amount: warmUpCancellations });
    const cpuBeforeCancellations = threadCpuSeconds(pid);
    const cancel = summary(await autocannon({ ...cancelRequests(service, bought), amount: bought.length }));
    const cpuAfterCancellations = threadCpuSeconds(pid);
    log('settling: read models caught up, write-ahead logs copied');
    await settle(service, customers);
    log(`HTTP purchases offered at ${OFFERED_RATE}/s (${RAMP_UP_SECONDS} s ramp-up, then measured), projection lag probes alongside`);
    const until = Date.now() + (RAMP_UP_SECONDS + seconds) * 1000;
    const writtenBefore = storageWriteBytes(service.child.pid);
    const metricsBefore = await metricsReading(service);
    const stopFsyncProbe = startFsyncProbe(dataDir);
    const cpuBeforeRate = threadCpuSeconds(pid);
    const loadStarted = performance.now();
    const [atRate, { lags, lagging, purchases: probePurchases }] = await Promise.all([
      purchasesAtRate(service, customers, OFFERED_RATE, seconds),
      new Promise((resolve) => setTimeout(resolve, RAMP_UP_SECONDS * 1000)).then(() => probeProjectionLag(service, customers, until)),
    ]);
    const cpuAfterRate = threadCpuSeconds(pid);
    const syncLatencies = await stopFsyncProbe();
    const metricsAfter = await metricsReading(service);
    const writtenAfter = storageWriteBytes(service.child.pid);
    const written = writtenBefore === null || writtenAfter === null ? null : writtenAfter - writtenBefore;
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    return {
      purchase,
      cancel,
      // Where each request's CPU went, thread by thread (the measured runs only, not their warm-up).
      cpuMicrosPerRequest: {
        purchase: cpuMicrosPerRequest(cpuBeforePurchases, cpuAfterPurchases, purchase.requests),
        cancel: cpuMicrosPerRequest(cpuBeforeCancellations, cpuAfterCancellations, cancel.requests),
        // The offered load's purchases and the probes' (ramp-up included), the probes' reads counted with them.
        purchaseAt500: cpuMicrosPerRequest(cpuBeforeRate, cpuAfterRate, atRate.answered + probePurchases),
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
      logCommitsAt500: logCommitsBetween(metricsBefore, metricsAfter),
      // The projections' live batches meanwhile, as the service's /metrics times them.
      projectionBatchesAt500: projectionBatchesBetween(metricsBefore, metricsAfter),
      rssAfterHttp: rssMb(service.child.pid),
    };
  } finally {
    await service.stop();
  }
}
