import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { letWorkerThreadsSizeTheirYoungGeneration } from './worker-young-generation';

/** Churns through short-lived objects until V8 has grown the thread's young generation as far as it may, then says how far (MiB). */
const CHURN_THEN_REPORT = `
const { parentPort } = require('node:worker_threads');
const { getHeapSpaceStatistics } = require('node:v8');
let kept = [];
for (let i = 0; i < 3e6; i++) {
  kept.push({ i, text: 'x' + i });
  if (kept.length > 200000) kept = [];
}
parentPort.postMessage(getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size / 1048576);
`;

function youngGenerationOfAWorkerLimitedTo(megabytes: number): Promise<number> {
  const worker = new Worker(CHURN_THEN_REPORT, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: megabytes } });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('letWorkerThreadsSizeTheirYoungGeneration', () => {
  afterAll(() => setFlagsFromString('--max-semi-space-size=0'));

  it("gives worker threads the young generation of their own limits, where --max-semi-space-size had given them the flag's", async () => {
    setFlagsFromString('--max-semi-space-size=8');
    const underTheFlag = await youngGenerationOfAWorkerLimitedTo(4);

    letWorkerThreadsSizeTheirYoungGeneration();
    const afterwards = await youngGenerationOfAWorkerLimitedTo(4);

    expect(underTheFlag).toBe(16);
    expect(afterwards).toBeLessThanOrEqual(4);
  });
});
