/** Injection tokens for ports that are interfaces (no runtime class to inject by). */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const READ_MODEL_DB = Symbol('READ_MODEL_DB');
/** How events change shape between the domain and the log (`EventCodec`): upcasting, field encryption. */
export const EVENT_CODEC = Symbol('EVENT_CODEC');
