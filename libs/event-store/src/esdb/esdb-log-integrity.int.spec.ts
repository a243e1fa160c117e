import { startEsdbTestServer, type EsdbTestServer } from '@csp/testing/esdb-test-server';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_STREAM } from '../event-store.port';
import { EsdbEventStore } from './esdb-event-store';

describe('EsdbEventStore log identity and per-stream chain', () => {
  const servers: EsdbTestServer[] = [];
  const stores: EsdbEventStore[] = [];

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  const server = async () => {
    const started = await startEsdbTestServer({ port: 0 });
    servers.push(started);
    return started;
  };
  const connect = (on: EsdbTestServer) => {
    const store = EsdbEventStore.connect(on.connectionString);
    stores.push(store);
    return store;
  };

  it('every process on one database reads the same identity; a new database behind the same kind of string has another', async () => {
    const first = await server();
    const [a, b] = [connect(first), connect(first)];
    const [identityA, identityB] = await Promise.all([a.logIdentity(), b.logIdentity()]);
    expect(identityA).toBe(identityB);
    expect(await connect(await server()).logIdentity()).not.toBe(identityA);
  });

  it('keeps the identity event out of what readers see', async () => {
    const store = connect(await server());
    await store.logIdentity();
    await store.appendToStream('order-1', [{ id: randomUUID(), type: 'Placed', data: { total: 1200 } }], { expectedRevision: NO_STREAM });
    const all = [];
    for await (const event of store.readAll()) all.push(event.streamName);
    expect(all).toEqual(['order-1']);
    expect(await store.headPosition()).toEqual((await store.readStream('order-1'))[0]!.position);
  });

  it('chains the events of a stream across appends by several writers and verifies them as intact', async () => {
    const on = await server();
    const [one, two] = [connect(on), connect(on)];
    await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        (index % 2 ? one : two).appendToStream('ledger-1', [{ id: randomUUID(), type: 'Booked', data: { amount: index } }], { expectedRevision: 'any' }),
      ),
    );
    const report = await one.verifyLog();
    expect(report).toMatchObject({ intact: true, eventsChecked: 6 });
    expect((await one.readStream('ledger-1')).map((event) => event.metadata)).toEqual([{}, {}, {}, {}, {}, {}]);
  });

  it('names the position of an event whose stored number was edited in the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esdb-chain-'));
    try {
      const file = join(dir, 'log.jsonl');
      let on = await startEsdbTestServer({ port: 0, file });
      let store = EsdbEventStore.connect(on.connectionString);
      await store.appendToStream('ledger-1', [0, 1, 2].map((amount) => ({ id: randomUUID(), type: 'Booked', data: { amount: 1000 + amount } })), {
        expectedRevision: NO_STREAM,
      });
      const edited = (await store.readStream('ledger-1'))[1]!;
      await store.close();
      await on.stop();

      // The database's own record of the event (data base64-encoded), edited as an intruder would.
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { i: string; d: string });
      const record = lines.find((line) => line.i === edited.id)!;
      record.d = Buffer.from(Buffer.from(record.d, 'base64').toString('utf8').replace('1001', '1007')).toString('base64');
      writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');

      on = await startEsdbTestServer({ port: 0, file });
      servers.push(on);
      store = connect(on);
      expect((await store.readStream('ledger-1'))[1]!.data).toEqual({ amount: 1007 });
      expect(await store.verifyLog()).toMatchObject({ intact: false, eventsChecked: 1, firstBad: { position: edited.position, reason: 'altered' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
