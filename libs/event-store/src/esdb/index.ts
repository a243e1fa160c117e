export { EsdbEventStore, type EsdbEventStoreOptions } from './esdb-event-store';
export type { ReconnectPolicy } from './esdb-log-subscription';
