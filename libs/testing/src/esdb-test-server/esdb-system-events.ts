/**
 * The events an EventStoreDB node writes to its own log, so that `$all` here begins, continues and
 * ends with them as on a real node.
 *
 * A node that becomes leader (at its first start, after every restart, at every election) writes an
 * epoch record, which reads never return, followed by a `$epoch-information` event in the stream of
 * the same name describing that epoch (24.10 EpochManager). An insecure node with projections off,
 * as the testcontainers run and docker/ compose start it, writes nothing else by itself; soft
 * deletes add `$metadata` events and tombstones `$streamDeleted` ones (see EsdbMemoryLog).
 *
 * @example
 *   becomeLeader(log, instanceId);   // what the server does at start, and what a test calls for an election
 */
import type { EsdbMemoryLog, LogRecord } from './esdb-memory-log.store';

export const EPOCH_INFORMATION_STREAM = '$epoch-information';
export const EPOCH_INFORMATION_EVENT_TYPE = '$epoch-information';

/** The epoch's description, shaped like the node's serialized EpochRecord. */
interface EpochInformation {
  epochPosition: number;
  epochNumber: number;
  epochId: string;
  prevEpochPosition: number;
  timeStamp: string;
  leaderInstanceId: string;
}

/** Writes the `$epoch-information` event of a new epoch led by `leaderInstanceId`. */
export function becomeLeader(log: EsdbMemoryLog, leaderInstanceId: string, epochId: string): LogRecord {
  const previous = lastEpoch(log);
  const information: EpochInformation = {
    epochPosition: Number(log.endPosition),
    epochNumber: previous ? previous.epochNumber + 1 : 0,
    epochId,
    prevEpochPosition: previous ? previous.epochPosition : -1,
    timeStamp: new Date().toISOString(),
    leaderInstanceId,
  };
  return log.appendSystemEvent(EPOCH_INFORMATION_STREAM, EPOCH_INFORMATION_EVENT_TYPE, information);
}

function lastEpoch(log: EsdbMemoryLog): EpochInformation | undefined {
  const read = log.readStream(EPOCH_INFORMATION_STREAM);
  const last = read.kind === 'found' ? read.records.at(-1) : undefined;
  return last ? (JSON.parse(Buffer.from(last.data).toString('utf8')) as EpochInformation) : undefined;
}
