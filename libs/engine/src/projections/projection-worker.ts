// The entry of the projection worker thread (PROJECTIONS=worker): every registered projection folds
// here, beside the service's main thread, so a request never waits behind a projection's batch.
// The same entry runs a start's catch-up thread (`role: 'catch-up'`), which ends once it has folded
// up to the log's head.
import { SystemClock } from '@csp/application/ports/clock.port';
import { KeyVault } from '@csp/application/keys/key-vault';
import { CodecEventStore, CommitSignal, nameThisThread, positionToString, type LogPosition } from '@csp/event-store';
import { LiveFold, projectionRegistry, type LiveBatchCommitted } from '@csp/read-models';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { engineEventCodec } from '../stores/event-codec';
import { openReadModels, openSqliteLog } from '../stores/stores';
import { catchUpTogether } from './catch-up-together';
import { ENGINE_LIVE_FOLD } from './live-fold-pacing';
import { REBUILD_READ_STORE } from './projection-operations';
import type { FromProjectionWorker, LogLevel, ProjectionWorkerData, ToProjectionWorker } from './projection-worker.protocol';
import { SupervisedProjection, type ProjectionLogger, type ProjectionState } from './supervised-projection';
import { lowerThisThreadsPriority } from './thread-priority';

const STATE_REPORT_MS = 100;

/** Hands a projection's log lines to the service's logger instead of printing in another format. */
function forwardingLogger(port: MessagePort, context: string): ProjectionLogger {
  const forward = (level: LogLevel, message: string): void => send(port, { type: 'log', level, context, message });
  return { log: (message) => forward('log', message), error: (message) => forward('error', message) };
}

function send(port: MessagePort, message: FromProjectionWorker): void {
  port.postMessage(message);
}

/**
 * The positions folded since the last report, and the live batches committed, sent as one message
 * per turn of the event loop: a batch moves every projection at once, and each message costs the
 * thread answering requests a structured-clone read and a dispatch.
 */
class ProgressReports {
  private readonly pending = new Map<string, string>();
  private batches: LiveBatchCommitted[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly port: MessagePort) {}

  report(projection: string, position: LogPosition): void {
    this.pending.set(projection, positionToString(position));
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** A batch's `folded` reports come first, so it rides on their message. */
  reportBatch(batch: LiveBatchCommitted): void {
    this.batches.push(batch);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.pending.size === 0 && this.batches.length === 0) return;
    send(this.port, { type: 'progress', positions: Object.fromEntries(this.pending), batches: this.batches });
    this.pending.clear();
    this.batches = [];
  }
}

/**
 * PROJECTION_WORKER_NICE: the operator chose command throughput in bursts over read-model freshness
 * (on 2 cores the worker took two thirds of a core while the service answered cancellations, and the
 * request and log-writer threads waited a quarter of their time for one).
 */
function giveWayToRequests(port: MessagePort, steps: number): void {
  const niceness = lowerThisThreadsPriority(steps);
  if (niceness === undefined) {
    send(port, { type: 'log', level: 'warn', context: 'ProjectionWorker', message: `PROJECTION_WORKER_NICE=${steps} has no effect here: this system gives threads no priority of their own` });
  } else {
    send(port, { type: 'log', level: 'log', context: 'ProjectionWorker', message: `projections run at nice ${niceness}, below the threads that answer requests (PROJECTION_WORKER_NICE=${steps})` });
  }
}

async function run(port: MessagePort, { config, masterKey, commitSignal, role }: ProjectionWorkerData): Promise<void> {
  // A catch-up folds as a rebuild does, with the rebuild's checkpoints; beside requests, the
  // service's store on the same file runs the checkpointer thread.
  const db = await openReadModels(config, projectionRegistry, role === 'catch-up' ? REBUILD_READ_STORE : { walCheckpoints: 'another-connection' });
  const log = openSqliteLog(config);
  const store = new CodecEventStore(log, engineEventCodec(new KeyVault(db, Buffer.from(masterKey), new SystemClock())));
  const progress = new ProgressReports(port);
  if (role === 'catch-up') {
    await catchUpTogether(store, db, projectionRegistry, (projection, position) => progress.report(projection, position));
    progress.flush();
    await store.close();
    await db.destroy();
    send(port, { type: 'caught-up' });
    port.close();
    return;
  }
  if (config.projectionWorkerNice > 0) giveWayToRequests(port, config.projectionWorkerNice);
  const liveFold = new LiveFold(store, db, { ...ENGINE_LIVE_FOLD, onBatchCommitted: (batch) => progress.reportBatch(batch) });
  const projections = projectionRegistry.map(
    (definition) =>
      new SupervisedProjection(
        definition,
        store,
        db,
        { onProgress: (projection, position) => progress.report(projection, position), logger: forwardingLogger(port, `Projection ${definition.name}`) },
        liveFold,
      ),
  );
  let stateTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const unfollow = new CommitSignal(commitSignal).follow(() => log.wakeSubscriptions());
  const stop = async (): Promise<void> => {
    unfollow();
    clearInterval(stateTimer);
    await Promise.all(projections.map((projection) => projection.stop()));
    await liveFold.close();
    await store.close();
    await db.destroy();
    progress.flush();
    send(port, { type: 'stopped' });
    port.close();
  };
  port.on('message', (message: ToProjectionWorker) => {
    if (message.type === 'stop') stopping ??= stop();
  });

  await catchUpTogether(store, db, projectionRegistry, (projection, position) => progress.report(projection, position));
  await Promise.all(projections.map((projection) => projection.start()));
  // A projection whose checkpoint was at the head already folded nothing: say where it stands.
  for (const projection of projections) {
    if (projection.position) progress.report(projection.definition.name, projection.position);
  }
  progress.flush();
  let reported = '';
  const reportStates = (): void => {
    const states: Record<string, ProjectionState> = Object.fromEntries(projections.map((projection) => [projection.definition.name, projection.state]));
    const text = JSON.stringify(states);
    if (text !== reported) send(port, { type: 'states', states });
    reported = text;
  };
  reportStates();
  stateTimer = setInterval(reportStates, STATE_REPORT_MS);
  send(port, { type: 'started' });
}

if (!parentPort) throw new Error('projection-worker runs as a worker thread of the service (PROJECTIONS=worker)');
const port = parentPort;
const data = workerData as ProjectionWorkerData;
nameThisThread(data.role === 'catch-up' ? 'csp-catch-up' : 'csp-projections');
run(port, data).catch((error: unknown) => {
  // Thrown on: the worker's 'error' event tells the service, which restarts it.
  setImmediate(() => {
    throw error;
  });
});
