import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The weakest priority Linux gives a thread (nice 19). */
const LOWEST_PRIORITY = 19;

/**
 * Lowers the CPU priority of the calling thread only, by `steps` nice levels (capped at 19): on
 * Linux a thread's nice value is its own, and `/proc/thread-self` names the thread's id. Lowering
 * needs no privilege, so this works for any user. Answers the thread's new nice value, or undefined
 * where threads have no id of their own to give (not Linux) or the system refused.
 *
 * @example
 *   lowerThisThreadsPriority(10); // in a worker thread: 10, when the process runs at nice 0
 */
export function lowerThisThreadsPriority(steps: number): number | undefined {
  let threadId: number;
  try {
    threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return undefined;
  }
  try {
    const lowered = Math.min(LOWEST_PRIORITY, getPriority(threadId) + steps);
    setPriority(threadId, lowered);
    return lowered;
  } catch {
    return undefined;
  }
}
