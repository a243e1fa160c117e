export * from './database';
export * from './migrations';
export * from './projection-runner';
export * from './projections/read-model.projection';
export * from './schema';
export * from './checkpoint-watcher';
