/**
 * A place in the global log. Opaque to clients (`X-Log-Position`), comparable inside.
 * EventStoreDB gives commit/prepare positions; the SQLite store uses its global sequence
 * for both. The string form is `<commit>.<prepare>`.
 *
 * @example
 *   const p = positionFromString(req.header('X-Min-Position'));
 *   if (comparePositions(checkpoint, p) >= 0) { ... }
 */
export interface LogPosition {
  commit: bigint;
  prepare: bigint;
}

export function positionToString(position: LogPosition): string {
  return `${position.commit}.${position.prepare}`;
}

/** Parses the string form; returns undefined for anything malformed. */
export function positionFromString(text: string): LogPosition | undefined {
  const match = /^(\d{1,20})\.(\d{1,20})$/.exec(text.trim());
  if (!match) return undefined;
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2]!) };
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function maxPosition(a: LogPosition, b: LogPosition): LogPosition {
  return comparePositions(a, b) >= 0 ? a : b;
}
