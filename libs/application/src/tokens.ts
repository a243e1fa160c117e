/** Injection tokens for ports that are interfaces (no runtime class to inject by). */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const READ_MODEL_DB = Symbol('READ_MODEL_DB');
