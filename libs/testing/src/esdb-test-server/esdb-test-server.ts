/**
 * An in-process server that speaks EventStoreDB's gRPC protocol well enough for the official
 * `@eventstore/db-client` to run unchanged against it: ServerFeatures, Streams.Append/BatchAppend,
 * Streams.Read (reads and catch-up subscriptions), Delete and Tombstone. Insecure (h2c) only.
 *
 * @example
 *   const server = await startEsdbTestServer({ port: 0 });
 *   const client = EventStoreDBClient.connectionString(server.connectionString);
 *   ...
 *   await server.stop();
 */
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { EsdbMemoryLog } from './esdb-memory-log.store';
import {
  ServerFeaturesService,
  StreamsService,
  serverFeaturesPb,
  type IServerFeaturesServer,
} from './esdb-protocol.loader';
import { handleRead } from './streams-read.handler';
import { handleAppend, handleBatchAppend, handleDelete, handleTombstone } from './streams-write.handler';

export interface EsdbTestServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Keep the log in this file (one JSON record a line) so a restart finds it again. */
  file?: string;
  /** Serve this log instead of a new one: restarts in tests keep their data this way. */
  log?: EsdbMemoryLog;
  /**
   * false leaves BatchAppend unimplemented and out of ServerFeatures, like servers before 21.10;
   * the client then appends through the classic Append call.
   */
  batchAppend?: boolean;
}

export interface EsdbTestServer {
  host: string;
  port: number;
  /** `esdb://host:port?tls=false` */
  connectionString: string;
  log: EsdbMemoryLog;
  /** Drops every call at once, as a crashed node would. */
  stop(): Promise<void>;
}

const SERVER_VERSION = '24.10.0';
/** The client accepts 17 MiB messages; accept as much so large appends fail for the same reasons as for real. */
const MAX_MESSAGE_BYTES = 17 * 1024 * 1024;

export async function startEsdbTestServer(options: EsdbTestServerOptions = {}): Promise<EsdbTestServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? EsdbMemoryLog.open(options.file);
  const batchAppend = options.batchAppend ?? true;
  const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });

  // A method left out is answered UNIMPLEMENTED by grpc-js, as by a server that predates it.
  const streams: UntypedServiceImplementation = {
    read: handleRead(log),
    append: handleAppend(log),
    delete: handleDelete(log),
    tombstone: handleTombstone(log),
    ...(batchAppend ? { batchAppend: handleBatchAppend(log) } : {}),
  };
  server.addService(StreamsService, streams);

  const features: IServerFeaturesServer = {
    getSupportedMethods: (_call, callback) => callback(null, supportedMethods(Object.keys(streams))),
  };
  server.addService(ServerFeaturesService, features);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    ),
  );
  return {
    host,
    port,
    connectionString: `esdb://${host}:${port}?tls=false`,
    log,
    stop: async () => server.forceShutdown(),
  };
}

/** The real server lists lower-cased names and a few feature flags per method; the client lower-cases again. */
function supportedMethods(streamMethods: string[]): serverFeaturesPb.SupportedMethods {
  const features: Record<string, string[]> = { read: ['position', 'events'], batchappend: ['deadline_duration'] };
  const methods = streamMethods.map((name) =>
    new serverFeaturesPb.SupportedMethod()
      .setServiceName('event_store.client.streams.streams')
      .setMethodName(name.toLowerCase())
      .setFeaturesList(features[name.toLowerCase()] ?? []),
  );
  methods.push(
    new serverFeaturesPb.SupportedMethod()
      .setServiceName('event_store.client.server_features.serverfeatures')
      .setMethodName('getsupportedmethods'),
  );
  return new serverFeaturesPb.SupportedMethods().setMethodsList(methods).setEventStoreServerVersion(SERVER_VERSION);
}
