import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E2eApp } from './e2e-harness';

describe('E2eApp data directories', () => {
  it('removes its temporary directory when stopped, after a restart as well', async () => {
    const first = await E2eApp.start();
    const dataDir = first.dataDir;
    const restarted = await first.restart();
    expect(restarted.dataDir).toBe(dataDir);
    expect(existsSync(join(dataDir, 'events.db'))).toBe(true);

    await restarted.stop();

    expect(existsSync(dataDir)).toBe(false);
  });

  it('leaves a directory it was given in place, after a restart as well', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'csp-harness-given-'));
    try {
      const restarted = await (await E2eApp.start({ dataDir })).restart();
      await restarted.stop();

      expect(existsSync(join(dataDir, 'events.db'))).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
