import perfHooks from 'node:perf_hooks';
import { collectDefaultMetrics, type Registry } from 'prom-client';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * prom-client's default metrics, registered in `registry`, and the function that stops them.
 * prom-client has none (prometheus/client_js#494 and #500, both open): its garbage-collection
 * observer stays subscribed for the life of the process and keeps the registry it records into
 * reachable (and under jest, through the module scope it closes over, every module its test file
 * loaded); its event-loop monitor keeps sampling every 10 ms. Every application closed in a process
 * that goes on stayed behind with them: the jest workers, which start and close applications test
 * file after test file, grew by about 12 MB of heap a file. So the observer and the monitor are
 * caught as prom-client makes them, while it is called here, and stopped when the application
 * closes.
 */
export function collectStoppableDefaultMetrics(registry: Registry): () => void {
  const hooks = perfHooks as Writable<typeof perfHooks>;
  const { PerformanceObserver, monitorEventLoopDelay } = hooks;
  const observers: InstanceType<typeof PerformanceObserver>[] = [];
  const monitors: ReturnType<typeof monitorEventLoopDelay>[] = [];
  hooks.PerformanceObserver = class extends PerformanceObserver {
    constructor(callback: ConstructorParameters<typeof PerformanceObserver>[0]) {
      super(callback);
      observers.push(this);
    }
  };
  hooks.monitorEventLoopDelay = (options) => {
    const monitor = monitorEventLoopDelay(options);
    monitors.push(monitor);
    return monitor;
  };
  try {
    collectDefaultMetrics({ register: registry });
  } finally {
    hooks.PerformanceObserver = PerformanceObserver;
    hooks.monitorEventLoopDelay = monitorEventLoopDelay;
  }
  return () => {
    for (const observer of observers) observer.disconnect();
    for (const monitor of monitors) monitor.disable();
  };
}
