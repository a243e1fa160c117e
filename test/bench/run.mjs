// `npm run bench`: the engine measured side by side with its references in one run, judged as
// ratios (this machine is shared and noisy; absolute figures move, ratios much less). Starts only
// its own processes: the built service, a trivial NestJS app, and benchmark scripts.
//
//   npm run bench [-- --out file.json] [--duration 8] [--rebuild-events 1000000] [--profile]
//
// --rebuild-events: size of the log the raw scan reads and the rebuild folds (by default the 1M
//   events the targets name; smaller sizes are extrapolated linearly to rebuild.seconds1M and say so). --profile: also run the service
//   under `node --cpu-prof` during a purchase load and print its top self-time functions.
import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { topSelfTime } from './support/cpu-profile.mjs';
import { cliNodeArgs, compileTrivialApp, cpuMicrosPerRequest, root, runScript, startService, startTrivialApp, threadCpuSeconds } from './support/processes.mjs';
import { CONNECTIONS, OFFERED_RATE, ONE_LINE, WARM_UP_SECONDS, httpRuns, postsAtRate, purchaseRequests, registerCustomers, summary } from './support/service-load.mjs';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'test/bench/results/latest.json') },
    duration: { type: 'string', default: '8' },
    'rebuild-events': { type: 'string', default: '1000000' },
    profile: { type: 'boolean', default: false },
  },
});
const DURATION = Number(values.duration);
const work = mkdtempSync(join(tmpdir(), 'csp-bench-'));
const startedAt = Date.now();

function log(message) {
  process.stderr.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);
}

/**
 * Commands through the bus are timed over about a second, and so is their reference, 20,000 raw
 * appends 100 to a transaction: six of those back to back took 40,208 to 51,816 events/s on the
 * fifty-fourth round's machine. Each round measures the reference right before the bus, and each
 * figure is the median of the rounds.
 */
const BUS_ROUNDS = 3;
const BUS_PHASES = ['purchase1', 'purchase64Cold', 'purchase64', 'cancel1', 'cancel64'];

/** The one of `runs` (an odd number) whose `figure` is their median. */
function medianRun(runs, figure) {
  return [...runs].sort((a, b) => figure(a) - figure(b))[(runs.length - 1) / 2];
}

const median = (numbers) => medianRun(numbers, (number) => number);

const ratio = (a, b) => Math.round((a / b) * 1000) / 1000;
const ratioOrNull = (a, b) => (a == null || b == null ? null : ratio(a, b));
const meanOrNull = (a, b) => (a == null || b == null ? null : Math.round((a + b) / 2));

/**
 * Seconds the trivial app is also offered the service's fixed rate, after its closed loop. At that
 * rate a Node server pays more CPU a request than when saturated (each request wakes the thread on
 * its own; in the fifty-seventh round's runs the trivial app paid 1.51 to 2.25 times as much on
 * Express, 2.48 to 3.28 on Fastify), so the purchases offered at 500/s are compared with this, not
 * with the saturated figure. Short, as only its CPU a request is compared: with the ramp-up,
 * 3 × 5 s of the benchmark's time.
 */
const TRIVIAL_AT_RATE_SECONDS = 4;

/**
 * 32 connections posting the same validated body for `duration` seconds, after the same warm-up as
 * the service's runs; then the same body offered at the service's fixed rate, for its CPU a request
 * there (the ramp-up's requests and CPU included, as for the purchases).
 */
async function trivialPost(compiled, adapter) {
  const app = await startTrivialApp(compiled, adapter);
  try {
    const request = { url: `${app.base}/orders`, connections: CONNECTIONS, method: 'POST', headers: { 'content-type': 'application/json' }, body: ONE_LINE };
    await autocannon({ ...request, duration: WARM_UP_SECONDS });
    const cpuBefore = threadCpuSeconds(app.child.pid);
    const measured = summary(await autocannon({ ...request, duration: DURATION }));
    const cpuBeforeRate = threadCpuSeconds(app.child.pid);
    const atRate = await postsAtRate({ base: app.base, nextPath: () => '/orders', rate: OFFERED_RATE, seconds: TRIVIAL_AT_RATE_SECONDS });
    return {
      ...measured,
      cpuMicrosPerRequest: cpuMicrosPerRequest(cpuBefore, cpuBeforeRate, measured.requests)?.total ?? null,
      atRate: { offeredPerSecond: OFFERED_RATE, p50: atRate.p50, p99: atRate.p99, answered: atRate.answered, errors: atRate.errors },
      cpuMicrosPerRequestAtRate: cpuMicrosPerRequest(cpuBeforeRate, threadCpuSeconds(app.child.pid), atRate.answered)?.total ?? null,
    };
  } finally {
    await app.stop();
  }
}

/** The service under `node --cpu-prof` while 32 connections buy; its top self-time functions. */
async function profilePurchases() {
  const dataDir = mkdtempSync(join(work, 'profile-'));
  const profileDir = join(work, 'cpu-profile');
  const service = await startService({ dataDir, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  try {
    const customers = await registerCustomers(service);
    await autocannon({ ...purchaseRequests(service, customers, []), duration: DURATION });
  } finally {
    await service.stop();
  }
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  return topSelfTime(join(profileDir, file), 20);
}

/** `request thread 266, projections 210, ... µs (648)`: a request's CPU time in each thread group, largest first. */
function cpuByThread(perRequest) {
  if (!perRequest) return 'not measured (no /proc/<pid>/task here)';
  const { total, ...groups } = perRequest;
  const parts = Object.entries(groups)
    .sort((a, b) => b[1] - a[1])
    .map(([group, micros]) => `${group.replace(/^csp-/, '')} ${micros}`);
  return `${parts.join(', ')} µs (${total})`;
}

function timesTrivial(cpuRatio, where = '') {
  return cpuRatio === null ? '' : `${cpuRatio} times the trivial POST's${where ? ` ${where}` : ''}`;
}

/**
 * `Express 468 µs (before the service 484, after it 452), Fastify 256 µs; p99 4.7 / 3.3 / 2.5 ms`: the
 * trivial app offered the service's fixed rate, the p99s in the order of its three runs.
 */
function trivialCpuAtRate({ trivialPostExpress, trivialPostFastify }) {
  if (trivialPostExpress.cpuMicrosPerRequestAtRate === null) return 'not measured (no /proc/<pid>/task here)';
  const [before, after] = trivialPostExpress.runs;
  return (
    `Express ${trivialPostExpress.cpuMicrosPerRequestAtRate} µs (before the service ${before.cpuMicrosPerRequestAtRate}, after it ${after.cpuMicrosPerRequestAtRate}), ` +
    `Fastify ${trivialPostFastify.cpuMicrosPerRequestAtRate} µs; p99 ${before.atRate.p99} / ${after.atRate.p99} / ${trivialPostFastify.atRate.p99} ms`
  );
}

/** `261 µs (before the service 255, after it 267)`: the reference's CPU a request in each of its two runs, which show how fast the machine was at each end. */
function trivialCpu({ cpuMicrosPerRequest, runs }) {
  if (cpuMicrosPerRequest === null) return 'not measured (no /proc/<pid>/task here)';
  return `${cpuMicrosPerRequest} µs (before the service ${runs[0].cpuMicrosPerRequest}, after it ${runs[1].cpuMicrosPerRequest})`;
}

/**
 * `137000 events/s (before the rebuild 139431 in 5.2 s CPU, after it 134569 in 5.4 s)`: the scans
 * on either side of the rebuild; their CPU times show whether the machine's speed moved meanwhile.
 */
function rawScanFigure({ eventsPerSecond, runs: [before, after] }) {
  return `${eventsPerSecond} events/s (before the rebuild ${before.eventsPerSecond} in ${before.cpuSeconds} s CPU, after it ${after.eventsPerSecond} in ${after.cpuSeconds} s)`;
}

/** `41133 / 43327 / 32367`: one figure of each of the bus's rounds. */
function rounds(bus, figure) {
  return bus.rounds.map((round) => round[figure]).join(' / ');
}

function fsyncProbe({ syncs, p50, p99, max }) {
  return `p50 ${p50} p99 ${p99} max ${max} ms (${syncs} syncs)`;
}

/** `5120 commits of 1.1 appends, mean 1.35 ms, 99 % within 10 ms, 31 over 10 ms`, from the service's histogram. */
function logCommits(commits) {
  if (commits === null) return 'not counted by this build (no event_log_commit_* in /metrics)';
  if (commits.commits === 0) return 'no commits counted';
  const p99 = commits.p99AtMostMs === null ? 'some over the last bucket' : `99 % within ${commits.p99AtMostMs} ms`;
  return `${commits.commits} commits of ${commits.appendsPerCommit} appends, mean ${commits.meanMs} ms, ${p99}, ${commits.over10Ms} over 10 ms`;
}

/** `2100 batches of 2.4 events, fold mean 0.52 ms (3 over 5 ms); visible after a mean 2.3 ms, 99 % within 10 ms, 4 over 10 ms`. */
function projectionBatches(batches) {
  if (batches === null) return 'not counted by this build (no projection_batch_* in /metrics)';
  if (batches.batches === 0) return 'no batches counted';
  const p99 = batches.visibleP99AtMostMs === null ? 'some over the last bucket' : `99 % within ${batches.visibleP99AtMostMs} ms`;
  return (
    `${batches.batches} batches of ${batches.eventsPerBatch} events, fold mean ${batches.foldMeanMs} ms (${batches.foldOver5Ms} over 5 ms); ` +
    `visible after a mean ${batches.visibleMeanMs} ms, ${p99}, ${batches.visibleOver10Ms} over 10 ms`
  );
}

function printTable(results) {
  const rows = [
    ['fsync of a 4 KiB write', `${results.references.fsync4KiBPerSecond}/s`, ''],
    ['raw FULL appends, 1 per transaction', `${results.references.rawAppendsPerTransaction1} events/s`, ''],
    [
      'raw FULL appends, 100 per transaction',
      `${results.references.rawAppendsPerTransaction100} events/s (${results.references.rawAppendBytesPerEvent} B each; the median of ${rounds(results.bus, 'rawAppendsPerTransaction100')} before the bus's rounds, ${results.references.rawAppendsPerTransaction100AtStart} at the start)`,
      '',
    ],
    ['  the same, purchase-sized events', `${results.references.rawAppendsPerTransaction100PurchaseSized} events/s (${results.references.purchaseSizedBytesPerEvent} B each; a median too)`, ''],
    ['raw scan with JSON.parse', rawScanFigure(results.references.rawScan), ''],
    ['trivial POST, Express (32 conn.)', `${results.references.trivialPostExpress.requestsPerSecond}/s p50 ${results.references.trivialPostExpress.p50} p99 ${results.references.trivialPostExpress.p99} ms`, ''],
    ['trivial POST, Fastify (32 conn.)', `${results.references.trivialPostFastify.requestsPerSecond}/s p50 ${results.references.trivialPostFastify.p50} p99 ${results.references.trivialPostFastify.p99} ms`, `${results.ratios.fastifyVsExpressTrivialPost} of Express`],
    ['HTTP purchases (32 conn.)', `${results.http.purchase.requestsPerSecond}/s p50 ${results.http.purchase.p50} p99 ${results.http.purchase.p99} ms`, `${results.ratios.httpPurchaseVsTrivialPost} of trivial (target ≥ 0.4)`],
    ['HTTP cancellations (32 conn.)', `${results.http.cancel.requestsPerSecond}/s p50 ${results.http.cancel.p50} p99 ${results.http.cancel.p99} ms`, `${results.ratios.httpCancelVsTrivialPost} of trivial (target ≥ 0.4)`],
    ['  CPU per purchase, by thread', cpuByThread(results.cpuMicrosPerRequest.purchase), timesTrivial(results.cpuMicrosPerRequest.purchaseVsTrivialPost)],
    ['  CPU per cancellation, by thread', cpuByThread(results.cpuMicrosPerRequest.cancel), timesTrivial(results.cpuMicrosPerRequest.cancelVsTrivialPost)],
    ['  CPU per trivial POST, Express', trivialCpu(results.references.trivialPostExpress), ''],
    ['purchases offered at 500/s (open loop)', `${results.http.purchaseAt500.requestsPerSecond}/s p50 ${results.http.purchaseAt500.p50} p99 ${results.latencyMs.purchaseP99At500} ms (${results.http.purchaseAt500.p99WithRampUp} with ramp-up), ${results.http.purchaseAt500.errors} errors`, 'target p99 < 25 ms'],
    ['  CPU per purchase meanwhile, by thread', cpuByThread(results.cpuMicrosPerRequest.purchaseAt500), timesTrivial(results.cpuMicrosPerRequest.purchaseAt500VsTrivialPostAt500, 'at 500/s')],
    ['  CPU per trivial POST at 500/s', trivialCpuAtRate(results.references), ''],
    ['  a 4 KiB sync meanwhile (a probe, 50/s)', fsyncProbe(results.http.fsync4KiBMsAt500), ''],
    ["  the log's commits meanwhile (/metrics)", logCommits(results.http.logCommitsAt500), ''],
    ["  the projections' batches meanwhile (/metrics)", projectionBatches(results.http.projectionBatchesAt500), ''],
    ['projection lag under that load', `p50 ${results.latencyMs.projectionLagP50} p99 ${results.latencyMs.projectionLagP99} ms (${results.http.projectionLag.samples} probes, ${results.http.projectionLag.lagging503} answered 503)`, 'target p99 < 10 ms'],
    [
      'storage writes during that load',
      results.http.storageWritesAt500
        ? `${results.http.storageWritesAt500.megabytesPerSecond} MB/s, ${results.http.storageWritesAt500.kilobytesPerPurchase} KB per purchase`
        : 'not counted by this kernel (/proc/<pid>/io)',
      '',
    ],
    ['bus purchases, 1 caller', `${results.bus.purchase1.commandsPerSecond}/s (${results.bus.purchase1.eventsPerSecond} events/s)`, ''],
    ['bus purchases, 64 callers, first round', `${results.bus.purchase64Cold.commandsPerSecond}/s (${results.bus.purchase64Cold.eventsPerSecond} events/s)`, 'V8 still compiling; not the figure'],
    ['bus purchases, 64 callers', `${results.bus.purchase64.commandsPerSecond}/s (${results.bus.purchase64.eventsPerSecond} events/s, ${results.bus.purchase64.bytesPerEvent} B each; the median of ${rounds(results.bus, 'purchase64EventsPerSecond')})`, `${results.ratios.busDurableVsRawBatch} of raw batch (target ≥ 0.5); ${results.ratios.busDurableVsPurchaseSizedRawBatch} of purchase-sized`],
    ['bus cancellations, 1 caller', `${results.bus.cancel1.commandsPerSecond}/s (${results.bus.cancel1.eventsPerSecond} events/s)`, ''],
    ['bus cancellations, 64 callers', `${results.bus.cancel64.commandsPerSecond}/s (${results.bus.cancel64.eventsPerSecond} events/s)`, `${results.ratios.busCancelVsRawBatch} of raw batch`],
    [`rebuild of every projection (${results.rebuild.events} events)`, `${results.rebuild.eventsPerSecond} events/s, ${results.rebuild.seconds} s (indexes ${results.rebuild.indexSeconds}; CPU ${results.rebuild.cpuSeconds} s, ${results.rebuild.kernelCpuSeconds} of it in the kernel); 1M: ${results.rebuild.seconds1M} s${results.rebuild.extrapolated ? ' (extrapolated)' : ''}`, `${results.ratios.rebuildVsScan} of scan (target ≥ 0.25, 1M < 40 s)`],
    ['RSS after the HTTP runs', `${results.memoryMb.rssAfterHttp} MiB`, 'target < 200 MiB'],
    ['RSS after the rebuild', `${results.memoryMb.rssAfterRebuild} MiB`, 'target < 300 MiB'],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  console.log(`\n${'measure'.padEnd(width)}  ${'figure'.padEnd(valueWidth)}  ratio / target`);
  for (const [name, value, note] of rows) console.log(`${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${note}`);
  if (results.profile) {
    console.log('\nservice CPU profile under purchases (self time):');
    for (const entry of results.profile) console.log(`  ${String(entry.percent).padStart(5)} %  ${entry.function}`);
  }
}

try {
  const loadAtStart = loadavg()[0];
  log('compiling the trivial reference app');
  const compiled = compileTrivialApp(join(work, 'trivial'));
  log('references: fsync, raw appends');
  const appends = await runScript('test/bench/references.bench.mjs', ['--dir', work]);
  log('trivial POST, Express');
  const expressBefore = await trivialPost(compiled, 'express');
  log('trivial POST, Fastify');
  const fastify = await trivialPost(compiled, 'fastify');
  const http = await httpRuns({ dataDir: mkdtempSync(join(work, 'service-')), seconds: DURATION, log });
  log('trivial POST, Express again (the reference is the mean of both runs)');
  const expressAfter = await trivialPost(compiled, 'express');
  const trivialPostExpress = {
    requestsPerSecond: Math.round((expressBefore.requestsPerSecond + expressAfter.requestsPerSecond) / 2),
    p50: (expressBefore.p50 + expressAfter.p50) / 2,
    p99: (expressBefore.p99 + expressAfter.p99) / 2,
    cpuMicrosPerRequest: meanOrNull(expressBefore.cpuMicrosPerRequest, expressAfter.cpuMicrosPerRequest),
    cpuMicrosPerRequestAtRate: meanOrNull(expressBefore.cpuMicrosPerRequestAtRate, expressAfter.cpuMicrosPerRequestAtRate),
    runs: [expressBefore, expressAfter],
  };
  const busRounds = [];
  for (let round = 1; round <= BUS_ROUNDS; round++) {
    log(`commands through the bus, round ${round} of ${BUS_ROUNDS} (the raw 100-per-transaction appends right before it)`);
    const appendsBeside = await runScript('test/bench/references.bench.mjs', ['--dir', work, '--batched-only']);
    busRounds.push({ appends: appendsBeside, commands: await runScript('test/bench/bus-commands.bench.mjs', ['--dir', work]) });
  }
  const batchedAppends = {
    rawAppendsPerTransaction100: median(busRounds.map((round) => round.appends.rawAppendsPerTransaction100)),
    rawAppendsPerTransaction100PurchaseSized: median(busRounds.map((round) => round.appends.rawAppendsPerTransaction100PurchaseSized)),
    // The same appends at the start of the run, beside the fsync and the single appends: not the reference.
    rawAppendsPerTransaction100AtStart: appends.rawAppendsPerTransaction100,
  };
  const bus = {
    ...Object.fromEntries(BUS_PHASES.map((phase) => [phase, medianRun(busRounds.map((round) => round.commands[phase]), (run) => run.eventsPerSecond)])),
    rounds: busRounds.map(({ appends: beside, commands }) => ({
      rawAppendsPerTransaction100: beside.rawAppendsPerTransaction100,
      purchase64EventsPerSecond: commands.purchase64.eventsPerSecond,
      cancel64EventsPerSecond: commands.cancel64.eventsPerSecond,
      purchase64VsRawBatch: ratio(commands.purchase64.eventsPerSecond, beside.rawAppendsPerTransaction100),
    })),
  };
  log(`a log of ${values['rebuild-events']} events for the rebuild`);
  const fixture = await runScript('test/bench/log-fixture.mjs', ['--dir', work, '--events', values['rebuild-events']]);
  const rawScan = () => runScript('test/bench/references.bench.mjs', ['--dir', work, '--scan', join(fixture.dataDir, 'events.db')]);
  log('raw scan of that log');
  const { scan: scanBefore } = await rawScan();
  log('rebuild of every projection');
  const rebuildRun = await runScript('test/bench/rebuild.bench.mjs', ['--data-dir', fixture.dataDir], {}, cliNodeArgs());
  log('raw scan of that log again (the reference is the mean of both scans)');
  const { scan: scanAfter } = await rawScan();
  const scan = {
    events: scanBefore.events,
    eventsPerSecond: meanOrNull(scanBefore.eventsPerSecond, scanAfter.eventsPerSecond),
    runs: [scanBefore, scanAfter],
  };
  const profile = values.profile ? (log('CPU profile of the service under purchases'), await profilePurchases()) : undefined;

  const rebuild = {
    events: rebuildRun.events,
    seconds: rebuildRun.seconds,
    foldSeconds: rebuildRun.foldSeconds,
    indexSeconds: rebuildRun.indexSeconds,
    eventsPerSecond: rebuildRun.eventsPerSecond,
    cpuSeconds: rebuildRun.cpuSeconds,
    userCpuSeconds: rebuildRun.userCpuSeconds,
    kernelCpuSeconds: rebuildRun.kernelCpuSeconds,
    // From the rate, not from `seconds` (rounded to 0.1 s: on 30,000 events that rounding alone moved the 1M figure by 1.7 s).
    seconds1M: Math.round((1_000_000 / rebuildRun.eventsPerSecond) * 10) / 10,
    extrapolated: rebuildRun.events !== 1_000_000,
    perProjection: rebuildRun.projections,
  };
  const results = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadAverage1m: { atStart: loadAtStart, atEnd: loadavg()[0] } },
    ratios: {
      httpPurchaseVsTrivialPost: ratio(http.purchase.requestsPerSecond, trivialPostExpress.requestsPerSecond),
      httpPurchaseRequestsPerSecond: http.purchase.requestsPerSecond,
      httpCancelVsTrivialPost: ratio(http.cancel.requestsPerSecond, trivialPostExpress.requestsPerSecond),
      httpCancelRequestsPerSecond: http.cancel.requestsPerSecond,
      trivialPostRequestsPerSecond: trivialPostExpress.requestsPerSecond,
      busDurableVsRawBatch: ratio(bus.purchase64.eventsPerSecond, batchedAppends.rawAppendsPerTransaction100),
      busPurchase64EventsPerSecond: bus.purchase64.eventsPerSecond,
      busDurableVsPurchaseSizedRawBatch: ratio(bus.purchase64.eventsPerSecond, batchedAppends.rawAppendsPerTransaction100PurchaseSized),
      busCancelVsRawBatch: ratio(bus.cancel64.eventsPerSecond, batchedAppends.rawAppendsPerTransaction100),
      busCancel64EventsPerSecond: bus.cancel64.eventsPerSecond,
      rawBatchEventsPerSecond: batchedAppends.rawAppendsPerTransaction100,
      rebuildVsScan: ratio(rebuild.eventsPerSecond, scan.eventsPerSecond),
      rebuildEventsPerSecond: rebuild.eventsPerSecond,
      scanEventsPerSecond: scan.eventsPerSecond,
      fastifyVsExpressTrivialPost: ratio(fastify.requestsPerSecond, trivialPostExpress.requestsPerSecond),
      fastifyTrivialPostRequestsPerSecond: fastify.requestsPerSecond,
    },
    latencyMs: {
      purchaseP99At500: http.purchaseAt500.p99,
      purchaseP50At500: http.purchaseAt500.p50,
      fsync4KiBP99At500: http.fsync4KiBMsAt500.p99,
      projectionLagP50: http.projectionLag.p50,
      projectionLagP99: http.projectionLag.p99,
    },
    io: { storageKbPerPurchaseAt500: http.storageWritesAt500?.kilobytesPerPurchase ?? null, storageMbPerSecondAt500: http.storageWritesAt500?.megabytesPerSecond ?? null },
    rebuild,
    memoryMb: { rssAfterHttp: http.rssAfterHttp, rssAfterRebuild: rebuildRun.rssMb },
    cpuMicrosPerRequest: {
      ...http.cpuMicrosPerRequest,
      trivialPost: trivialPostExpress.cpuMicrosPerRequest,
      purchaseVsTrivialPost: ratioOrNull(http.cpuMicrosPerRequest.purchase?.total, trivialPostExpress.cpuMicrosPerRequest),
      cancelVsTrivialPost: ratioOrNull(http.cpuMicrosPerRequest.cancel?.total, trivialPostExpress.cpuMicrosPerRequest),
      trivialPostAt500: trivialPostExpress.cpuMicrosPerRequestAtRate,
      trivialPostFastifyAt500: fastify.cpuMicrosPerRequestAtRate,
      purchaseAt500VsTrivialPostAt500: ratioOrNull(http.cpuMicrosPerRequest.purchaseAt500?.total, trivialPostExpress.cpuMicrosPerRequestAtRate),
    },
    references: { ...appends, ...batchedAppends, rawScan: scan, trivialPostExpress, trivialPostFastify: fastify },
    http,
    bus,
    ...(profile ? { profile } : {}),
    seconds: Math.round((Date.now() - startedAt) / 1000),
  };
  results.targets = {
    httpPurchaseVsTrivialPost: { target: '>= 0.4', met: results.ratios.httpPurchaseVsTrivialPost >= 0.4 },
    httpCancelVsTrivialPost: { target: '>= 0.4', met: results.ratios.httpCancelVsTrivialPost >= 0.4 },
    purchaseP99At500: { target: '< 25 ms', met: results.latencyMs.purchaseP99At500 < 25 },
    projectionLagP99: { target: '< 10 ms', met: results.latencyMs.projectionLagP99 !== null && results.latencyMs.projectionLagP99 < 10 },
    busDurableVsRawBatch: { target: '>= 0.5', met: results.ratios.busDurableVsRawBatch >= 0.5 },
    rebuildVsScan: { target: '>= 0.25', met: results.ratios.rebuildVsScan >= 0.25 },
    rebuildSeconds1M: { target: '< 40 s', met: rebuild.seconds1M < 40 },
    rssAfterRebuild: { target: '< 300 MiB', met: results.memoryMb.rssAfterRebuild < 300 },
    rssAfterHttp: { target: '< 200 MiB', met: results.memoryMb.rssAfterHttp < 200 },
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
  printTable(results);
  console.log(`\n${results.seconds} s; results in ${values.out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
