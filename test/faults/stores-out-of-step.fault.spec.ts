import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../../apps/cli/src/cli';
import { LOG_TAMPERED_EXIT_CODE } from '../../apps/cli/src/commands/log.command';
import { E2eApp } from '../support/e2e-harness';
import { buy, registerCustomer, SKU, type RegisteredCustomer } from '../e2e/support/e2e-support';

/**
 * The embedded stores under DATA_DIR changed behind the service's back: the log emptied, replaced or
 * restored from an older copy under a surviving read store, an event edited in place, a damaged page,
 * a second service on the same directory. Each start is refused with one line naming both stores and
 * the fix; after the fix the service answers exactly what the log holds.
 */
describe('faults: stores out of step, tampering and a second process on one DATA_DIR', () => {
  const dirs: string[] = [];
  let running: E2eApp | undefined;

  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'csp-faults-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (dataDir: string) => (running = await E2eApp.start({ dataDir }));
  const stop = async () => {
    await running?.stop({ keepData: true });
    running = undefined;
  };
  const refusal = (dataDir: string) =>
    E2eApp.start({ dataDir }).then(
      async (app) => {
        await app.stop({ keepData: true });
        throw new Error('the start was not refused');
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  const cli = async (dataDir: string, ...args: string[]) => {
    let stdout = '';
    let stderr = '';
    let exitCode = 0;
    await buildCli({ env: { DATA_DIR: dataDir }, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) })
      .parseAsync(['node', 'csp', ...args])
      .catch((error: { exitCode?: number }) => (exitCode = error.exitCode ?? 1));
    return { stdout, stderr, exitCode };
  };
  const customerStatus = async (app: E2eApp, customer: RegisteredCustomer) =>
    (await app.http().get(`/v1/customers/${customer.id}`).set('Authorization', await app.token({ roles: ['AdminAgent'] }))).status;
  const ready = async (app: E2eApp) => (await app.http().get('/health/ready')).status;
  const removeLog = (dataDir: string) => {
    for (const file of ['events.db', 'events.db-wal', 'events.db-shm']) rmSync(join(dataDir, file), { force: true });
  };

  afterEach(async () => {
    await stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('the log emptied under a surviving read store: refused naming both files and the rebuild; after it the ghosts are gone', async () => {
    const dataDir = newDataDir();
    const ghost = await registerCustomer(await start(dataDir));
    await stop();
    removeLog(dataDir);

    const message = await refusal(dataDir);
    expect(message).toBe(
      `the read store ${join(dataDir, 'read-models.db')} folds another event log (${message.match(/folds another event log \(([^)]+)\)/)![1]}) ` +
        `than the event log ${join(dataDir, 'events.db')} (${message.match(/events\.db \(([^)]+)\)/)![1]}): the log was emptied, replaced or recreated; ` +
        'run npm run cli -- projections rebuild --all with the same settings to rebuild the read store from this log, then start again',
    );
    expect(message).not.toContain('\n');

    const rebuild = await cli(dataDir, 'projections', 'rebuild', '--all');
    expect(rebuild.exitCode).toBe(0);
    expect(rebuild.stdout).toMatch(/read store bound to event log \S+\n$/);
    const app = await start(dataDir);
    expect(await ready(app)).toBe(200);
    expect(await customerStatus(app, ghost)).toBe(404);
    const fresh = await registerCustomer(app);
    expect(await customerStatus(app, fresh)).toBe(200);
  });

  it('the log replaced by another service\'s log: refused; after the rebuild the other log\'s customers answer', async () => {
    const dataDir = newDataDir();
    const ours = await registerCustomer(await start(dataDir));
    await stop();
    const otherDir = newDataDir();
    const theirs = await registerCustomer(await start(otherDir));
    await stop();
    removeLog(dataDir);
    copyFileSync(join(otherDir, 'events.db'), join(dataDir, 'events.db'));

    expect(await refusal(dataDir)).toMatch(/^the read store .*read-models\.db folds another event log \(.+\) than the event log .*events\.db \(.+\): .*projections rebuild --all/);
    expect((await cli(dataDir, 'projections', 'rebuild', '--all')).exitCode).toBe(0);
    const app = await start(dataDir);
    expect(await customerStatus(app, theirs)).toBe(200);
    expect(await customerStatus(app, ours)).toBe(404);
  });

  it('the log restored from an older copy: refused naming how far each store goes; after the rebuild exactly the restored log answers', async () => {
    const dataDir = newDataDir();
    const before = await registerCustomer(await start(dataDir));
    await stop();
    const backup = join(newDataDir(), 'events.db');
    copyFileSync(join(dataDir, 'events.db'), backup);
    const later = await start(dataDir);
    const after = await registerCustomer(later);
    // The read store has folded the registration the backup lacks: it is now ahead of the backup.
    expect((await later.http().get(`/v1/customers/${after.id}`).set('Authorization', await later.token({ roles: ['AdminAgent'] })).set('X-Min-Position', after.position)).status).toBe(200);
    await stop();
    const afterHeadDir = newDataDir();
    copyFileSync(join(dataDir, 'events.db'), join(afterHeadDir, 'events.db'));
    removeLog(dataDir);
    copyFileSync(backup, join(dataDir, 'events.db'));

    const [restoredHead, lostHead] = [headOf(backup), headOf(join(afterHeadDir, 'events.db'))];
    const message = await refusal(dataDir);
    expect(message).toMatch(
      new RegExp(
        `^the read store ${escape(join(dataDir, 'read-models.db'))} has folded up to position (\\d+)\\.\\1 \\(\\S+\\) but the event log ${escape(join(dataDir, 'events.db'))} ends at ${restoredHead}\\.${restoredHead}: ` +
          'the log was restored from an older copy or cut; run npm run cli -- projections rebuild --all',
      ),
    );
    // Whichever projection got furthest: past the restored log, within the lost one.
    const folded = Number(/up to position (\d+)\./.exec(message)![1]);
    expect(folded).toBeGreaterThan(restoredHead);
    expect(folded).toBeLessThanOrEqual(lostHead);
    expect((await cli(dataDir, 'projections', 'rebuild', '--all')).exitCode).toBe(0);
    const app = await start(dataDir);
    expect(await customerStatus(app, before)).toBe(200);
    expect(await customerStatus(app, after)).toBe(404);
  });

  it('a number edited inside a stored event: the start is refused at that position, log verify names it and exits non-zero', async () => {
    const dataDir = newDataDir();
    const app = await start(dataDir);
    const customer = await registerCustomer(app);
    await buy(app, customer.id, [{ skuId: SKU.office, quantity: 1, billingCycle: 'oneTime' }]);
    await stop();
    const raw = new Database(join(dataDir, 'events.db'));
    const row = raw.prepare(`SELECT position, data FROM events WHERE data LIKE '%"quantity":1%' ORDER BY position LIMIT 1`).get() as { position: bigint | number; data: string };
    raw.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.replace('"quantity":1', '"quantity":7'), row.position);
    raw.close();
    const position = `${row.position}.${row.position}`;

    expect(await refusal(dataDir)).toMatch(
      new RegExp(`^the event log ${escape(join(dataDir, 'events.db'))} fails its hash chain at position ${escape(position)} \\(altered: .*\\); run npm run cli -- log verify`),
    );
    const verify = await cli(dataDir, 'log', 'verify');
    expect(verify.exitCode).toBe(LOG_TAMPERED_EXIT_CODE);
    expect(verify.stderr).toMatch(new RegExp(`^log TAMPERED at position ${escape(position)} \\(altered\\)`));
  });

  it('a damaged page in the log file: the start is refused naming the file and the restore', async () => {
    const dataDir = newDataDir();
    const app = await start(dataDir);
    for (let index = 0; index < 40; index++) await registerCustomer(app);
    await stop();
    const raw = new Database(join(dataDir, 'events.db'));
    const pageSize = Number(raw.pragma('page_size', { simple: true }));
    const pages = Number(raw.pragma('page_count', { simple: true }));
    raw.close();
    expect(pages).toBeGreaterThan(4);
    // A page of the events table's b-tree, neither the header nor the last page.
    const file = await import('node:fs');
    const fd = file.openSync(join(dataDir, 'events.db'), 'r+');
    file.writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, pageSize * (pages - 2));
    file.closeSync(fd);

    const message = await refusal(dataDir);
    expect(message).toMatch(new RegExp(`^the event log ${escape(join(dataDir, 'events.db'))} (is damaged|cannot be opened|fails its hash chain)`));
    expect(message).toMatch(/backup/);
    expect(message).not.toContain('\n');
  });

  describe('a second process on one DATA_DIR', () => {
    let other: ChildProcess | undefined;
    afterEach(() => other?.kill('SIGKILL'));

    it('a second service beside a running one is refused with one line; after the first stops it starts', async () => {
      const dataDir = newDataDir();
      const first = await start(dataDir);
      const acknowledged = await registerCustomer(first);

      expect(await refusal(dataDir)).toBe(
        `DATA_DIR ${dataDir} is in use: process ${process.pid} holds its api role (since ${lockSince(dataDir, 'api')}, ${join(dataDir, 'api.lock')}); ` +
          'stop that process first or give this one another DATA_DIR (an api beside a projector runs with PROJECTIONS=external)',
      );
      expect(await customerStatus(first, acknowledged)).toBe(200);
      await stop();
      const second = await start(dataDir);
      expect(await customerStatus(second, acknowledged)).toBe(200);
    });

    it('a lock held by another live process refuses the start; the same lock left by a killed process does not', async () => {
      const dataDir = newDataDir();
      other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      const lock = JSON.stringify({ pid: other.pid, role: 'api', since: '2026-12-01T00:00:00.000Z' });
      writeFileSync(join(dataDir, 'api.lock'), lock);
      expect(await refusal(dataDir)).toMatch(new RegExp(`^DATA_DIR ${escape(dataDir)} is in use: process ${other.pid} holds its api role`));
      // Nothing of the refused start opens a store, then or a moment later.
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(filesOpenUnder(dataDir)).toEqual([]);
      expect(readdirSync(dataDir).filter((name) => name.startsWith('events.db') || name.startsWith('read-models.db'))).toEqual([]);

      other.kill('SIGKILL');
      await new Promise((resolve) => other!.once('exit', resolve));
      const app = await start(dataDir);
      expect(await ready(app)).toBe(200);
    });
  });

  it('an untouched log passes log verify with the count and the last position', async () => {
    const dataDir = newDataDir();
    const app = await start(dataDir);
    await registerCustomer(app);
    await registerCustomer(app);
    await stop();
    const head = headOf(join(dataDir, 'events.db'));
    expect(await cli(dataDir, 'log', 'verify')).toEqual({
      stdout: `log intact: ${countOf(join(dataDir, 'events.db'))} events verified, last position ${head}.${head}\n`,
      stderr: '',
      exitCode: 0,
    });
  });
});

/** The files under `dir` this process holds open. */
function filesOpenUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // Closed since the listing.
        return '';
      }
    })
    .filter((target) => target.startsWith(`${dir}/`));
}

/** The last position of a log file, read without the adapter. */
function headOf(file: string): number {
  const raw = new Database(file, { readonly: true });
  const { head } = raw.prepare('SELECT max(position) AS head FROM events').get() as { head: number };
  raw.close();
  return head;
}

function countOf(file: string): number {
  const raw = new Database(file, { readonly: true });
  const { count } = raw.prepare('SELECT count(*) AS count FROM events').get() as { count: number };
  raw.close();
  return count;
}

function lockSince(dataDir: string, role: string): string {
  return (JSON.parse(require('node:fs').readFileSync(join(dataDir, `${role}.lock`), 'utf8')) as { since: string }).since;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

