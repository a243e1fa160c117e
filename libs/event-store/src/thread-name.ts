import { writeFileSync } from 'node:fs';

/** Linux keeps this many bytes of a thread's name. */
const THREAD_NAME_BYTES = 15;

/** The file through which Linux lets a thread rename itself. */
const OWN_NAME_FILE = '/proc/thread-self/comm';

function checkedName(name: string): string {
  if (!/^[a-z-]+$/.test(name) || name.length > THREAD_NAME_BYTES) {
    throw new RangeError(`a thread name is up to ${THREAD_NAME_BYTES} lowercase letters and dashes, got ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * Gives the calling thread the name `top -H`, `ps -L` and `/proc/<pid>/task/<tid>/comm` show. Every
 * thread of a Node process is called "node" otherwise, so an operator (or the benchmark) looking for
 * the busy one could not tell the projection worker from the log's writer. Where threads cannot be
 * renamed (not Linux), the thread keeps its name and nothing else changes.
 *
 * @example
 *   nameThisThread('csp-projections'); // in the projection worker: `top -H -p <pid>` shows csp-projections
 */
export function nameThisThread(name: string): void {
  const checked = checkedName(name);
  try {
    writeFileSync(OWN_NAME_FILE, checked);
  } catch {
    // No /proc/thread-self here: the name is a convenience, never a reason to fail.
  }
}

/**
 * The same as a statement for a thread started from source text (`new Worker(source, { eval: true })`),
 * which cannot import this module.
 */
export function nameThisThreadSource(name: string): string {
  return `try { require('node:fs').writeFileSync(${JSON.stringify(OWN_NAME_FILE)}, ${JSON.stringify(checkedName(name))}); } catch {}`;
}
