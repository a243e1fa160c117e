import { Controller, Get, Inject, Logger } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { ProblemException } from '../http/problem.exception';
import { READINESS_CHECKS, READINESS_TIMEOUT_MS, ReadinessCheck } from '@csp/engine/observability/readiness-check';

export type CheckStatus = 'ok' | 'failed' | 'timed_out';

export interface HealthReport {
  status: 'ok';
  checks: Record<string, CheckStatus>;
}

export interface LivenessReport {
  status: 'ok';
}

/**
 * `/health` is liveness: answering at all proves the process lives (restart it when it does not).
 * `/health/ready` is readiness: 503 tells the orchestrator to stop routing traffic while a check
 * fails. Failure reasons go to the log, not to these unauthenticated endpoints, since they can name
 * hosts and credentials.
 */
@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    @Inject(READINESS_CHECKS) private readonly checks: readonly ReadinessCheck[],
    @Inject(READINESS_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  @Get()
  live(): LivenessReport {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<HealthReport> {
    const results = await Promise.all(
      this.checks.map(async (check) => [check.name, await this.run(check)] as const),
    );
    const checks = Object.fromEntries(results);
    const failing = results.filter(([, status]) => status !== 'ok').map(([name]) => name);
    if (failing.length > 0) {
      throw new ProblemException(503, 'NOT_READY', `not ready: ${failing.join(', ')}`, { checks });
    }
    return { status: 'ok', checks };
  }

  private async run(check: ReadinessCheck): Promise<CheckStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckStatus>((resolve) => {
      timer = setTimeout(() => resolve('timed_out'), this.timeoutMs);
    });
    const outcome = check.check().then(
      (): CheckStatus => 'ok',
      (error: unknown): CheckStatus => {
        this.logger.warn(`readiness check ${check.name} failed: ${error instanceof Error ? error.message : String(error)}`);
        return 'failed';
      },
    );
    try {
      return await Promise.race([outcome, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
