/**
 * An in-process server that speaks EventStoreDB's gRPC protocol well enough for the official
 * `@eventstore/db-client` to run unchanged against it: ServerFeatures, Streams.Append/BatchAppend,
 * Streams.Read (reads and catch-up subscriptions), Delete and Tombstone. Insecure (h2c) only.
 *
 * Like a 24.10 node it starts by writing its own `$epoch-information` event, refuses appends above
 * MaxAppendSize (1 MiB), answers appends not done by their deadline or its write timeout with a
 * timeout, resolves links when asked and applies `$tb`, `$maxCount` and `$maxAge` to stream reads.
 *
 * @example
 *   const server = await startEsdbTestServer({ port: 0 });
 *   const client = EventStoreDBClient.connectionString(server.connectionString);
 *   ...
 *   await server.stop();
 */
import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { EsdbMemoryLog, type LogRecord } from './esdb-memory-log.store';
import {
  ServerFeaturesService,
  StreamsService,
  serverFeaturesPb,
  type IServerFeaturesServer,
} from './esdb-protocol.loader';
import { becomeLeader } from './esdb-system-events';
import { handleRead } from './streams-read.handler';
import {
  handleAppend,
  handleBatchAppend,
  handleDelete,
  handleTombstone,
  type AppendHold,
  type WriteRules,
} from './streams-write.handler';

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
  /**
   * true (the default) writes a `$epoch-information` event at start, as a node becoming leader does;
   * false starts without one, for tests about the log's exact content.
   */
  systemEvents?: boolean;
  /** The node's MaxAppendSize in bytes (default 1 MiB): larger appends are refused on both paths. */
  maxAppendSize?: number;
  /** The node's WriteTimeoutMs (default 2000): a held append is answered with a timeout after it. */
  writeTimeoutMs?: number;
  /** Test hook holding each append before it is written; see AppendHold. */
  holdAppend?: AppendHold;
}

export interface EsdbTestServer {
  host: string;
  port: number;
  /** `esdb://host:port?tls=false` */
  connectionString: string;
  log: EsdbMemoryLog;
  /** Writes what a leader election writes (a new epoch's `$epoch-information` event), now. */
  electLeader(): LogRecord;
  /** Drops every call at once, as a crashed node would. */
  stop(): Promise<void>;
}

const SERVER_VERSION = '24.10.0';
/** ClusterVNodeOptions.MaxAppendSize's default. */
export const DEFAULT_MAX_APPEND_SIZE = 1024 * 1024;
/** ClusterVNodeOptions.WriteTimeoutMs's default. */
const DEFAULT_WRITE_TIMEOUT_MS = 2000;
/** The client accepts 17 MiB messages; accept as much so large appends fail for the same reasons as for real. */
const MAX_MESSAGE_BYTES = 17 * 1024 * 1024;

export async function startEsdbTestServer(options: EsdbTestServerOptions = {}): Promise<EsdbTestServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? EsdbMemoryLog.open(options.file);
  const batchAppend = options.batchAppend ?? true;
  const rules: WriteRules = {
    maxAppendSize: options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE,
    writeTimeoutMs: options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
    holdAppend: options.holdAppend,
  };
  const instanceId = randomUUID();
  const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });

  // A method left out is answered UNIMPLEMENTED by grpc-js, as by a server that predates it.
  const streams: UntypedServiceImplementation = {
    read: handleRead(log),
    append: handleAppend(log, rules),
    delete: handleDelete(log),
    tombstone: handleTombstone(log),
    ...(batchAppend ? { batchAppend: handleBatchAppend(log, rules) } : {}),
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
  // A started node is leader of a new epoch before it answers anyone, also after a restart on an old log.
  if (options.systemEvents ?? true) becomeLeader(log, instanceId, randomUUID());
  return {
    host,
    port,
    connectionString: `esdb://${host}:${port}?tls=false`,
    log,
    electLeader: () => becomeLeader(log, instanceId, randomUUID()),
    stop: async () => server.forceShutdown(),
  };
}

/**
 * The real server lists lower-cased names and a few feature flags per method; the client lower-cases
 * again. BatchAppend's `deadline_duration` is left out: this server reads the 21.10 timestamp deadline
 * the Node client sends, not the later duration field.
 */
function supportedMethods(streamMethods: string[]): serverFeaturesPb.SupportedMethods {
  const features: Record<string, string[]> = { read: ['position', 'events'] };
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
