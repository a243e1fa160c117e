import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a process does with the embedded stores: `api` serves HTTP (and appends commands), `projector`
 * folds the log and runs the scheduler. The all-in-one service is both; the documented split is an
 * api with `PROJECTIONS=external` beside one projector, which hold one role each.
 */
export type DataDirRole = 'api' | 'projector';

/** This process's `DataDirClaim` on the embedded stores. */
export const DATA_DIR_CLAIM = Symbol('DATA_DIR_CLAIM');

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

/**
 * What a start got of DATA_DIR: its lock, no lock at all (on EventStoreDB nothing embedded needs one),
 * or the reason it was refused. Taking the lock never throws; whatever opens a store calls
 * `throwIfRefused()` first. A throwing lock provider is not enough: Nest 11 still runs the
 * factories that depend on a provider whose factory threw (handing them null in its place) and reports
 * the error afterwards, so a refused second process went on to open both stores and its writer thread,
 * and kept them open.
 *
 * @example
 *   const claim = DataDirClaim.take(config.dataDir, ['api', 'projector']);
 *   claim.throwIfRefused();        // DataDirInUseError when another process holds a role
 *   ...
 *   claim.release();
 */
export class DataDirClaim {
  private constructor(
    private readonly held: DataDirLock | undefined,
    private readonly refusal: unknown,
  ) {}

  static take(dataDir: string, roles: readonly DataDirRole[]): DataDirClaim {
    try {
      return new DataDirClaim(DataDirLock.acquire(dataDir, roles), undefined);
    } catch (error) {
      return new DataDirClaim(undefined, error);
    }
  }

  /** A start that needs no lock: its log is not embedded. */
  static notNeeded(): DataDirClaim {
    return new DataDirClaim(undefined, undefined);
  }

  /** Throws why the lock could not be taken, if it could not. */
  throwIfRefused(): void {
    if (this.refusal !== undefined) throw this.refusal;
  }

  release(): void {
    this.held?.release();
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
