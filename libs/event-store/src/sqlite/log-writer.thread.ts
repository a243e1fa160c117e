// The writer thread's program: its own connection to the log, committing the batches the store sends.
import type Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { CommitSignal } from './commit-signal';
import { toWireError, type FromLogWriter, type LogWriterThreadData, type ToLogWriter, type WireError } from './log-writer-thread.protocol';
import { SqliteLogWriter } from './sqlite-log-writer';
import { openSqliteConnection } from './sqlite-connection';
import { nameThisThread } from '../thread-name';

nameThisThread('csp-log-writer');
const port = parentPort!;
const { file, busyTimeoutMs, backgroundCheckpoints, commitSignal } = workerData as LogWriterThreadData;
const signal = commitSignal && new CommitSignal(commitSignal);

let db: Database.Database | undefined;
let writer: SqliteLogWriter | undefined;
let openFailure: WireError | undefined;
try {
  db = openSqliteConnection(file, { timeout: busyTimeoutMs, fileMustExist: true });
  db.pragma('synchronous = FULL');
  if (backgroundCheckpoints) db.pragma('wal_autocheckpoint = 0');
  db.defaultSafeIntegers(true);
  writer = new SqliteLogWriter(db);
} catch (error) {
  // Reported with each commit, as the store reports a commit that could not open the file.
  openFailure = toWireError(error);
}

const post = (message: FromLogWriter) => port.postMessage(message);

port.on('message', (message: ToLogWriter) => {
  if (message.type === 'close') {
    db?.close();
    port.close();
    return;
  }
  if (!writer) return post({ type: 'failed', id: message.id, error: openFailure! });
  try {
    const outcomes = writer.commit(message.batch);
    signal?.committed();
    post({ type: 'committed', id: message.id, outcomes: outcomes.map((outcome) => (outcome.ok ? outcome : { ok: false, error: toWireError(outcome.error) })) });
  } catch (error) {
    post({ type: 'failed', id: message.id, error: toWireError(error) });
  }
});
