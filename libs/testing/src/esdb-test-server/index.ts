export { startEsdbTestServer, type EsdbTestServer, type EsdbTestServerOptions } from './esdb-test-server';
export { EsdbMemoryLog, type LogRecord } from './esdb-memory-log.store';
