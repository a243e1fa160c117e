import type { LifecycleScheduler } from '@csp/application/fulfilment/lifecycle-scheduler';
import { DomainError } from '@csp/domain/shared/domain-error';
import { ManualClock } from '@csp/testing/manual-clock';
import { Logger } from '@nestjs/common';
import type { EngineConfig } from '../config/engine-config';
import type { ProjectionSupervisor } from '../projections/projection-supervisor.service';
import { LifecycleTicker } from './lifecycle-ticker.service';

describe('LifecycleTicker', () => {
  const config = { schedulerIntervalMs: 60_000, minPositionWaitMs: 10 } as EngineConfig;
  let info: jest.SpyInstance;
  let errors: jest.SpyInstance;

  beforeEach(() => {
    info = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  /** A ticker whose read models answer `catchUp` and whose scheduler answers `runDue`; its first pass has ended when this resolves. */
  async function firstPass(catchUp: () => Promise<void>, runDue: () => Promise<unknown> = async () => undefined): Promise<void> {
    const projection = { runsHere: true, catchUpWithLog: catchUp } as unknown as ProjectionSupervisor;
    const ticker = new LifecycleTicker({ runDue } as unknown as LifecycleScheduler, projection, new ManualClock('2026-12-05T00:00:00Z'), config);
    ticker.onApplicationBootstrap();
    // The stand-ins answer at once: one turn of the event loop ends the pass.
    await new Promise(setImmediate);
    await ticker.onModuleDestroy();
  }

  it('puts a pass off without an error while the read models are still catching up with the log', async () => {
    await firstPass(() => Promise.reject(new DomainError('PROJECTION_LAGGING', 'unavailable', 'not yet')));
    expect(errors).not.toHaveBeenCalled();
    expect(info).toHaveBeenCalledWith('lifecycle pass put off to the next tick: the read models are still catching up with the log');
  });

  it('reports any other failure of a pass as an error', async () => {
    await firstPass(
      async () => undefined,
      () => Promise.reject(new Error('disk I/O error')),
    );
    expect(errors).toHaveBeenCalledWith('lifecycle pass failed: Error: disk I/O error');
  });
});
