import { configFromEnv } from '@csp/engine/config/engine-config';
import { openEventStore } from '@csp/engine/stores/stores';
import { logIntegrityOf, positionFromString, positionToString, type LogPosition } from '@csp/event-store';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CliContext } from '../cli-context';

/** Exit code of `log verify` on a log that is not as recorded (1 stays for "could not run"). */
export const LOG_TAMPERED_EXIT_CODE = 3;

function parsePosition(text: string): LogPosition {
  const position = positionFromString(text);
  if (!position) throw new InvalidArgumentError('expected a log position like 1234.1234 (X-Log-Position)');
  return position;
}

export function registerLogCommand(program: Command, context: CliContext): Command {
  const log = program.command('log').description('The event log itself: verify its hash chain');

  log
    .command('verify')
    .description('Recompute every event\'s hash link; exit 0 when the log is as recorded, 3 naming the first altered or removed position')
    .option('--from <position>', 'start here (inclusive) instead of the beginning', parsePosition)
    .action(async (options: { from?: LogPosition }) => {
      const config = configFromEnv(context.env as NodeJS.ProcessEnv);
      const store = openEventStore(config);
      try {
        const integrity = logIntegrityOf(store);
        if (!integrity) throw new Error('this event store keeps no hash chain');
        const bar = context.isTerminal
          ? new SingleBar({ format: 'verify [{bar}] {percentage}% | {eventsChecked} events | ETA {eta}s', stream: process.stderr, etaBuffer: 50 })
          : undefined;
        let begun = false;
        const report = await integrity.verifyLog({
          ...(options.from ? { fromPosition: options.from } : {}),
          onProgress: ({ position, eventsChecked, head }) => {
            if (!bar) return;
            if (!begun) bar.start(Number(head?.commit ?? position.commit) || 1, 0, { eventsChecked: 0 });
            begun = true;
            bar.update(Number(position.commit), { eventsChecked });
          },
        });
        if (begun) bar?.stop();
        const last = report.lastPosition ? positionToString(report.lastPosition) : 'none';
        if (report.intact) {
          context.stdout(`log intact: ${report.eventsChecked} events verified, last position ${last}\n`);
          return;
        }
        const bad = report.firstBad;
        context.stderr(
          `log TAMPERED at position ${positionToString(bad.position)} (${bad.reason}): ${bad.detail}; ` +
            `${report.eventsChecked} events before it verified (last good position ${last}). ` +
            'Restore events.db from a backup taken before that position, or investigate who wrote to it.\n',
        );
        throw new CommanderError(LOG_TAMPERED_EXIT_CODE, 'log.tampered', `log tampered at ${positionToString(bad.position)}`);
      } finally {
        await store.close();
      }
    });
  return log;
}
