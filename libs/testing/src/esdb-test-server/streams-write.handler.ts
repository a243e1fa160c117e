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

export function handleAppend(log: EsdbMemoryLog) {
  return (
    call: ServerReadableStream<streamsPb.AppendReq, streamsPb.AppendResp>,
    callback: sendUnaryData<streamsPb.AppendResp>,
  ): void => {
    let options: streamsPb.AppendReq.Options | undefined;
    const events: ProposedEvent[] = [];
    let failure: ServiceError | undefined;
    call.on('data', (request: streamsPb.AppendReq) => {
      if (failure) return;
      try {
        const proposed = request.getProposedMessage();
        if (request.hasOptions()) options = request.getOptions();
        else if (proposed) events.push(toProposedEvent(proposed));
      } catch (error) {
        failure = error as ServiceError;
      }
    });
    call.on('end', () => {
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
      const outcome = log.append(streamName, expected, events);
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
  };
}

export function handleBatchAppend(log: EsdbMemoryLog) {
  return (call: ServerDuplexStream<streamsPb.BatchAppendReq, streamsPb.BatchAppendResp>): void => {
    const pending = new Map<string, { streamName: string; expected: ExpectedVersion; events: ProposedEvent[] }>();
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
          pending.set(key, {
            streamName: streamNameOf(options.getStreamIdentifier()),
            expected: expectedVersionOf(options.getExpectedStreamPositionCase(), () => options.getStreamPosition()),
            events: [],
          });
        }
        // Like the real server: chunks whose options never arrived (or that already failed) are dropped.
        const write = pending.get(key);
        if (!write) return;
        write.events.push(...request.getProposedMessagesList().map(toProposedEvent));
        if (!request.getIsFinal()) return;
        pending.delete(key);
        const response = new streamsPb.BatchAppendResp()
          .setCorrelationId(correlationId)
          .setStreamIdentifier(toStreamIdentifier(write.streamName));
        const outcome = log.append(write.streamName, write.expected, write.events);
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
      } catch (error) {
        pending.delete(key);
        call.write(
          new streamsPb.BatchAppendResp()
            .setCorrelationId(correlationId)
            .setStreamIdentifier(options?.getStreamIdentifier() ?? toStreamIdentifier(''))
            .setError(badRequestStatus((error as Error).message)),
        );
      }
    });
    call.on('end', () => call.end());
  };
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
