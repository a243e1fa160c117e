import { positionToString, type LogPosition } from '@csp/event-store';

/** What a command answers: the body and the log position it wrote (for X-Log-Position). */
export interface CommandAnswer<Body> {
  body: Body;
  /** Absent only when the log was empty and nothing was appended. */
  position?: string;
  /** True when the command was a no-op (e.g. autorenew set to its current value): nothing to remember. */
  changedNothing?: boolean;
}

export function answer<Body>(body: Body, position: LogPosition | undefined, options: { changedNothing?: boolean } = {}): CommandAnswer<Body> {
  const result: CommandAnswer<Body> = position ? { body, position: positionToString(position) } : { body };
  if (options.changedNothing) result.changedNothing = true;
  return result;
}
