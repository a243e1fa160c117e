/**
 * A service instance whose event store "dies" after a given number of appends, to interrupt a
 * lifecycle catch-up half-way in a way that does not depend on timing.
 *
 * Why not just `app.stop()` during the catch-up: `LifecycleTicker.onModuleDestroy` waits for the pass
 * in flight, so a graceful stop always lets the catch-up finish. A crash is what interrupts it, and
 * for the log a crash looks like this: appends up to some point are durable, the one in flight may
 * be durable without the process ever hearing so, and nothing after it is written. The wrapper does
 * exactly that: append N is committed to the real SQLite file and then throws (committed, never
 * acknowledged), and every later append throws without writing. The scheduler pass aborts on the
 * error like a dead process would, the module closes, and the next instance on the same DATA_DIR
 * must finish the work from the log alone.
 */
import type { AppendOptions, AppendResult, EventStore, EventToAppend } from '@csp/event-store';
import { E2eApp } from '../../support/e2e-harness';
import { ForwardingEventStore } from '@csp/testing/forwarding-event-store';

export class SimulatedCrash extends Error {
  constructor(readonly append: number) {
    super(`simulated crash at append ${append}`);
    this.name = 'SimulatedCrash';
  }
}

export class CrashingEventStore extends ForwardingEventStore {
  private appends = 0;
  /** Appends that reached the real store (the crashing one included). */
  committedAppends = 0;
  private signalCrash!: () => void;
  readonly crashed = new Promise<void>((resolve) => (this.signalCrash = resolve));

  constructor(
    inner: EventStore,
    private readonly crashAtAppend: number,
  ) {
    super(inner);
  }

  override async appendToStream(streamName: string, events: EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    const number = ++this.appends;
    if (number > this.crashAtAppend) throw new SimulatedCrash(number);
    const result = await this.inner.appendToStream(streamName, events, options);
    this.committedAppends++;
    if (number === this.crashAtAppend) {
      this.signalCrash();
      throw new SimulatedCrash(number);
    }
    return result;
  }
}

export interface CrashingApp {
  e2e: E2eApp;
  store: CrashingEventStore;
}

/**
 * The real service (as `E2eApp.start` builds it, on whichever stores the jest project selects) on
 * `dataDir`, with its event store wrapped. Its start-up catch-up (LifecycleTicker) begins during start.
 */
export async function startCrashingApp(options: { dataDir: string; now: string; crashAtAppend: number }): Promise<CrashingApp> {
  let store: CrashingEventStore | undefined;
  const e2e = await E2eApp.start({
    dataDir: options.dataDir,
    now: options.now,
    wrapEventStore: (inner) => (store = new CrashingEventStore(inner, options.crashAtAppend)),
  });
  return { e2e, store: store! };
}
