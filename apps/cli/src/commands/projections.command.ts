import { configFromEnv } from '@csp/engine/config/engine-config';
import { ProjectionOperations, REBUILD_STALLED_AFTER_MS, REBUILD_READ_STORE, type IndexProgress, type RebuildProgress } from '@csp/engine/projections/projection-operations';
import { openEventStore, openReadModels, type SqliteFileOptions } from '@csp/engine/stores/stores';
import { positionFromString, type LogPosition } from '@csp/event-store';
import { projectionRegistry } from '@csp/read-models';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../cli-context';

/** Opens the stores the service would open with this environment, runs `work`, and closes them. */
async function withProjectionOperations<T>(
  context: CliContext,
  work: (operations: ProjectionOperations) => Promise<T>,
  sqlite: SqliteFileOptions = {},
): Promise<T> {
  const config = configFromEnv(context.env as NodeJS.ProcessEnv);
  const store = openEventStore(config);
  try {
    const db = await openReadModels(config, projectionRegistry, sqlite);
    try {
      return await work(new ProjectionOperations(store, db, projectionRegistry));
    } finally {
      await db.destroy();
    }
  } finally {
    await store.close();
  }
}

function parsePosition(text: string): LogPosition {
  const position = positionFromString(text);
  if (!position) throw new InvalidArgumentError('expected a log position like 1234.1234 (X-Log-Position)');
  return position;
}

/** Bars on a terminal (the fold, then the indexes it deferred), nothing when standard error is a file or a pipe. */
function progressReporter(
  context: CliContext,
  label: string,
): { update: (progress: RebuildProgress) => void; indexes: (progress: IndexProgress) => void; stop: () => void } {
  if (!context.isTerminal) return { update: () => undefined, indexes: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {eventsFolded} events | {rate} events/s | ETA {eta}s`, stream: process.stderr, etaBuffer: 50 },
  );
  const indexBar = new SingleBar({ format: `indexes [{bar}] {value}/{total} | {index}`, stream: process.stderr });
  const started = Date.now();
  let shown: SingleBar | undefined;
  const show = (next: SingleBar, total: number, payload: object): void => {
    if (shown === next) return;
    shown?.stop();
    next.start(total, 0, payload);
    shown = next;
  };
  return {
    update: ({ position, eventsFolded, target }) => {
      show(bar, Number(target?.commit ?? position.commit) || 1, { eventsFolded: 0, rate: 0 });
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      bar.update(Number(position.commit), { eventsFolded, rate: Math.round(eventsFolded / seconds) });
    },
    indexes: ({ index, built, total }) => {
      show(indexBar, total, { index });
      indexBar.update(built, { index });
    },
    stop: () => {
      shown?.stop();
      shown = undefined;
    },
  };
}

export function registerProjectionsCommand(program: Command, context: CliContext): Command {
  const projections = program.command('projections').description('Where each projection stands; rebuild one from the log');

  projections
    .command('status')
    .description('Each projection: name, version, position, events behind the log head, state')
    .option('--json', 'one JSON array on standard output')
    .action(async (options: { json?: boolean }) => {
      const statuses = await withProjectionOperations(context, (operations) => operations.status());
      if (options.json) {
        context.stdout(`${JSON.stringify(statuses, null, 2)}\n`);
        return;
      }
      const rows = statuses.map((status) => [
        status.name,
        String(status.version),
        status.generation === null ? '-' : `g${status.generation} (v${status.generationVersion})`,
        status.position ?? '-',
        String(status.eventsBehind),
        status.state,
      ]);
      context.stdout(table(['projection', 'version', 'generation', 'position', 'behind', 'state'], rows));
    });

  projections
    .command('rebuild')
    .description(
      'Fold the log into fresh tables for one projection (or all), then switch to them; the others keep their checkpoints. ' +
        `First drops what a stalled rebuild left (no progress for ${REBUILD_STALLED_AFTER_MS / 60_000} minutes)`,
    )
    .argument('[name]', `one of: ${projectionRegistry.map((projection) => projection.name).join(', ')}`)
    .option('--all', 'every projection, in one pass over the log')
    .option('--until <position>', 'stop at this log position (inclusive): the projection as it stood then', parsePosition)
    .option(
      '--discard-unfinished',
      'first drop every unfinished build, also one not yet stalled (a rebuild killed moments ago); only when no other rebuild runs',
    )
    .action(async (name: string | undefined, options: { all?: boolean; until?: LogPosition; discardUnfinished?: boolean }) => {
      if (Boolean(name) === Boolean(options.all)) throw new InvalidArgumentError('name one projection or pass --all');
      const names = options.all ? projectionRegistry.map((projection) => projection.name) : [name!];
      await withProjectionOperations(context, async (operations) => {
        if (options.discardUnfinished) {
          for (const { name: discarded, generation } of await operations.discardUnfinished(names)) {
            context.stdout(`${discarded}: discarded unfinished generation ${generation}\n`);
          }
        }
        for (const { name: discarded, generation, lastProgressAt } of await operations.discardStalled(names)) {
          context.stdout(`${discarded}: discarded stalled generation ${generation} (no progress since ${lastProgressAt})\n`);
        }
        const progress = progressReporter(context, options.all ? 'every projection' : name!);
        try {
          const results = await operations.rebuildTogether(names, {
            ...(options.until ? { until: options.until } : {}),
            onProgress: progress.update,
            onIndexProgress: progress.indexes,
          });
          progress.stop();
          for (const result of results) {
            const rate = result.seconds > 0 ? Math.round(result.eventsFolded / result.seconds) : result.eventsFolded;
            context.stdout(
              `${result.name}: generation ${result.generation} folded ${result.eventsFolded} events up to ${result.position ?? 'the start'} ` +
                `in ${result.seconds.toFixed(1)} s (${rate} events/s)\n`,
            );
          }
        } finally {
          progress.stop();
        }
        // Every projection now folds this log from zero: the store may answer beside it again.
        if (options.all && !options.until) context.stdout(`read store bound to event log ${await operations.bindReadStoreToLog()}\n`);
      }, REBUILD_READ_STORE);
    });
  return projections;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
