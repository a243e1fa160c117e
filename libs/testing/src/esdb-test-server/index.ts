export {
  DEFAULT_MAX_APPEND_SIZE,
  startEsdbTestServer,
  type EsdbTestServer,
  type EsdbTestServerOptions,
} from './esdb-test-server';
export { EPOCH_INFORMATION_EVENT_TYPE, EPOCH_INFORMATION_STREAM } from './esdb-system-events';
export { sizeOnDisk, type AppendHold, type AppendHoldVerdict } from './streams-write.handler';
export { EsdbMemoryLog, type LogRecord } from './esdb-memory-log.store';
