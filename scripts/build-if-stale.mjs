#!/usr/bin/env node
/**
 * Builds dist/ only when a source or build setting is newer than the last build, so `npm run token`
 * and `npm run cli` answer at once on a current build. `--stamp` (run by `npm run build`) records
 * that a build just finished. Talks on standard error only: standard output belongs to the command
 * that follows (a token, CSV, JSON).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.build-stamp');

if (process.argv.includes('--stamp')) {
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  const now = new Date();
  utimesSync(stamp, now, now);
  process.exit(0);
}

function newestSourceMs() {
  let newest = 0;
  const visit = (path) => {
    const stats = statSync(path);
    if (stats.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (/\.(ts|json)$/.test(path) && !path.endsWith('.spec.ts')) {
      newest = Math.max(newest, stats.mtimeMs);
    }
  };
  for (const folder of ['apps', 'libs']) visit(join(root, folder));
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  return newest;
}

const built = existsSync(stamp);
if (built && statSync(stamp).mtimeMs >= newestSourceMs()) process.exit(0);
process.stderr.write(`building dist/ (${built ? 'sources changed since the last build' : 'not built yet'})...\n`);
const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
process.exit(build.status ?? 1);
