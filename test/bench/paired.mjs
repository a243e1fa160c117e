// Two builds, or one build with and without a setting, compared on this shared and noisy machine:
// the benchmark's HTTP phase (purchases and cancellations at 32 connections, then purchases offered
// at 500/s with projection-lag probes) run for each in turn, the order swapped every pair so a
// machine that slows down or speeds up over the minutes favours neither. The same build has given
// 21.7 and 63.4 ms of p99 at 500/s in two runs minutes apart; a change is judged by the medians of
// several pairs, not by one run.
//
//   node test/bench/paired.mjs --against <checkout>    [--pairs 3] [--duration 8]
//   node test/bench/paired.mjs --env NAME=value ...    [--pairs 3] [--duration 8]
//   node test/bench/paired.mjs --node-arg=--a-v8-flag   [--pairs 3] [--duration 8]
//
// A is this checkout's dist/ as it is. B is the dist/ of `--against` (another checkout, built with
// `npm run build` there), or this one's, with each `--env` added to the service's environment and each
// `--node-arg` to its node command line (after the flags `npm start` gives it).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { root } from './support/processes.mjs';
import { httpRuns } from './support/service-load.mjs';

const { values } = parseArgs({
  options: {
    against: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    pairs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '8' },
  },
});
function refuse(message) {
  process.stderr.write(`paired.mjs: ${message}\n`);
  process.exit(2);
}

const PAIRS = Number(values.pairs);
const DURATION = Number(values.duration);
if (!Number.isInteger(PAIRS) || PAIRS < 1) refuse(`--pairs takes a whole number of at least 1, got ${values.pairs}`);
if (!(DURATION > 0)) refuse(`--duration takes seconds, got ${values.duration}`);
const changesOfB = [...values.env, ...values['node-arg']];
if (values.against === undefined && changesOfB.length === 0) {
  refuse('say what B is: --against <checkout>, --env NAME=value, --node-arg=--flag, or several of them');
}
const envOfB = Object.fromEntries(
  values.env.map((assignment) => {
    const equals = assignment.indexOf('=');
    if (equals < 1) refuse(`--env takes NAME=value, got ${assignment}`);
    return [assignment.slice(0, equals), assignment.slice(equals + 1)];
  }),
);
const builds = {
  A: { checkout: root, env: {}, nodeArgs: [] },
  B: { checkout: values.against === undefined ? root : resolve(values.against), env: envOfB, nodeArgs: values['node-arg'] },
};
for (const [name, { checkout }] of Object.entries(builds)) {
  if (!existsSync(join(checkout, 'dist/apps/api/src/main.js'))) refuse(`${name} (${checkout}) has no built service: run \`npm run build\` there first`);
}
const work = mkdtempSync(join(tmpdir(), 'csp-paired-'));
const startedAt = Date.now();

function log(message) {
  process.stderr.write(`[paired ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
}

function figures(http) {
  return {
    purchasesPerSecond: http.purchase.requestsPerSecond,
    cancellationsPerSecond: http.cancel.requestsPerSecond,
    p50At500: http.purchaseAt500.p50,
    p90At500: http.purchaseAt500.p90,
    p99At500: http.purchaseAt500.p99,
    lagP99: http.projectionLag.p99,
    fsyncP99At500: http.fsync4KiBMsAt500.p99,
    commitsOver10MsAt500: http.logCommitsAt500?.over10Ms ?? null,
    batchesVisibleOver10MsAt500: http.projectionBatchesAt500?.visibleOver10Ms ?? null,
    kbPerPurchase: http.storageWritesAt500?.kilobytesPerPurchase ?? null,
    rssAfterHttp: http.rssAfterHttp,
  };
}

/** The printed table's columns: each figure's key and its heading. */
const COLUMNS = [
  ['purchasesPerSecond', 'buys/s'],
  ['cancellationsPerSecond', 'cancels/s'],
  ['p50At500', 'p50@500'],
  ['p90At500', 'p90@500'],
  ['p99At500', 'p99@500'],
  ['lagP99', 'lag p99'],
  ['fsyncP99At500', 'sync p99'],
  ['commitsOver10MsAt500', 'cmt>10ms'],
  ['batchesVisibleOver10MsAt500', 'vis>10ms'],
  ['kbPerPurchase', 'KB/buy'],
  ['rssAfterHttp', 'RSS MiB'],
];

function median(numbers) {
  const sorted = numbers.filter((value) => value !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : Math.round(((sorted[middle - 1] + sorted[middle]) / 2) * 10) / 10;
}

function printRow(label, row) {
  console.log([label.padEnd(8), ...COLUMNS.map(([key]) => String(row[key] ?? '-').padStart(9))].join(' '));
}

try {
  log(`A: ${builds.A.checkout}; B: ${builds.B.checkout}${changesOfB.length > 0 ? ` with ${changesOfB.join(' ')}` : ''}; ${PAIRS} pairs of ${DURATION} s runs`);
  const runs = { A: [], B: [] };
  for (let pair = 1; pair <= PAIRS; pair++) {
    for (const name of pair % 2 === 1 ? ['A', 'B'] : ['B', 'A']) {
      const dataDir = mkdtempSync(join(work, `${name}-${pair}-`));
      log(`pair ${pair}, ${name}`);
      const http = await httpRuns({ dataDir, ...builds[name], seconds: DURATION, log: (message) => log(`  ${name}: ${message}`) });
      runs[name].push(figures(http));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  console.log(`\n${['run'.padEnd(8), ...COLUMNS.map(([, heading]) => heading.padStart(9))].join(' ')}`);
  for (const name of ['A', 'B']) runs[name].forEach((row, index) => printRow(`${name} ${index + 1}`, row));
  for (const name of ['A', 'B']) printRow(`${name} median`, Object.fromEntries(COLUMNS.map(([key]) => [key, median(runs[name].map((row) => row[key]))])));
  console.log(`\n${JSON.stringify({ builds, pairs: PAIRS, durationSeconds: DURATION, runs })}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
