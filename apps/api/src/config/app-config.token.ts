/** Injection token for the AppConfig read at start. */
export const APP_CONFIG = Symbol('APP_CONFIG');
