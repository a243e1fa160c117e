// The storage's sync latency while a load runs: a thread of the benchmark's process writes 4 KiB
// and syncs it every 20 ms in the directory it is given (the service's, so the same file system
// and device), until it is stopped. 50 syncs a second beside the log's 500 or more: it measures the
// storage the service meets without being a load of its own.
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const INTERVAL_MS = 20;

if (!isMainThread && workerData?.fsyncProbeDir) {
  const file = join(workerData.fsyncProbeDir, 'fsync-probe.bin');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 7);
  const latencies = [];
  const timer = setInterval(() => {
    const started = performance.now();
    writeSync(fd, block, 0, block.length, 0);
    fsyncSync(fd);
    latencies.push(performance.now() - started);
  }, INTERVAL_MS);
  parentPort.once('message', () => {
    clearInterval(timer);
    closeSync(fd);
    rmSync(file, { force: true });
    parentPort.postMessage(latencies);
  });
}

/**
 * Starts syncing in `dir`; the returned function stops and resolves with each sync's latency in
 * milliseconds.
 *
 * @example
 *   const stop = startFsyncProbe(dataDir);
 *   await load();
 *   const latencies = await stop();
 */
export function startFsyncProbe(dir) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { fsyncProbeDir: dir } });
  return async () => {
    const latencies = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage('stop');
    });
    await worker.terminate();
    return latencies;
  };
}
