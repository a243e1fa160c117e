export * from './event-store.port';
export * from './log-position';
