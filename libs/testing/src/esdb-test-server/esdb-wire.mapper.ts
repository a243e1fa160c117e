/**
 * Conversions between the log's records and EventStoreDB's wire messages, and the error shapes the
 * client recognises: trailer metadata whose `exception` key picks the client's error class, and
 * `google.rpc.Status` with an `Any` detail for BatchAppend.
 */
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { ExpectedVersion, LogRecord } from './esdb-memory-log.store';
import { codePb, ProtobufAny, ProtobufEmpty, sharedPb, statusPb, streamsPb } from './esdb-protocol.loader';

/** EventStoreDB's wire encoding of the non-numeric expected versions (AnyStreamRevision.ToInt64). */
const EXPECTED_VERSION_CODES = { any: -2n, no_stream: -1n, stream_exists: -4n } as const;
const ANY_TYPE_URL_PREFIX = 'type.googleapis.com/';
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function streamNameOf(identifier: sharedPb.StreamIdentifier | undefined): string {
  if (!identifier) throw invalidArgument('stream_identifier is required');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

export function toStreamIdentifier(streamName: string): sharedPb.StreamIdentifier {
  return new sharedPb.StreamIdentifier().setStreamName(Buffer.from(streamName, 'utf8'));
}

/** Event ids arrive as strings from the Node client and as two signed 64-bit halves from .NET/Java clients. */
export function parseUuid(uuid: sharedPb.UUID | undefined): string {
  if (!uuid) throw invalidArgument('id is required');
  if (uuid.getValueCase() === sharedPb.UUID.ValueCase.STRING) {
    // The real server parses ids into Guids and refuses the request when one does not parse.
    if (!UUID_PATTERN.test(uuid.getString())) throw invalidArgument(`'${uuid.getString()}' is not a UUID`);
    return uuid.getString().toLowerCase();
  }
  const structured = uuid.getStructured();
  if (!structured) throw invalidArgument('id has neither a string nor a structured value');
  const bytes = Buffer.alloc(16);
  bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
  bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function toUuid(id: string, structured: boolean): sharedPb.UUID {
  if (!structured) return new sharedPb.UUID().setString(id);
  const bytes = Buffer.from(id.replace(/-/g, ''), 'hex');
  return new sharedPb.UUID().setStructured(
    new sharedPb.UUID.Structured()
      .setMostSignificantBits(bytes.readBigInt64BE(0).toString())
      .setLeastSignificantBits(bytes.readBigInt64BE(8).toString()),
  );
}

/**
 * One event as reads and subscriptions send it. A resolved link carries the event it points at as
 * `event` and itself as `link` (with no `event` when the target is gone); its place in the log is the link's.
 */
export function toReadEvent(
  record: LogRecord,
  structuredIds: boolean,
  resolution?: { target: LogRecord | undefined },
): streamsPb.ReadResp.ReadEvent {
  const readEvent = new streamsPb.ReadResp.ReadEvent().setCommitPosition(record.position.toString());
  if (!resolution) return readEvent.setEvent(toRecordedEvent(record, structuredIds));
  readEvent.setLink(toRecordedEvent(record, structuredIds));
  if (resolution.target) readEvent.setEvent(toRecordedEvent(resolution.target, structuredIds));
  return readEvent;
}

function toRecordedEvent(record: LogRecord, structuredIds: boolean): streamsPb.ReadResp.ReadEvent.RecordedEvent {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent()
    .setId(toUuid(record.id, structuredIds))
    .setStreamIdentifier(toStreamIdentifier(record.streamName))
    .setStreamRevision(record.revision.toString())
    .setCommitPosition(record.position.toString())
    .setPreparePosition(record.position.toString())
    .setData(record.data)
    .setCustomMetadata(record.customMetadata);
  recorded
    .getMetadataMap()
    .set('type', record.type)
    .set('content-type', record.contentType)
    .set('created', record.createdTicks.toString());
  return recorded;
}

export function expectedVersionCode(expected: ExpectedVersion): bigint {
  return typeof expected === 'bigint' ? expected : EXPECTED_VERSION_CODES[expected];
}

/** How Delete and Tombstone report a conflict: FAILED_PRECONDITION with the details in trailers. */
export function wrongExpectedVersionError(
  streamName: string,
  expected: ExpectedVersion,
  currentRevision: bigint | undefined,
): ServiceError {
  const metadata = new Metadata();
  metadata.set('exception', 'wrong-expected-version');
  metadata.set('stream-name', streamName);
  metadata.set('expected-version', expectedVersionCode(expected).toString());
  // The real server sends an empty value for "no stream"; the client reads an empty value as no_stream.
  metadata.set('actual-version', currentRevision?.toString() ?? '');
  return serviceError(
    GrpcStatus.FAILED_PRECONDITION,
    `WrongExpectedVersion. Stream: ${streamName}, Expected version: ${expectedVersionCode(expected)}, ` +
      `Actual version: ${currentRevision?.toString() ?? ''}`,
    metadata,
  );
}

export function streamDeletedError(streamName: string): ServiceError {
  const metadata = new Metadata();
  metadata.set('exception', 'stream-deleted');
  metadata.set('stream-name', streamName);
  return serviceError(GrpcStatus.FAILED_PRECONDITION, `Event stream '${streamName}' is deleted.`, metadata);
}

export function invalidArgument(message: string): ServiceError {
  return serviceError(GrpcStatus.INVALID_ARGUMENT, message, new Metadata());
}

/** BatchAppend's conflict report: a google.rpc.Status whose detail is a packed shared WrongExpectedVersion. */
export function wrongExpectedVersionStatus(
  expected: ExpectedVersion,
  currentRevision: bigint | undefined,
): statusPb.Status {
  const detail = new sharedPb.WrongExpectedVersion();
  if (currentRevision === undefined) detail.setCurrentNoStream(new ProtobufEmpty());
  else detail.setCurrentStreamRevision(currentRevision.toString());
  if (expected === 'any') detail.setExpectedAny(new ProtobufEmpty());
  else if (expected === 'no_stream') detail.setExpectedNoStream(new ProtobufEmpty());
  else if (expected === 'stream_exists') detail.setExpectedStreamExists(new ProtobufEmpty());
  else detail.setExpectedStreamPosition(expected.toString());
  return rpcStatus('WrongExpectedVersion', 'event_store.client.WrongExpectedVersion', detail.serializeBinary());
}

export function streamDeletedStatus(streamName: string): statusPb.Status {
  const detail = new sharedPb.StreamDeleted().setStreamIdentifier(toStreamIdentifier(streamName));
  return rpcStatus(`Event stream '${streamName}' is deleted.`, 'event_store.client.StreamDeleted', detail.serializeBinary());
}

function rpcStatus(message: string, typeName: string, detail: Uint8Array): statusPb.Status {
  const any = new ProtobufAny();
  any.setTypeUrl(`${ANY_TYPE_URL_PREFIX}${typeName}`);
  any.setValue(detail);
  return new statusPb.Status().setCode(codePb.Code.FAILED_PRECONDITION).setMessage(message).setDetails(any);
}

function serviceError(code: GrpcStatus, details: string, metadata: Metadata): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata });
}
