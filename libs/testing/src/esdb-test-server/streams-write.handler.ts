/**
 * The write side of `event_store.client.streams.Streams`: Append (classic, client-streaming),
 * BatchAppend (one long-lived duplex stream multiplexed by correlation id), Delete and Tombstone.
 * Each reports failures the way the real server does, because the client picks its error class
 * from exactly that shape.
 */
import { Metadata, status as GrpcStatus, type ServiceError, type ServerUnaryCall } from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import type { EsdbMemoryLog, ExpectedVersion, ProposedEvent, WriteOutcome } from './esdb-memory-log.store';
import { ProtobufAny, ProtobufEmpty, codePb, sharedPb, statusPb, streamsPb } from './esdb-protocol.loader';
import {
  invalidArgument,
  parseUuid,
  streamDeletedError,
  streamDeletedStatus,
  streamNameOf,
  toStreamIdentifier,
  wrongExpectedVersionError,
  wrongExpectedVersionStatus,
} from './esdb-wire.mapper';

const REQUIRED_METADATA = ['type', 'content-type'] as const;
/** setTimeout's longest wait; a deadline further away than this never fires in a test. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a held append becomes: written when the hold ends (the default), or lost. */
export type AppendHoldVerdict = 'write' | 'drop';

/**
 * Awaited before an append is written, as a slow disk or a busy leader holds it. An append still
 * held when its deadline or the node's write timeout passes is answered with a timeout; the verdict
 * then decides whether it lands anyway ('write', as a commit that outran its reply) or is lost ('drop').
 */
export type AppendHold = (streamName: string) => Promise<AppendHoldVerdict | void>;

export interface WriteRules {
  /** The node's MaxAppendSize: the total size of one append's events, counted as `sizeOnDisk` does. */
  maxAppendSize: number;
  /** The node's WriteTimeoutMs: how long a write may take before it is answered with a timeout. */
  writeTimeoutMs: number;
  holdAppend?: AppendHold;
}

/**
 * EventStoreDB's Event.SizeOnDisk as current releases compute it: data, metadata and two bytes per
 * character of the type. 24.10.0 itself counts only the data (an operator-precedence slip fixed
 * later), so this is the stricter of the two and an adapter that fits it fits both.
 */
export function sizeOnDisk(event: ProposedEvent): number {
  return event.data.length + event.customMetadata.length + event.type.length * 2;
}

export function handleAppend(log: EsdbMemoryLog, rules: WriteRules) {
  return (
    call: ServerReadableStream<streamsPb.AppendReq, streamsPb.AppendResp>,
    callback: sendUnaryData<streamsPb.AppendResp>,
  ): void => {
    let options: streamsPb.AppendReq.Options | undefined;
    const events: ProposedEvent[] = [];
    let size = 0;
    let failure: ServiceError | undefined;
    let answered = false;
    call.on('data', (request: streamsPb.AppendReq) => {
      if (failure) return;
      try {
        const proposed = request.getProposedMessage();
        if (request.hasOptions()) options = request.getOptions();
        else if (proposed) {
          const event = toProposedEvent(proposed);
          size += sizeOnDisk(event);
          // Like the real node: refused as soon as the running total passes the limit, before the rest arrives.
          if (size > rules.maxAppendSize) {
            failure = maxAppendSizeExceededError(rules.maxAppendSize);
            answered = true;
            callback(failure);
            return;
          }
          events.push(event);
        }
      } catch (error) {
        failure = error as ServiceError;
      }
    });
    call.on('end', () => {
      if (answered) return;
      if (failure) return callback(failure);
      if (!options) return callback(invalidArgument('The first Append message must carry options'));
      let streamName: string;
      let expected: ExpectedVersion;
      try {
        streamName = streamNameOf(options.getStreamIdentifier());
        expected = expectedVersionOf(options.getExpectedStreamRevisionCase(), () => options!.getRevision());
      } catch (error) {
        return callback(error as ServiceError);
      }
      const clientDeadline = deadlineMs(call.getDeadline());
      const writeTimeout = Date.now() + rules.writeTimeoutMs;
      void writeInTime(rules.holdAppend, streamName, Math.min(clientDeadline, writeTimeout), () =>
        log.append(streamName, expected, events),
      ).then((outcome) => {
        if (outcome === 'timed-out') {
          // grpc-js has already answered DEADLINE_EXCEEDED when the client's deadline was the first to pass.
          return callback(clientDeadline <= writeTimeout ? deadlineExceededError() : writeTimedOutError(streamName));
        }
        switch (outcome.kind) {
          case 'written':
            return callback(null, new streamsPb.AppendResp().setSuccess(appendSuccess(outcome)));
          case 'wrong-expected-version':
            // Current servers report a conflict on this path inside the response, not as a gRPC error.
            return callback(null, new streamsPb.AppendResp().setWrongExpectedVersion(appendConflict(outcome)));
          case 'stream-deleted':
            return callback(streamDeletedError(streamName));
        }
      });
    });
  };
}

interface PendingBatchWrite {
  streamName: string;
  expected: ExpectedVersion;
  events: ProposedEvent[];
  size: number;
  /** The earlier of the client's deadline and the node's write timeout, in epoch milliseconds. */
  answerBy: number;
  /** Answers a timeout if the final chunk has not come by `answerBy`. */
  timer: NodeJS.Timeout | undefined;
}

export function handleBatchAppend(log: EsdbMemoryLog, rules: WriteRules) {
  return (call: ServerDuplexStream<streamsPb.BatchAppendReq, streamsPb.BatchAppendResp>): void => {
    const pending = new Map<string, PendingBatchWrite>();
    const respond = (correlationId: sharedPb.UUID, streamName: string) =>
      new streamsPb.BatchAppendResp().setCorrelationId(correlationId).setStreamIdentifier(toStreamIdentifier(streamName));
    call.on('data', (request: streamsPb.BatchAppendReq) => {
      const correlationId = request.getCorrelationId();
      if (!correlationId) {
        call.emit('error', invalidArgument('BatchAppend requests need a correlation_id'));
        return;
      }
      const options = request.getOptions();
      let key = '';
      try {
        key = parseUuid(correlationId);
        if (options) {
          const streamName = streamNameOf(options.getStreamIdentifier());
          const clientDeadline = options.hasDeadline() ? options.getDeadline()!.toDate().getTime() : Number.POSITIVE_INFINITY;
          const answerBy = Math.min(clientDeadline, Date.now() + rules.writeTimeoutMs);
          if (answerBy <= Date.now()) {
            call.write(respond(correlationId, streamName).setError(timeoutStatus()));
            return;
          }
          const timer = setTimeout(() => {
            if (pending.delete(key)) call.write(respond(correlationId, streamName).setError(timeoutStatus()));
          }, Math.min(answerBy - Date.now(), MAX_TIMER_MS));
          pending.set(key, {
            streamName,
            expected: expectedVersionOf(options.getExpectedStreamPositionCase(), () => options.getStreamPosition()),
            events: [],
            size: 0,
            answerBy,
            timer,
          });
        }
        // Like the real server: chunks whose options never arrived (or that already failed) are dropped.
        const write = pending.get(key);
        if (!write) return;
        for (const event of request.getProposedMessagesList().map(toProposedEvent)) {
          write.events.push(event);
          write.size += sizeOnDisk(event);
        }
        if (write.size > rules.maxAppendSize) {
          forget(pending, key);
          call.write(respond(correlationId, write.streamName).setError(maxAppendSizeExceededStatus(rules.maxAppendSize)));
          return;
        }
        if (!request.getIsFinal()) return;
        forget(pending, key);
        const response = respond(correlationId, write.streamName);
        void writeInTime(rules.holdAppend, write.streamName, write.answerBy, () =>
          log.append(write.streamName, write.expected, write.events),
        ).then((outcome) => {
          if (outcome === 'timed-out') {
            call.write(response.setError(timeoutStatus()));
            return;
          }
          switch (outcome.kind) {
            case 'written':
              call.write(response.setSuccess(batchSuccess(outcome)));
              return;
            case 'wrong-expected-version':
              call.write(response.setError(wrongExpectedVersionStatus(outcome.expected, outcome.currentRevision)));
              return;
            case 'stream-deleted':
              call.write(response.setError(streamDeletedStatus(write.streamName)));
              return;
          }
        });
      } catch (error) {
        forget(pending, key);
        call.write(
          new streamsPb.BatchAppendResp()
            .setCorrelationId(correlationId)
            .setStreamIdentifier(options?.getStreamIdentifier() ?? toStreamIdentifier(''))
            .setError(badRequestStatus((error as Error).message)),
        );
      }
    });
    call.on('end', () => call.end());
    call.on('cancelled', () => {
      for (const key of [...pending.keys()]) forget(pending, key);
    });
  };
}

function forget(pending: Map<string, PendingBatchWrite>, key: string): void {
  clearTimeout(pending.get(key)?.timer);
  pending.delete(key);
}

/**
 * Writes at once, or, with a hold, when the hold ends; 'timed-out' when `answerBy` passes first
 * (the hold's verdict then still decides whether the write lands, unanswered).
 */
function writeInTime(
  hold: AppendHold | undefined,
  streamName: string,
  answerBy: number,
  write: () => WriteOutcome,
): Promise<WriteOutcome | 'timed-out'> {
  if (!hold) return Promise.resolve(write());
  return new Promise((resolve) => {
    let timedOut = false;
    const remaining = answerBy - Date.now();
    const timer =
      remaining < MAX_TIMER_MS
        ? setTimeout(() => {
            timedOut = true;
            resolve('timed-out');
          }, Math.max(0, remaining))
        : undefined;
    const settle = (verdict: AppendHoldVerdict | void): void => {
      if (verdict === 'drop') return;
      const outcome = write();
      if (timedOut) return;
      clearTimeout(timer);
      resolve(outcome);
    };
    hold(streamName).then(settle, () => settle('drop'));
  });
}

function deadlineMs(deadline: Date | number): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

export function handleDelete(log: EsdbMemoryLog) {
  return (
    call: ServerUnaryCall<streamsPb.DeleteReq, streamsPb.DeleteResp>,
    callback: sendUnaryData<streamsPb.DeleteResp>,
  ): void => {
    const options = call.request.getOptions();
    try {
      const streamName = streamNameOf(options?.getStreamIdentifier());
      const expected = expectedVersionOf(options!.getExpectedStreamRevisionCase(), () => options!.getRevision());
      const outcome = log.deleteStream(streamName, expected);
      if (outcome.kind !== 'written') return callback(deletionFailure(streamName, outcome));
      const response = new streamsPb.DeleteResp();
      if (outcome.position === undefined) response.setNoPosition(new sharedPb.Empty());
      else {
        const position = outcome.position.toString();
        response.setPosition(new streamsPb.DeleteResp.Position().setCommitPosition(position).setPreparePosition(position));
      }
      callback(null, response);
    } catch (error) {
      callback(error as ServiceError);
    }
  };
}

export function handleTombstone(log: EsdbMemoryLog) {
  return (
    call: ServerUnaryCall<streamsPb.TombstoneReq, streamsPb.TombstoneResp>,
    callback: sendUnaryData<streamsPb.TombstoneResp>,
  ): void => {
    const options = call.request.getOptions();
    try {
      const streamName = streamNameOf(options?.getStreamIdentifier());
      const expected = expectedVersionOf(options!.getExpectedStreamRevisionCase(), () => options!.getRevision());
      const outcome = log.tombstoneStream(streamName, expected);
      if (outcome.kind !== 'written') return callback(deletionFailure(streamName, outcome));
      const response = new streamsPb.TombstoneResp();
      if (outcome.position === undefined) response.setNoPosition(new sharedPb.Empty());
      else {
        const position = outcome.position.toString();
        response.setPosition(
          new streamsPb.TombstoneResp.Position().setCommitPosition(position).setPreparePosition(position),
        );
      }
      callback(null, response);
    } catch (error) {
      callback(error as ServiceError);
    }
  };
}

function deletionFailure(streamName: string, outcome: Exclude<WriteOutcome, { kind: 'written' }>): ServiceError {
  return outcome.kind === 'stream-deleted'
    ? streamDeletedError(streamName)
    : wrongExpectedVersionError(streamName, outcome.expected, outcome.currentRevision);
}

/** The four request types number their expected-revision oneof cases identically (2 exact, 3-5 the rest). */
function expectedVersionOf(expectedCase: number, exactRevision: () => string): ExpectedVersion {
  switch (expectedCase) {
    case 2:
      return BigInt(exactRevision());
    case 3:
      return 'no_stream';
    case 4:
      return 'any';
    case 5:
      return 'stream_exists';
    default:
      throw invalidArgument('expected stream revision is not set');
  }
}

function toProposedEvent(
  message: streamsPb.AppendReq.ProposedMessage | streamsPb.BatchAppendReq.ProposedMessage,
): ProposedEvent {
  const metadata = message.getMetadataMap();
  for (const key of REQUIRED_METADATA) {
    if (metadata.get(key) === undefined) throw missingMetadataError(key);
  }
  return {
    id: parseUuid(message.getId()),
    type: metadata.get('type')!,
    contentType: metadata.get('content-type')!,
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
}

function missingMetadataError(property: string): ServiceError {
  const metadata = new Metadata();
  metadata.set('exception', 'missing-required-metadata-property');
  metadata.set('required-metadata-properties', REQUIRED_METADATA.join(','));
  return Object.assign(new Error(`Required Metadata Property '${property}' is missing`), {
    code: GrpcStatus.INVALID_ARGUMENT,
    details: `Required Metadata Property '${property}' is missing`,
    metadata,
  });
}

/** The classic Append's refusal: INVALID_ARGUMENT with the limit in trailers (RpcExceptions.MaxAppendSizeExceeded). */
function maxAppendSizeExceededError(maxAppendSize: number): ServiceError {
  const metadata = new Metadata();
  metadata.set('exception', 'maximum-append-size-exceeded');
  metadata.set('maximum-append-size', String(maxAppendSize));
  const details = `Maximum Append Size of ${maxAppendSize} Exceeded.`;
  return Object.assign(new Error(details), { code: GrpcStatus.INVALID_ARGUMENT, details, metadata });
}

/** BatchAppend's refusal: a Status whose detail is a packed MaximumAppendSizeExceeded. */
function maxAppendSizeExceededStatus(maxAppendSize: number): statusPb.Status {
  const any = new ProtobufAny();
  any.setTypeUrl('type.googleapis.com/event_store.client.MaximumAppendSizeExceeded');
  any.setValue(new sharedPb.MaximumAppendSizeExceeded().setMaxappendsize(maxAppendSize).serializeBinary());
  return new statusPb.Status()
    .setCode(codePb.Code.INVALID_ARGUMENT)
    .setMessage('MaximumAppendSizeExceeded')
    .setDetails(any);
}

/** BatchAppend's answer to a write not done in time (Status.Timeout): DEADLINE_EXCEEDED with a Timeout detail. */
function timeoutStatus(): statusPb.Status {
  const any = new ProtobufAny();
  any.setTypeUrl('type.googleapis.com/event_store.client.Timeout');
  any.setValue(new sharedPb.Timeout().serializeBinary());
  return new statusPb.Status().setCode(codePb.Code.DEADLINE_EXCEEDED).setMessage('Timeout').setDetails(any);
}

/** The classic Append's answer when the node's own write timeout passes first: ABORTED (RpcExceptions.Timeout). */
function writeTimedOutError(streamName: string): ServiceError {
  const details = `Operation timed out: Append to ${streamName} was not completed in time.`;
  return Object.assign(new Error(details), { code: GrpcStatus.ABORTED, details, metadata: new Metadata() });
}

function deadlineExceededError(): ServiceError {
  return Object.assign(new Error('Deadline exceeded'), {
    code: GrpcStatus.DEADLINE_EXCEEDED,
    details: 'Deadline exceeded',
    metadata: new Metadata(),
  });
}

function appendSuccess(outcome: Extract<WriteOutcome, { kind: 'written' }>): streamsPb.AppendResp.Success {
  const success = new streamsPb.AppendResp.Success();
  if (outcome.currentRevision === undefined) success.setNoStream(new sharedPb.Empty());
  else success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.position === undefined) success.setNoPosition(new sharedPb.Empty());
  else {
    const position = outcome.position.toString();
    success.setPosition(new streamsPb.AppendResp.Position().setCommitPosition(position).setPreparePosition(position));
  }
  return success;
}

function appendConflict(
  outcome: Extract<WriteOutcome, { kind: 'wrong-expected-version' }>,
): streamsPb.AppendResp.WrongExpectedVersion {
  const conflict = new streamsPb.AppendResp.WrongExpectedVersion();
  if (outcome.currentRevision === undefined) conflict.setCurrentNoStream(new sharedPb.Empty());
  else conflict.setCurrentRevision(outcome.currentRevision.toString());
  const expected = outcome.expected;
  if (expected === 'any') conflict.setExpectedAny(new sharedPb.Empty());
  else if (expected === 'no_stream') conflict.setExpectedNoStream(new sharedPb.Empty());
  else if (expected === 'stream_exists') conflict.setExpectedStreamExists(new sharedPb.Empty());
  else conflict.setExpectedRevision(expected.toString());
  return conflict;
}

function batchSuccess(outcome: Extract<WriteOutcome, { kind: 'written' }>): streamsPb.BatchAppendResp.Success {
  const success = new streamsPb.BatchAppendResp.Success();
  if (outcome.currentRevision === undefined) success.setNoStream(new ProtobufEmpty());
  else success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.position === undefined) success.setNoPosition(new ProtobufEmpty());
  else {
    const position = outcome.position.toString();
    success.setPosition(new sharedPb.AllStreamPosition().setCommitPosition(position).setPreparePosition(position));
  }
  return success;
}

function badRequestStatus(message: string): statusPb.Status {
  const any = new ProtobufAny();
  any.setTypeUrl('type.googleapis.com/event_store.client.BadRequest');
  any.setValue(new sharedPb.BadRequest().setMessage(message).serializeBinary());
  return new statusPb.Status().setCode(codePb.Code.INVALID_ARGUMENT).setMessage(message).setDetails(any);
}
