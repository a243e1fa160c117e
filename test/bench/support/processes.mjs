// Starting and watching the processes a benchmark measures: the built service, the trivial
// reference app, and benchmark scripts that answer one JSON line.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const root = new URL('../../../', import.meta.url).pathname;

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor(check, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resident set size of a process in MiB, from /proc (the figure `ps` calls RSS). */
export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return Math.round((kib / 1024) * 10) / 10;
}

/**
 * Bytes a process has caused to be written to storage so far (`write_bytes` in /proc/<pid>/io:
 * counted when pages are dirtied, write-ahead logs and their copies into the files alike), or null
 * where the kernel does not keep the count.
 */
export function storageWriteBytes(pid) {
  let io;
  try {
    io = readFileSync(`/proc/${pid}/io`, 'utf8');
  } catch {
    return null;
  }
  const count = /^write_bytes: (\d+)$/m.exec(io)?.[1];
  return count === undefined ? null : Number(count);
}

/** The kernel's clock ticks per second, in which /proc counts CPU time. */
const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds (user and system) each group of a process's threads has used so far, from
 * /proc/<pid>/task: `request thread` (the main thread), each thread the engine names (`csp-…`, see
 * `nameThisThread`), and `helpers` for the rest (V8's garbage-collection and compiler threads,
 * libuv's pool). Null where the kernel gives no per-thread counts. A thread that ended is no longer
 * counted, so compare two readings only across a phase in which the named threads live on.
 */
export function threadCpuSeconds(pid) {
  let threads;
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const seconds = {};
  for (const thread of threads) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    } catch {
      continue; // ended between the listing and the read
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // Fields after the name: state is the first; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const group = thread === String(pid) ? 'request thread' : name.startsWith('csp-') ? name : 'helpers';
    seconds[group] = (seconds[group] ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  }
  return seconds;
}

/** Microseconds of CPU per request in each thread group between two `threadCpuSeconds` readings, and their total. */
export function cpuMicrosPerRequest(before, after, requests) {
  if (!before || !after || requests === 0) return null;
  const perRequest = {};
  for (const [group, seconds] of Object.entries(after)) {
    perRequest[group] = Math.round(((seconds - (before[group] ?? 0)) * 1e6) / requests);
  }
  perRequest.total = Object.values(perRequest).reduce((sum, micros) => sum + micros, 0);
  return perRequest;
}

function startProcess(args, env) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    child,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * The built service (`npm run build` first) on the embedded default stores in `dataDir`, as
 * `npm start` runs it. Resolves once /health answers, with the development AdminAgent token it prints.
 * `checkout`: the repository whose dist/ runs (this one unless another build is compared).
 */
export async function startService({ dataDir, nodeArgs = [], env = {}, checkout = root }) {
  const port = await freePort();
  const service = startProcess([...serviceNodeArgs(checkout), ...nodeArgs, join(checkout, 'dist/apps/api/src/main.js')], {
    PORT: String(port),
    DATA_DIR: dataDir,
    NODE_ENV: 'development',
    AUTH_JWT_SECRET: '',
    LOG_LEVEL: 'warn',
    // As `npm start` and the image run it.
    MALLOC_ARENA_MAX: '2',
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  const printedToken = () => /Development AdminAgent token[^\n]*\n(\S+)\n/.exec(service.output())?.[1];
  // The token is printed just after the service starts listening, so /health may answer first.
  await waitFor(async () => {
    if (service.child.exitCode !== null) throw new Error(`the service exited: ${service.output().slice(-500)}`);
    return (await fetch(`${base}/health`)).status === 200 && printedToken() !== undefined;
  }, 'the service to answer /health and print its development token');
  const token = printedToken();
  if (!token) throw new Error(`the service printed no development token: ${service.output().slice(-500)}`);
  return { ...service, port, base, token };
}

/** Compiles the trivial reference app once (it imports only Nest and class-validator). */
export function compileTrivialApp(outDir) {
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '--outDir', outDir,
      '--module', 'commonjs', '--target', 'ES2022', '--strict', '--esModuleInterop', '--skipLibCheck',
      '--experimentalDecorators', '--emitDecoratorMetadata',
      join(root, 'test/bench/trivial-post.app.ts'),
    ],
    { stdio: 'inherit' },
  );
  return join(outDir, 'trivial-post.app.js');
}

export async function startTrivialApp(compiled, adapter) {
  const app = startProcess([compiled], { ADAPTER: adapter, PORT: '0', NODE_PATH: join(root, 'node_modules') });
  let port;
  await waitFor(() => {
    if (app.child.exitCode !== null) throw new Error(`the trivial app exited: ${app.output()}`);
    port = /listening (\d+)/.exec(app.output())?.[1];
    return Boolean(port);
  }, `the trivial ${adapter} app`);
  return { ...app, base: `http://127.0.0.1:${port}` };
}

/**
 * The node flags `npm run cli` starts the CLI with (package.json's `cli` script), so a benchmark of
 * what the CLI does runs as the CLI runs.
 */
export function cliNodeArgs() {
  return nodeArgsOfScript(root, 'cli', 'dist/apps/cli/src/main.js');
}

/** The V8 flags `npm start` (and the image) give the service, as `checkout`'s package.json has them. */
function serviceNodeArgs(checkout) {
  return nodeArgsOfScript(checkout, 'start', 'dist/apps/api/src/main.js');
}

function nodeArgsOfScript(checkout, script, entry) {
  const { scripts } = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8'));
  const launch = new RegExp(`\\bnode((?: --[^\\s]+)*) ${entry.replaceAll('.', '\\.')}`).exec(scripts[script]);
  if (!launch) throw new Error(`package.json's ${script} script no longer starts ${entry}: ${scripts[script]}`);
  return launch[1].trim().split(' ').filter(Boolean);
}

/** Runs a benchmark script in its own process (its own heap and RSS); it prints one JSON line last. */
export async function runScript(script, args = [], env = {}, nodeArgs = []) {
  const run = startProcess([...nodeArgs, join(root, script), ...args], env);
  const code = await run.exited;
  const output = run.output();
  if (code !== 0) throw new Error(`${script} failed (${code}):\n${output.slice(-2000)}`);
  const last = output.trim().split('\n').at(-1);
  return JSON.parse(last);
}
