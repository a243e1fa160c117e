export * from './event-store.port';
export * from './log-position';
export * from './sqlite/duplicate-event-id.error';
export * from './sqlite/sqlite-event-store';
export * from './in-memory/in-memory-event-store';
export * from './codec/event-codec';
export * from './codec/codec-event-store';
