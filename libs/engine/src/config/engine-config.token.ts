/** Injection token for the EngineConfig read at start. */
export const ENGINE_CONFIG = Symbol('ENGINE_CONFIG');
