import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a process does with the embedded stores: `api` serves HTTP (and appends commands), `projector`
 * folds the log and runs the scheduler. The all-in-one service is both; the documented split is an
 * api with `PROJECTIONS=external` beside one projector, which hold one role each.
 */
export type DataDirRole = 'api' | 'projector';

/** The embedded stores' lock for this process (undefined on EventStoreDB: nothing embedded to guard). */
export const DATA_DIR_LOCK = Symbol('DATA_DIR_LOCK');

interface LockHolder {
  pid: number;
  role: DataDirRole;
  since: string;
}

/** Thrown when another live process holds a role on the DATA_DIR; the message is the one line to show. */
export class DataDirInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirInUseError';
  }
}

/**
 * One lock file per role under DATA_DIR, created exclusively and holding the owner's pid. A lock whose
 * process is gone (killed, crashed) is stale and taken over, so a restart after `kill -9` just works.
 *
 * @example
 *   const lock = DataDirLock.acquire(dataDir, ['api', 'projector']);   // the all-in-one service
 *   ...
 *   lock.release();
 */
export class DataDirLock {
  private released = false;

  private constructor(private readonly files: string[]) {}

  static acquire(dataDir: string, roles: readonly DataDirRole[]): DataDirLock {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const taken: string[] = [];
    try {
      for (const role of roles) taken.push(takeRole(dataDir, role));
    } catch (error) {
      for (const file of taken) unlinkSync(file);
      throw error;
    }
    return new DataDirLock(taken);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const file of this.files) {
      try {
        unlinkSync(file);
      } catch {
        // Already gone (removed by hand): nothing left to release.
      }
    }
  }
}

function takeRole(dataDir: string, role: DataDirRole): string {
  const file = join(dataDir, `${role}.lock`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, role, since: new Date().toISOString() } satisfies LockHolder));
      closeSync(fd);
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder && isAlive(holder.pid)) {
      throw new DataDirInUseError(
        `DATA_DIR ${dataDir} is in use: process ${holder.pid} holds its ${role} role (since ${holder.since}, ${file}); ` +
          'stop that process first or give this one another DATA_DIR (an api beside a projector runs with PROJECTIONS=external)',
      );
    }
    // The holder is gone: a stale lock from a killed process.
    try {
      unlinkSync(file);
    } catch {
      // Another starter removed it first; try again.
    }
  }
  throw new DataDirInUseError(`DATA_DIR ${dataDir}: could not take the ${role} lock ${file}; another process keeps taking it`);
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' ? (holder as LockHolder) : undefined;
  } catch {
    // Half-written by a process killed while creating it: as stale as a dead pid.
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
