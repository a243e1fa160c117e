import { ActivityLogReader } from '@csp/application/activity-log/activity-log-reader';
import { configFromEnv } from '@csp/engine/config/engine-config';
import { openReadModels } from '@csp/engine/stores/stores';
import { Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../cli-context';

const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An instant with Z or an offset, or a bare date (midnight UTC), normalised to the form the log records. */
function parseInstant(text: string): string {
  const ms = Date.parse(/T/.test(text) ? text : `${text}T00:00:00.000Z`);
  if (!INSTANT.test(text) || Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO instant like 2026-03-01T00:00:00Z or a date like 2026-03-01');
  return new Date(ms).toISOString();
}

/**
 * `activity-log export`: the compliance export, the same rows and columns as `GET /v1/activity-log`
 * with `Accept: text/csv`, for every partner (the operator's view), read from the activity-log
 * projection of the read store this environment names.
 */
export function registerActivityLogCommand(program: Command, context: CliContext): Command {
  const activityLog = program.command('activity-log').description('Who revealed keys, downloaded software, issued and used links');

  activityLog
    .command('export')
    .description('Every recorded access from --from (inclusive) to --to (exclusive) as CSV on standard output')
    .requiredOption('--from <instant>', 'start, inclusive (ISO instant or date)', parseInstant)
    .requiredOption('--to <instant>', 'end, exclusive (ISO instant or date)', parseInstant)
    .option('--customer <id>', "one customer's tenant GUID")
    .action(async (options: { from: string; to: string; customer?: string }) => {
      if (options.to <= options.from) throw new InvalidArgumentError('--to must be after --from (--to is exclusive)');
      const db = await openReadModels(configFromEnv(context.env as NodeJS.ProcessEnv));
      try {
        const csv = new ActivityLogReader(db).csv({
          from: options.from,
          to: options.to,
          ...(options.customer !== undefined ? { customerId: options.customer.toLowerCase() } : {}),
        });
        for await (const chunk of csv) context.stdout(String(chunk));
      } finally {
        await db.destroy();
      }
    });
  return activityLog;
}
