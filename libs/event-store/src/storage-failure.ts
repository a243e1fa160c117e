/**
 * Storage faults that no retry of the same request fixes right now, as SQLite and the file system
 * report them: a full disk, a corrupt file, a read-only file system, an I/O error. The HTTP layer
 * answers them 503 with a specific code; readiness turns red while they last.
 */
export type StorageFailureKind = 'full' | 'corrupt' | 'read-only' | 'io';

export class StorageFailureError extends Error {
  constructor(
    readonly kind: StorageFailureKind,
    /** Which store failed: `event log`, `read store`. */
    readonly store: string,
    override readonly cause: unknown,
  ) {
    super(`The ${store} failed (${kind}): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StorageFailureError';
  }
}

const KIND_BY_CODE: readonly [RegExp, StorageFailureKind][] = [
  [/^SQLITE_FULL|^ENOSPC$|^EDQUOT$/, 'full'],
  [/^SQLITE_CORRUPT|^SQLITE_NOTADB/, 'corrupt'],
  [/^SQLITE_READONLY|^EROFS$/, 'read-only'],
  [/^SQLITE_IOERR|^EIO$|^SQLITE_CANTOPEN/, 'io'],
];

/**
 * The kind of storage fault `error` is (looking through `cause`), or undefined for anything else.
 *
 * @example
 *   storageFailureKind(Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' })) // 'full'
 */
export function storageFailureKind(error: unknown): StorageFailureKind | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof StorageFailureError) return current.kind;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      const match = KIND_BY_CODE.find(([pattern]) => pattern.test(code));
      if (match) return match[1];
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
