import { eventUpcasters } from '@csp/application/event-codec/event-upcasters';
import { LedgerReader, positionRecordedBy, type LedgerAsOf, type LedgerFilter } from '@csp/application/ledger/ledger-reader';
import { ledgerCsv, ledgerEntryView } from '@csp/application/ledger/ledger.view';
import { ledgerChecksum } from '@csp/domain/ledger/ledger-checksum';
import { ledgerTotals, type LedgerTotal } from '@csp/domain/ledger/ledger-totals';
import { configFromEnv } from '@csp/engine/config/engine-config';
import { ProjectionOperations, type RebuildProgress } from '@csp/engine/projections/projection-operations';
import { openEventStore, openReadModels } from '@csp/engine/stores/stores';
import { positionFromString, positionToString, UpcastingCodec, type EventStore, type LogPosition } from '@csp/event-store';
import { projectionRegistry, type ReadModelDb } from '@csp/read-models';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext } from '../cli-context';

const INVOICE_PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** What `ledger rebuild --json` prints: one object, nothing else on standard output. */
export interface LedgerRebuildReport {
  totals: LedgerTotal[];
  checksum: string;
  /** How many entries the rebuilt ledger holds. */
  entries: number;
  /** The last log position folded; null when the log (up to `--as-of`) is empty. */
  position: string | null;
}

/** Opens the stores the service would open with this environment (same upcasters), runs `work`, and closes them. */
async function withStores<T>(context: CliContext, work: (store: EventStore, db: ReadModelDb) => Promise<T>): Promise<T> {
  const config = configFromEnv(context.env as NodeJS.ProcessEnv);
  const store = openEventStore(config, new UpcastingCodec(eventUpcasters));
  try {
    const db = await openReadModels(config);
    try {
      return await work(store, db);
    } finally {
      await db.destroy();
    }
  } finally {
    await store.close();
  }
}

function parseAsOf(text: string): LedgerAsOf {
  const position = positionFromString(text);
  if (position) return { position };
  if (INSTANT.test(text) && !Number.isNaN(Date.parse(text))) return { instant: new Date(text).toISOString() };
  throw new InvalidArgumentError('expected a log position like 1234.1234 (X-Log-Position) or an ISO instant like 2026-03-31T23:59:59Z');
}

function parsePeriod(text: string): string {
  if (!INVOICE_PERIOD.test(text)) throw new InvalidArgumentError('expected an invoice period YYYY-MM');
  return text;
}

/** A bar with rate and ETA on a terminal; nothing when standard error is a file or a pipe. */
function progressBar(context: CliContext): { update: (progress: RebuildProgress) => void; stop: () => void } {
  if (!context.isTerminal) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    format: 'ledger [{bar}] {percentage}% | {eventsFolded} events | {rate} events/s | ETA {eta_formatted}',
    stream: process.stderr,
    etaBuffer: 50,
  });
  const started = Date.now();
  let begun = false;
  return {
    update: ({ position, eventsFolded, target }) => {
      if (!begun) {
        bar.start(Number(target?.commit ?? position.commit) || 1, 0, { eventsFolded: 0, rate: 0 });
        begun = true;
      }
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      bar.update(Number(position.commit), { eventsFolded, rate: Math.round(eventsFolded / seconds) });
    },
    stop: () => {
      if (begun) bar.stop();
    },
  };
}

/**
 * Replays the log into fresh tables of the `ledger` projection (up to `asOf` when given) and reports
 * the rebuilt ledger: totals per currency, the checksum, the number of entries and the last position.
 * An instant names the log as it stood then (every event recorded up to it, see `positionRecordedBy`).
 */
export async function rebuildLedger(
  store: EventStore,
  db: ReadModelDb,
  options: { asOf?: LedgerAsOf; onProgress?: (progress: RebuildProgress) => void } = {},
): Promise<LedgerRebuildReport & { eventsFolded: number; seconds: number }> {
  const asOf = options.asOf;
  const until = asOf === undefined ? undefined : 'position' in asOf ? asOf.position : await positionRecordedBy(store, asOf.instant);
  if (asOf !== undefined && until === undefined) {
    // Nothing was recorded by then: the ledger was empty, and there is nothing to fold.
    return { totals: [], checksum: ledgerChecksum([]), entries: 0, position: null, eventsFolded: 0, seconds: 0 };
  }
  const result = await new ProjectionOperations(store, db, projectionRegistry).rebuild('ledger', {
    ...(until ? { until } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const position: LogPosition | undefined = result.position ? positionFromString(result.position) : undefined;
  // A running service folds on from the rebuilt tables at once: read only what the rebuild folded.
  const entries = position ? await new LedgerReader(store, db).current({}, position) : [];
  return {
    totals: ledgerTotals(entries),
    checksum: ledgerChecksum(entries),
    entries: entries.length,
    position: position ? positionToString(position) : null,
    eventsFolded: result.eventsFolded,
    seconds: result.seconds,
  };
}

export function registerLedgerCommand(program: Command, context: CliContext): Command {
  const ledger = program.command('ledger').description('The refund/credit ledger: replay it from the log, export an invoice period');

  ledger
    .command('rebuild')
    .description('Replay the log into fresh ledger tables (as of a position or instant), then print totals per currency and the checksum')
    .option('--as-of <instant|position>', 'the ledger as it stood then: a log position (inclusive) or an ISO instant', parseAsOf)
    .option('--json', 'one JSON object { totals, checksum, entries, position } on standard output')
    .action(async (options: { asOf?: LedgerAsOf; json?: boolean }) => {
      const progress = progressBar(context);
      const report = await withStores(context, async (store, db) => {
        try {
          return await rebuildLedger(store, db, { ...(options.asOf ? { asOf: options.asOf } : {}), onProgress: progress.update });
        } finally {
          progress.stop();
        }
      });
      const { totals, checksum, entries, position } = report;
      if (options.json) {
        context.stdout(`${JSON.stringify({ totals, checksum, entries, position })}\n`);
        return;
      }
      const rate = report.seconds > 0 ? Math.round(report.eventsFolded / report.seconds) : report.eventsFolded;
      context.stdout(
        `ledger: folded ${report.eventsFolded} events up to ${position ?? 'the start'} in ${report.seconds.toFixed(1)} s (${rate} events/s)\n` +
          totalsTable(totals) +
          `entries: ${entries}\nchecksum: ${checksum}\n`,
      );
    });

  ledger
    .command('export')
    .description("One invoice period's entries from the live ledger (every partner's unless --partner)")
    .requiredOption('--period <YYYY-MM>', 'the invoice period', parsePeriod)
    .addOption(new Option('--format <format>', 'csv (the API columns) or json').choices(['csv', 'json']).default('csv'))
    .option('--partner <partnerId>', "only this partner's customers")
    .action(async (options: { period: string; format: 'csv' | 'json'; partner?: string }) => {
      const filter: LedgerFilter = { invoicePeriod: options.period, ...(options.partner ? { partnerId: options.partner } : {}) };
      const entries = await withStores(context, (store, db) => new LedgerReader(store, db).current(filter));
      if (options.format === 'csv') {
        context.stdout(ledgerCsv(entries.map(ledgerEntryView)));
        return;
      }
      const answer = { invoicePeriod: options.period, entries, totals: ledgerTotals(entries), checksum: ledgerChecksum(entries) };
      context.stdout(`${JSON.stringify(answer, null, 2)}\n`);
    });
  return ledger;
}

function totalsTable(totals: LedgerTotal[]): string {
  const header = ['currency', 'charges', 'refunds', 'credits', 'voids', 'net'];
  const rows = totals.map((total) => [total.currency, ...[total.charges, total.refunds, total.credits, total.voids, total.net].map(String)]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
