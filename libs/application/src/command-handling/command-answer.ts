import { positionToString, type LogPosition } from '@csp/event-store';

/** What a command answers: the body and the log position it wrote (for X-Log-Position). */
export interface CommandAnswer<Body> {
  body: Body;
  /** Absent only when the log was empty and nothing was appended. */
  position?: string;
}

export function answer<Body>(body: Body, position: LogPosition | undefined): CommandAnswer<Body> {
  return position ? { body, position: positionToString(position) } : { body };
}
