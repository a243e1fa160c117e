import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const ENTRY = 'dist/apps/api/src/main.js';

/** The arguments `npm start` gives node before the service's entry. */
function npmStartNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const launch = /\bnode((?: --\S+)*) dist\/apps\/api\/src\/main\.js/.exec(scripts.start ?? '');
  if (!launch) throw new Error(`npm start no longer runs node on ${ENTRY}: ${scripts.start}`);
  return launch[1]!.trim().split(' ');
}

/** The arguments the image's CMD gives node before the service's entry (the HEALTHCHECK's CMD is not it). */
function imageNodeFlags(): string[] {
  const command = readFileSync(join(root, 'docker/Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('CMD ['))
    .map((line) => JSON.parse(line.slice('CMD '.length)) as string[])
    .find((args) => args[0] === 'node' && args.at(-1) === ENTRY);
  if (!command) throw new Error(`the Dockerfile has no CMD that runs node on ${ENTRY}`);
  return command.slice(1, -1);
}

// The benchmark reads the flags from package.json (test/bench/support/processes.mjs), so the figures
// in the README are the service's as `npm start` runs it; the image must run it the same way.
describe('how the service is started', () => {
  it('gets the same V8 flags from npm start and from the image', () => {
    expect(imageNodeFlags()).toEqual(npmStartNodeFlags());
  });

  it('runs without allocation-site pretenuring, whose old-generation garbage set the p99 at 500 purchases/s', () => {
    expect(npmStartNodeFlags()).toContain('--no-allocation-site-pretenuring');
  });
});
