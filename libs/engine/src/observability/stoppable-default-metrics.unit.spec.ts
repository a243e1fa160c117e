import perfHooks from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import { collectStoppableDefaultMetrics } from './stoppable-default-metrics';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Whether a registry given to the default metrics can still be reached once `stop` (if any) has run. */
async function registryStaysReachable(stop: (stopDefaultMetrics: () => void) => void): Promise<boolean> {
  const registry = new WeakRef(
    (() => {
      const created = new Registry();
      stop(collectStoppableDefaultMetrics(created));
      return created;
    })(),
  );
  // WeakRefs hold their target until the job that made them ends.
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  return registry.deref() !== undefined;
}

describe('prom-client default metrics that can be stopped', () => {
  it('registers the default metrics, the process CPU and the collections among them', async () => {
    const registry = new Registry();
    const stop = collectStoppableDefaultMetrics(registry);
    try {
      const text = await registry.metrics();
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain('nodejs_gc_duration_seconds');
      expect(text).toContain('nodejs_eventloop_lag_p99_seconds');
    } finally {
      stop();
    }
  });

  it('leaves perf_hooks as it found it', () => {
    const { PerformanceObserver, monitorEventLoopDelay } = perfHooks;
    collectStoppableDefaultMetrics(new Registry())();
    expect(perfHooks.PerformanceObserver).toBe(PerformanceObserver);
    expect(perfHooks.monitorEventLoopDelay).toBe(monitorEventLoopDelay);
  });

  it('lets the registry go once stopped; left running, the collections observer keeps it', async () => {
    expect(await registryStaysReachable((stopDefaultMetrics) => stopDefaultMetrics())).toBe(false);
    expect(await registryStaysReachable(() => undefined)).toBe(true);
  });
});
