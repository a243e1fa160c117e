/**
 * `Streams.Read`: reads of a stream or of `$all` in both directions with a count, and catch-up
 * subscriptions (confirmation, history, `caught_up`, then live events; checkpoints when filtered).
 *
 * Subscriptions walk the log with a single cursor and wait for the log's append signal only after
 * seeing, synchronously, that the cursor is at the end. That is what makes the switch from history
 * to live free of gaps and duplicates while appends keep arriving.
 */
import { randomUUID } from 'node:crypto';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { DELETED_STREAM_REVISION, LINK_EVENT_TYPE, type EsdbMemoryLog, type LogRecord } from './esdb-memory-log.store';
import { streamsPb } from './esdb-protocol.loader';
import { invalidArgument, streamDeletedError, streamNameOf, toReadEvent, toStreamIdentifier } from './esdb-wire.mapper';

type ReadCall = ServerWritableStream<streamsPb.ReadReq, streamsPb.ReadResp>;
type Options = streamsPb.ReadReq.Options;

const { StreamOptionCase, CountOptionCase, FilterOptionCase, ReadDirection } = streamsPb.ReadReq.Options;
const { RevisionOptionCase } = streamsPb.ReadReq.Options.StreamOptions;
const { AllOptionCase } = streamsPb.ReadReq.Options.AllOptions;
const { FilterCase, WindowCase } = streamsPb.ReadReq.Options.FilterOptions;
/** EventStoreDB's ReadBatchSize: the search window when the client asks for `count` rather than `max`. */
const DEFAULT_SEARCH_WINDOW = 32;

export function handleRead(log: EsdbMemoryLog) {
  return (call: ReadCall): void => {
    const options = call.request.getOptions();
    if (!options) {
      call.emit('error', invalidArgument('Read needs options'));
      return;
    }
    const subscription = options.getCountOptionCase() === CountOptionCase.SUBSCRIPTION;
    const reading =
      options.getStreamOptionCase() === StreamOptionCase.ALL
        ? subscription
          ? subscribeToAll(log, call, options)
          : readAll(log, call, options)
        : subscription
          ? subscribeToStream(log, call, options)
          : readStream(log, call, options);
    reading.catch((error: unknown) => call.emit('error', error));
  };
}

async function readStream(log: EsdbMemoryLog, call: ReadCall, options: Options): Promise<void> {
  const streamOptions = options.getStream();
  const streamName = streamNameOf(streamOptions?.getStreamIdentifier());
  const result = log.readStream(streamName);
  if (result.kind === 'deleted') throw streamDeletedError(streamName);
  const sender = new ResponseSender(call);
  if (result.kind === 'not-found') {
    await sender.send(
      new streamsPb.ReadResp().setStreamNotFound(
        new streamsPb.ReadResp.StreamNotFound().setStreamIdentifier(toStreamIdentifier(streamName)),
      ),
    );
    call.end();
    return;
  }
  const backwards = options.getReadDirection() === ReadDirection.BACKWARDS;
  const last = result.records.at(-1)?.revision ?? result.firstVisibleRevision - 1n;
  const from = (() => {
    switch (streamOptions!.getRevisionOptionCase()) {
      case RevisionOptionCase.START:
        return 0n;
      case RevisionOptionCase.END:
        return backwards ? last : last + 1n;
      case RevisionOptionCase.REVISION:
        return BigInt(streamOptions!.getRevision());
      default:
        throw invalidArgument('Stream read needs a start, an end or a revision');
    }
  })();
  const selected = backwards
    ? result.records.filter((record) => record.revision <= from).reverse()
    : result.records.filter((record) => record.revision >= from);
  for (const record of selected.slice(0, countOf(options))) {
    if (!(await sender.send(new streamsPb.ReadResp().setEvent(readEventOf(log, record, options))))) return;
  }
  call.end();
}

/** The log index an $all read or subscription starts at; `afterPosition` shifts a given position past its event. */
function allStartIndex(
  log: EsdbMemoryLog,
  allOptions: ReturnType<Options['getAll']>,
  what: 'read' | 'subscription',
  afterPosition: bigint,
): number {
  switch (allOptions?.getAllOptionCase()) {
    case AllOptionCase.START:
      return 0;
    case AllOptionCase.END:
      return log.length;
    case AllOptionCase.POSITION:
      return log.indexAtOrAfter(BigInt(allOptions.getPosition()!.getCommitPosition()) + afterPosition);
    default:
      throw invalidArgument(`$all ${what} needs a start, an end or a position`);
  }
}

async function readAll(log: EsdbMemoryLog, call: ReadCall, options: Options): Promise<void> {
  const allOptions = options.getAll();
  const backwards = options.getReadDirection() === ReadDirection.BACKWARDS;
  // Forwards from a position includes the event there; backwards from it starts just before it.
  const boundary = allStartIndex(log, allOptions, 'read', 0n);
  const matches = filterOf(options);
  const sender = new ResponseSender(call);
  let remaining = countOf(options);
  const step = backwards ? -1 : 1;
  for (let index = backwards ? boundary - 1 : boundary; remaining > 0 && index >= 0 && index < log.length; index += step) {
    const record = log.recordAt(index);
    if (!matches(record)) continue;
    remaining -= 1;
    if (!(await sender.send(new streamsPb.ReadResp().setEvent(readEventOf(log, record, options))))) return;
  }
  call.end();
}

async function subscribeToAll(log: EsdbMemoryLog, call: ReadCall, options: Options): Promise<void> {
  const allOptions = options.getAll();
  // Unlike a read, a subscription from a position starts strictly after the event there.
  const startIndex = allStartIndex(log, allOptions, 'subscription', 1n);
  const filter = options.getFilter();
  const checkpointInterval =
    options.getFilterOptionCase() === FilterOptionCase.FILTER && filter
      ? filter.getCheckpointintervalmultiplier() *
        (filter.getWindowCase() === WindowCase.MAX ? filter.getMax() : DEFAULT_SEARCH_WINDOW)
      : undefined;
  if (checkpointInterval !== undefined && checkpointInterval <= 0) {
    throw invalidArgument('checkpointIntervalMultiplier and max must be positive');
  }
  const matches = filterOf(options);
  await runSubscription(log, call, options, startIndex, (record) => (matches(record) ? 'deliver' : 'skip'), checkpointInterval);
}

async function subscribeToStream(log: EsdbMemoryLog, call: ReadCall, options: Options): Promise<void> {
  const streamOptions = options.getStream();
  const streamName = streamNameOf(streamOptions?.getStreamIdentifier());
  if (log.isTombstoned(streamName)) throw streamDeletedError(streamName);
  const read = log.readStream(streamName);
  const lastRevision = read.kind === 'found' ? (read.records.at(-1)?.revision ?? -1n) : -1n;
  const after = (() => {
    switch (streamOptions!.getRevisionOptionCase()) {
      case RevisionOptionCase.START:
        return -1n;
      case RevisionOptionCase.END:
        return lastRevision;
      case RevisionOptionCase.REVISION:
        return BigInt(streamOptions!.getRevision());
      default:
        throw invalidArgument('Stream subscription needs a start, an end or a revision');
    }
  })();
  await runSubscription(log, call, options, 0, (record) => {
    if (record.streamName !== streamName) return 'skip';
    if (record.revision === DELETED_STREAM_REVISION) return 'stream-deleted';
    return record.revision > after && log.isVisibleInStream(record) ? 'deliver' : 'skip';
  });
}

async function runSubscription(
  log: EsdbMemoryLog,
  call: ReadCall,
  options: Options,
  startIndex: number,
  select: (record: LogRecord) => 'deliver' | 'skip' | 'stream-deleted',
  checkpointInterval?: number,
): Promise<void> {
  const sender = new ResponseSender(call);
  let wake: (() => void) | undefined;
  const stopListening = log.onAppend(() => wake?.());
  const stopWaiting = (): void => wake?.();
  call.on('cancelled', stopWaiting);
  try {
    const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID());
    if (!(await sender.send(new streamsPb.ReadResp().setConfirmation(confirmation)))) return;
    let cursor = startIndex;
    let considered = 0;
    let caughtUp = false;
    while (!sender.cancelled) {
      while (cursor < log.length) {
        const record = log.recordAt(cursor);
        cursor += 1;
        const verdict = select(record);
        if (verdict === 'stream-deleted') throw streamDeletedError(record.streamName);
        if (verdict === 'deliver') {
          if (!(await sender.send(new streamsPb.ReadResp().setEvent(readEventOf(log, record, options))))) return;
        }
        considered += 1;
        if (checkpointInterval !== undefined && considered >= checkpointInterval) {
          considered = 0;
          const position = record.position.toString();
          const checkpoint = new streamsPb.ReadResp.Checkpoint().setCommitPosition(position).setPreparePosition(position);
          if (!(await sender.send(new streamsPb.ReadResp().setCheckpoint(checkpoint)))) return;
        }
      }
      if (!caughtUp) {
        caughtUp = true;
        if (!(await sender.send(new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp())))) return;
        continue;
      }
      // Checked synchronously just above; nothing can be appended between that check and this wait.
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    stopListening();
    call.off('cancelled', stopWaiting);
  }
}

function filterOf(options: Options): (record: LogRecord) => boolean {
  const filter = options.getFilter();
  if (options.getFilterOptionCase() !== FilterOptionCase.FILTER || !filter) return () => true;
  const onStreamName = filter.getFilterCase() === FilterCase.STREAM_IDENTIFIER;
  const expression = onStreamName ? filter.getStreamIdentifier() : filter.getEventType();
  if (!expression) throw invalidArgument('A filter needs a stream name or an event type expression');
  const pick = (record: LogRecord): string => (onStreamName ? record.streamName : record.type);
  // Like EventStoreDB: a regex, when given, wins over prefixes, and matches anywhere (Regex.IsMatch).
  if (expression.getRegex() !== '') {
    const regex = new RegExp(expression.getRegex());
    return (record) => regex.test(pick(record));
  }
  const prefixes = expression.getPrefixList();
  return (record) => prefixes.some((prefix) => pick(record).startsWith(prefix));
}

/** Links are resolved only when the reader asks (`resolve_links`), as on the real node. */
function readEventOf(log: EsdbMemoryLog, record: LogRecord, options: Options): streamsPb.ReadResp.ReadEvent {
  const structuredIds = usesStructuredIds(options);
  const resolution = options.getResolveLinks() && record.type === LINK_EVENT_TYPE ? log.resolveLink(record) : undefined;
  return toReadEvent(record, structuredIds, resolution);
}

function countOf(options: Options): number {
  return Number(options.getCount());
}

function usesStructuredIds(options: Options): boolean {
  return options.getUuidOption()?.getContentCase() === streamsPb.ReadReq.Options.UUIDOption.ContentCase.STRUCTURED;
}

/** Writes with back-pressure; reports false once the client has gone so loops can stop. */
class ResponseSender {
  cancelled = false;

  constructor(private readonly call: ReadCall) {
    call.on('cancelled', () => {
      this.cancelled = true;
    });
  }

  async send(response: streamsPb.ReadResp): Promise<boolean> {
    if (this.cancelled || this.call.cancelled) return false;
    if (this.call.write(response)) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.call.off('drain', done);
        this.call.off('cancelled', done);
        resolve();
      };
      this.call.on('drain', done);
      this.call.on('cancelled', done);
    });
    return !this.cancelled;
  }
}
