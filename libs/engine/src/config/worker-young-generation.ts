import { setFlagsFromString } from 'node:v8';

/**
 * Lets the worker threads started from now on size their young generation by the `resourceLimits`
 * they are given. `--max-semi-space-size` on node's command line (`npm start` and the image pass 8
 * for the thread answering requests) overrides those limits in every isolate the process creates:
 * the projection worker, given 8 MiB, held 16 MiB of young generation after the benchmark's
 * purchases and cancellations. V8 reads the flag when it sets up an isolate's heap, so once the main
 * thread's heap exists, clearing it leaves that heap as the flag sized it and changes only the
 * threads that come after.
 */
export function letWorkerThreadsSizeTheirYoungGeneration(): void {
  setFlagsFromString('--max-semi-space-size=0');
}
