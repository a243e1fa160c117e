import { NO_STREAM, SqliteEventStore } from '@csp/event-store';
import Database from 'better-sqlite3';
import { CommanderError } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import { buildCli } from '../cli';
import { LOG_TAMPERED_EXIT_CODE } from './log.command';

describe('csp log verify', () => {
  let dataDir: string;
  let stdout: string;
  let stderr: string;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'csp-log-verify-'));
    stdout = '';
    stderr = '';
    const store = SqliteEventStore.open(join(dataDir, 'events.db'));
    for (let stream = 1; stream <= 4; stream++) {
      const events = [0, 1, 2].map((index) => ({ id: uuid(), type: 'PriceRecorded', data: { unitPrice: 1000 * stream + index } }));
      await store.appendToStream(`order-${stream}`, events, { expectedRevision: NO_STREAM });
    }
    await store.close();
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const run = (...args: string[]) =>
    buildCli({ env: { DATA_DIR: dataDir }, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }).parseAsync([
      'node',
      'csp',
      'log',
      'verify',
      ...args,
    ]);

  it('on a clean log prints the count and the last position and ends normally', async () => {
    await run();
    expect(stdout).toBe('log intact: 12 events verified, last position 12.12\n');
    expect(stderr).toBe('');
  });

  it('from a position checks the events from there on', async () => {
    await run('--from', '10.10');
    expect(stdout).toBe('log intact: 3 events verified, last position 12.12\n');
  });

  it('on a log with a number edited inside a stored event names that position and exits non-zero', async () => {
    const raw = new Database(join(dataDir, 'events.db'));
    raw.prepare('UPDATE events SET data = ? WHERE position = 8').run('{"unitPrice":1}');
    raw.close();

    const failure = await run().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CommanderError);
    expect((failure as CommanderError).exitCode).toBe(LOG_TAMPERED_EXIT_CODE);
    expect(stderr).toMatch(/^log TAMPERED at position 8\.8 \(altered\): .*; 7 events before it verified \(last good position 7\.7\)/);
    expect(stdout).toBe('');
  });
});
