// Commands through the command pipeline and bus, without HTTP: the engine's own wiring (built dist/)
// on the embedded SQLite log (synchronous=FULL, group commit) in its own process. Projections run
// elsewhere (PROJECTIONS=external) so the figure is the command path alone. One-line purchases and
// their cancellations with 1 and with 64 concurrent callers; events/s counts every event the
// commands appended. Prints one JSON line.
// Usage: node test/bench/bus-commands.bench.mjs --dir <tmp> [--sequential 300] [--concurrent 6667]
// 6,667 purchases append 20,001 events: as many as the raw 100-per-transaction reference appends
// (`references.bench.mjs --batched 20000`), which the target compares them with.
import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { root } from './support/processes.mjs';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    sequential: { type: 'string', default: '300' },
    concurrent: { type: 'string', default: '6667' },
  },
});
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
const { EVENT_STORE } = built('libs/application/src/tokens.js');

const CALLERS = 64;
const principal = { userId: 'bench-user', tenantId: 'partner-bench', kind: 'partner', roles: ['AdminAgent'] };
let correlation = 0;
const context = () => ({ principal, correlationId: `bench-${++correlation}` });
const ONE_LINE = [{ skuId: 'windows-server-2022-datacenter-2core:P1Y', quantity: 1, billingCycle: 'monthly' }];

const dataDir = mkdtempSync(join(values.dir, 'bus-'));
class BusBenchModule {}
Module({
  imports: [EngineModule.forRoot({ config: { ...configFromEnv({ DATA_DIR: dataDir, PROJECTIONS: 'external' }), schedulerIntervalMs: 24 * 3600 * 1000 } })],
  providers: [RegisterCustomerHandler, PurchaseSoftwareHandler, CancelSubscriptionHandler],
})(BusBenchModule);

const app = await NestFactory.createApplicationContext(BusBenchModule, { logger: ['error'] });
const pipeline = app.get(CommandPipeline);
const store = app.get(EVENT_STORE);

async function head() {
  return (await store.headPosition())?.commit ?? 0n;
}

/** `count` commands made by `send(index)`, `callers` at a time; rate in commands/s and events/s. */
async function measure(count, callers, send) {
  const before = await head();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < count) await send(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const events = Number((await head()) - before);
  return { commands: count, events, seconds: Math.round(seconds * 100) / 100, commandsPerSecond: Math.round(count / seconds), eventsPerSecond: Math.round(events / seconds) };
}

try {
  const customers = Array.from({ length: CALLERS }, () => crypto.randomUUID());
  for (const [index, id] of customers.entries()) {
    await pipeline.execute('RegisterCustomer', context(), new RegisterCustomerCommand(context(), { id, companyName: `Bus ${index}`, domain: `bus${index}.example`, country: 'DE' }));
  }
  const bought = [];
  const purchase = async (index) => {
    const customerRef = customers[index % customers.length];
    const ctx = context();
    const answer = await pipeline.execute('PurchaseSoftware', ctx, new PurchaseSoftwareCommand(ctx, customerRef, ONE_LINE));
    bought.push([customerRef, answer.body.lineItems[0].subscriptionId]);
  };
  const cancel = async () => {
    const [customerRef, subscriptionRef] = bought.pop();
    const ctx = context();
    await pipeline.execute('CancelSubscription', ctx, new CancelSubscriptionCommand({ context: ctx, customerRef, subscriptionRef }));
  };
  const sequential = Number(values.sequential);
  const concurrent = Number(values.concurrent);
  const purchase1 = await measure(sequential, 1, purchase);
  // The first round with 64 callers runs while V8 is still compiling that path (0.8 s against 0.6
  // for the rounds after it): reported as `purchase64Cold`, and the round after it is the figure, as
  // the HTTP runs are measured after a warm-up.
  const purchase64Cold = await measure(concurrent, CALLERS, purchase);
  const purchase64 = await measure(concurrent, CALLERS, purchase);
  // What a purchase stored per event, beside the purchase-sized raw reference's figure.
  const log = new Database(join(dataDir, 'events.db'), { readonly: true });
  purchase64.bytesPerEvent = Math.round(
    log.prepare("SELECT avg(length(data) + length(metadata)) FROM events WHERE type IN ('OrderPlaced', 'SubscriptionStarted', 'InstallmentBilled')").pluck().get(),
  );
  log.close();
  const cancel1 = await measure(sequential, 1, cancel);
  const cancel64 = await measure(Math.min(concurrent, bought.length), CALLERS, cancel);
  console.log(JSON.stringify({ purchase1, purchase64Cold, purchase64, cancel1, cancel64 }));
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
