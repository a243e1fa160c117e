/**
 * The EventStoreDB gRPC contract, taken from the definitions generated inside `@eventstore/db-client`
 * (the package ships no .proto files).
 *
 * Why everything comes through the client package: the generated serializers check `instanceof`
 * against the message classes of the client's own google-protobuf copy, which is nested under the
 * client and not hoisted. Messages built from any other copy would be rejected on the wire.
 */
import { createRequire } from 'node:module';
import type * as AnyModule from 'google-protobuf/google/protobuf/any_pb';
import type * as EmptyModule from 'google-protobuf/google/protobuf/empty_pb';

export * as streamsPb from '@eventstore/db-client/generated/streams_pb';
export * as sharedPb from '@eventstore/db-client/generated/shared_pb';
export * as statusPb from '@eventstore/db-client/generated/status_pb';
export * as codePb from '@eventstore/db-client/generated/code_pb';
export * as serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb';
export { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb';
export { ServerFeaturesService } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
export type { IServerFeaturesServer } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';

const requireBesideClient = createRequire(require.resolve('@eventstore/db-client/generated/status_pb'));

/** `google.protobuf.Any`, from the copy the client's `google.rpc.Status` serializer expects. */
export const ProtobufAny = (requireBesideClient('google-protobuf/google/protobuf/any_pb') as typeof AnyModule).Any;

/** `google.protobuf.Empty`: BatchAppend and the shared WrongExpectedVersion use it instead of the client's own Empty. */
export const ProtobufEmpty = (requireBesideClient('google-protobuf/google/protobuf/empty_pb') as typeof EmptyModule)
  .Empty;
