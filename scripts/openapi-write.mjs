#!/usr/bin/env node
/**
 * Writes the OpenAPI document the service serves at /docs-json to docs/openapi.json, and the client
 * types generated from it (openapi-typescript) to test/smoke/generated/openapi-types.ts. Run after
 * changing a controller, DTO or the operation table: `npm run openapi:write`. The contract e2e test
 * fails while the committed file differs from the served document.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { AppModule } = require(join(root, 'dist/apps/api/src/app.module.js'));
const { configureHttp } = require(join(root, 'dist/apps/api/src/http/configure-http.js'));
const { configFromEnv } = require(join(root, 'dist/libs/engine/src/config/engine-config.js'));

const dataDir = mkdtempSync(join(tmpdir(), 'csp-openapi-'));
try {
  const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  const config = configFromEnv(env);
  const app = await NestFactory.create(AppModule.forRoot({ config, env, jwtSecret: 'openapi-write-only-never-serves-requests' }), { logger: false });
  const document = configureHttp(app);
  await app.close();
  const target = join(root, 'docs/openapi.json');
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  process.stderr.write(`wrote ${target}\n`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

const types = spawnSync(
  process.execPath,
  [join(root, 'node_modules/openapi-typescript/bin/cli.js'), 'docs/openapi.json', '--output', 'test/smoke/generated/openapi-types.ts'],
  { cwd: root, stdio: ['ignore', process.stderr, process.stderr] },
);
process.exit(types.status ?? 1);
