// A log of `--events` real events for the rebuild benchmark, made fast: the engine (built dist/)
// records one customer's story through the command pipeline (registration, one-line and two-line
// purchases, cancellations with refunds and voided installments), then that story is copied with
// fresh ids (every UUID mapped consistently within a copy to a new one of its kind: time-ordered
// UUIDv7 where the engine made a time-ordered one, as it does for events and orders (v7) and for a
// purchase's subscriptions (v8, beside their order), a random one otherwise;
// unique company names and domains) by
// plain inserts until the log holds the requested number of events. The store then adopts the
// copies as an older log (it chains their hashes on open), so the rebuild reads a log like any other.
// Prints one JSON line. Usage: node test/bench/log-fixture.mjs --dir <tmp> --events 1000000
import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { root } from './support/processes.mjs';

const { values } = parseArgs({ options: { dir: { type: 'string' }, events: { type: 'string', default: '1000000' } } });
const target = Number(values.events);
const require = createRequire(import.meta.url);
const built = (path) => require(join(root, 'dist', path));
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { Module } = require('@nestjs/common');
const { EngineModule } = built('libs/engine/src/engine.module.js');
const { configFromEnv } = built('libs/engine/src/config/engine-config.js');
const { CommandPipeline } = built('libs/application/src/command-handling/command-pipeline.js');
const { RegisterCustomerHandler } = built('libs/application/src/customers/register-customer.handler.js');
const { RegisterCustomerCommand } = built('libs/application/src/customers/register-customer.command.js');
const { PurchaseSoftwareHandler } = built('libs/application/src/orders/purchase-software.handler.js');
const { PurchaseSoftwareCommand } = built('libs/application/src/orders/purchase-software.command.js');
const { CancelSubscriptionHandler } = built('libs/application/src/subscriptions/subscription-commands.handler.js');
const { CancelSubscriptionCommand } = built('libs/application/src/subscriptions/subscription-commands.js');
const { openEventStore } = built('libs/engine/src/stores/stores.js');

const TEMPLATE_COMPANY = 'Template Company';
const TEMPLATE_DOMAIN = 'template-company.example';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

async function recordStory(templateDir) {
  class FixtureModule {}
  Module({
    imports: [EngineModule.forRoot({ config: { ...configFromEnv({ DATA_DIR: templateDir, PROJECTIONS: 'external' }), schedulerIntervalMs: 24 * 3600 * 1000 } })],
    providers: [RegisterCustomerHandler, PurchaseSoftwareHandler, CancelSubscriptionHandler],
  })(FixtureModule);
  const app = await NestFactory.createApplicationContext(FixtureModule, { logger: ['error'] });
  try {
    const pipeline = app.get(CommandPipeline);
    const context = () => ({ principal: { userId: 'fixture', tenantId: 'partner-bench', kind: 'partner', roles: ['AdminAgent'] }, correlationId: crypto.randomUUID() });
    const customerId = crypto.randomUUID();
    const send = (name, make) => {
      const ctx = context();
      return pipeline.execute(name, ctx, make(ctx));
    };
    await send('RegisterCustomer', (ctx) => new RegisterCustomerCommand(ctx, { id: customerId, companyName: TEMPLATE_COMPANY, domain: TEMPLATE_DOMAIN, country: 'DE' }));
    const subscriptions = [];
    const purchases = [
      [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'monthly' }],
      [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 2, billingCycle: 'annual' }],
      [
        { skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'monthly' },
        { skuId: 'office-ltsc-professional-plus-2021:PERPETUAL', quantity: 1, billingCycle: 'oneTime' },
      ],
      [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 3, billingCycle: 'monthly' }],
    ];
    for (const lineItems of purchases) {
      const answer = await send('PurchaseSoftware', (ctx) => new PurchaseSoftwareCommand(ctx, customerId, lineItems));
      subscriptions.push(answer.body.lineItems[0].subscriptionId);
    }
    for (const subscriptionRef of subscriptions.slice(0, 2)) {
      await send('CancelSubscription', (ctx) => new CancelSubscriptionCommand({ context: ctx, customerRef: customerId, subscriptionRef }));
    }
  } finally {
    await app.close();
  }
  const db = new Database(join(templateDir, 'events.db'), { readonly: true });
  const rows = db.prepare('SELECT stream_name, revision, event_id, type, data, metadata, recorded_at FROM events ORDER BY position').all();
  db.close();
  return rows;
}

/** By the version digit: 7 is time-ordered (RFC 9562), 8 the engine's ids derived beside a time-ordered one. */
const isTimeOrdered = (id) => id.charAt(14) === '7' || id.charAt(14) === '8';

function copyStory(story, copy) {
  const ids = new Map();
  const fresh = (text) =>
    text.replace(UUID, (id) => {
      let mapped = ids.get(id);
      if (!mapped) ids.set(id, (mapped = isTimeOrdered(id) ? uuidv7() : crypto.randomUUID()));
      return mapped;
    });
  // Names and domains too: a customer's domain names its own stream, and is unique per partner.
  const unique = (text) => fresh(text).replaceAll(TEMPLATE_COMPANY, `Bench Company ${copy}`).replaceAll(TEMPLATE_DOMAIN, `bench-${copy}.example`);
  return story.map((row) => ({ ...row, stream_name: unique(row.stream_name), event_id: fresh(row.event_id), data: unique(row.data), metadata: unique(row.metadata) }));
}

const started = performance.now();
const dataDir = join(values.dir, 'rebuild-data');
mkdirSync(dataDir, { recursive: true });
const templateDir = mkdtempSync(join(values.dir, 'template-'));
try {
  const story = await recordStory(templateDir);
  const db = new Database(join(dataDir, 'events.db'));
  // A fixture, not a write anyone was promised: durability is not what this step measures.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY AUTOINCREMENT, stream_name TEXT NOT NULL, revision INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
    recorded_at TEXT NOT NULL, UNIQUE (stream_name, revision)) STRICT`);
  const insert = db.prepare('INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertCopies = db.transaction((from, count) => {
    let written = 0;
    for (let copy = from; written < count; copy++) {
      for (const row of copyStory(story, copy)) {
        if (written === count) break;
        insert.run(row.stream_name, row.revision, row.event_id, row.type, row.data, row.metadata, row.recorded_at);
        written++;
      }
    }
  });
  const copiesPerTransaction = Math.ceil(20_000 / story.length);
  for (let written = 0, copy = 0; written < target; copy += copiesPerTransaction) {
    const count = Math.min(target - written, copiesPerTransaction * story.length);
    insertCopies(copy, count);
    written += count;
  }
  db.close();
  // Opening the store adopts the copies (hash chain, log identity) here, not inside the timed rebuild.
  await openEventStore(configFromEnv({ DATA_DIR: dataDir })).close();
  console.log(JSON.stringify({ dataDir, events: target, eventsPerStory: story.length, seconds: Math.round((performance.now() - started) / 100) / 10 }));
} finally {
  rmSync(templateDir, { recursive: true, force: true });
}
