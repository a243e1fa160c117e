import { customerDecider } from '@csp/domain/customer/customer.decider';
import { DomainError } from '@csp/domain/shared/domain-error';
import { SqliteEventStore } from '@csp/event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Uuid7Generator } from '../ports/id-generator.port';
import type { CommandContext } from './command-context';
import { CommandRunner } from './command-runner';

/** A runner on a SQLite log of its own, closed and removed after the describe block. */
function runnerOnFreshLog(): { store: SqliteEventStore; runner: CommandRunner } {
  const dir = mkdtempSync(join(tmpdir(), 'csp-runner-'));
  const store = SqliteEventStore.open(join(dir, 'events.db'));
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, runner: new CommandRunner(store, new Uuid7Generator()) };
}

/**
 * The runner's own idempotency, on a real SQLite log, without the api's per-key turn-taking (as two
 * api replicas would race): the log must refuse a reused key and answer a racing retry with what
 * its first run recorded.
 */
describe('CommandRunner idempotency under concurrency', () => {
  const { store, runner } = runnerOnFreshLog();

  const context = (key: string, requestHash: string): CommandContext => ({
    principal: { userId: 'u', tenantId: 'partner-1', kind: 'partner', roles: ['AdminAgent'] },
    correlationId: 'c',
    idempotency: { key, requestHash },
  });

  /** Registers the customer with the instant `at`: the decision depends on when it runs. */
  const register = (stream: string, key: string, requestHash: string, companyName: string, at: string) =>
    runner.run(
      stream,
      customerDecider,
      (state) =>
        customerDecider.decide(
          { type: 'RegisterCustomer', customerId: stream, partnerId: 'partner-1', companyName, domain: 'x.example', country: 'DE', at },
          state,
        ),
      context(key, requestHash),
      'RegisterCustomer',
    );

  it('lets exactly one of two different requests under one key through; the other is IDEMPOTENCY_KEY_REUSED', async () => {
    const stream = 'customer-race-different';
    const outcomes = await Promise.allSettled([
      register(stream, 'k1', 'hash-a', 'Alpha', '2026-01-01T00:00:00.000Z'),
      register(stream, 'k1', 'hash-b', 'Beta', '2026-01-01T00:00:00.000Z'),
    ]);
    const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const rejected = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(DomainError);
    expect((rejected[0]!.reason as DomainError).code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('answers retries racing their first run with what was recorded, even when each decided at another instant', async () => {
    const stream = 'customer-race-same';
    const instants = Array.from({ length: 8 }, (_, index) => `2026-01-01T00:00:00.00${index}Z`);
    const outcomes = await Promise.all(instants.map((at) => register(stream, 'k2', 'hash-same', 'Gamma', at)));
    const recorded = await store.readStream(stream);
    expect(recorded).toHaveLength(1);
    for (const outcome of outcomes) {
      expect(outcome.events).toEqual([{ type: 'CustomerRegistered', data: recorded[0]!.data }]);
      expect(outcome.position).toEqual(recorded[0]!.position);
    }
  });
});

describe('CommandRunner on a stream the caller says is new', () => {
  const { store, runner } = runnerOnFreshLog();
  const context: CommandContext = { principal: { userId: 'u', tenantId: 'partner-1', kind: 'partner', roles: ['AdminAgent'] }, correlationId: 'c' };
  const registerAs = (stream: string, companyName: string) =>
    runner.run(
      stream,
      customerDecider,
      (state) =>
        customerDecider.decide(
          { type: 'RegisterCustomer', customerId: stream, partnerId: 'partner-1', companyName, domain: 'x.example', country: 'DE', at: '2026-01-01T00:00:00.000Z' },
          state,
        ),
      context,
      'RegisterCustomer',
      { streamIsNew: true },
    );

  it('appends without reading the stream first', async () => {
    const reads = jest.spyOn(store, 'readStream');
    const outcome = await registerAs('customer-new-1', 'Alpha');

    expect(reads).not.toHaveBeenCalled();
    expect(outcome.events.map((event) => event.type)).toEqual(['CustomerRegistered']);
    expect(await store.readStream('customer-new-1')).toHaveLength(1);
    reads.mockRestore();
  });

  it('decides again on what the stream holds when it existed after all', async () => {
    await registerAs('customer-new-2', 'Alpha');

    await expect(registerAs('customer-new-2', 'Beta')).rejects.toMatchObject({ code: 'CUSTOMER_ALREADY_EXISTS' });
    const recorded = await store.readStream('customer-new-2');
    expect(recorded.map((event) => event.data['companyName'])).toEqual(['Alpha']);
  });
});
