/**
 * What a process needs to listen and to fail to start in one clear line: the address from the
 * environment, and the line for an error that stops the start (configuration, storage, port).
 */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * `HOST` (default `127.0.0.1`: the embedded default serves this machine only; containers set
 * `0.0.0.0`) and the port variable given.
 *
 * @example
 *   const { host, port } = listenAddressFromEnv(process.env, { portVariable: 'PROJECTOR_PORT', defaultPort: 3001 });
 */
export function listenAddressFromEnv(env: NodeJS.ProcessEnv, { portVariable, defaultPort }: { portVariable: string; defaultPort: number }): ListenAddress {
  // Empty counts as unset, as for `DATA_DIR` and the numeric settings: `PORT=` must not mean a port the system picks.
  const host = env['HOST'] || '127.0.0.1';
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(host)) throw new Error(`HOST must be an address or host name like 127.0.0.1 or 0.0.0.0, got ${JSON.stringify(host)}`);
  const text = env[portVariable];
  const port = text === undefined || text === '' ? defaultPort : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${portVariable} must be a port number (0-65535), got ${text}`);
  return { host, port };
}

/** `http://host:port` of what the server really bound (port 0 becomes the one the system chose). */
export function boundUrl(address: string | { address: string; port: number } | null, fallback: ListenAddress): string {
  const { address: host, port } = typeof address === 'object' && address !== null ? address : { address: fallback.host, port: fallback.port };
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The one line that says why the process did not start and what to do; the stack trace follows only
 * at `LOG_LEVEL=debug`.
 */
export function startupFailureText(error: unknown, env: NodeJS.ProcessEnv, listen?: ListenAddress & { portVariable: string }): string {
  const code = (error as { code?: unknown } | null)?.code;
  let line: string;
  if (listen && code === 'EADDRINUSE') {
    line = `${listen.host}:${listen.port} is already in use by another process: stop it, or set ${listen.portVariable} to a free port`;
  } else if (listen && (code === 'EACCES' || code === 'EPERM')) {
    line = `not allowed to listen on ${listen.host}:${listen.port}: set ${listen.portVariable} above 1023 or run with the privilege to bind it`;
  } else if (listen && code === 'EADDRNOTAVAIL') {
    line = `HOST ${listen.host} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all`;
  } else {
    line = (error instanceof Error ? error.message : String(error)).split('\n').join(' ');
  }
  const debug = env['LOG_LEVEL'] === 'debug' && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return `${line}${debug}\n`;
}

/**
 * Nest's logger until the service's own takes over (`bufferLogs` replays what was said meanwhile):
 * off, so a start that fails prints only its one line, unless `LOG_LEVEL=debug` asks for Nest's
 * own report with the stack.
 */
export function nestLoggerBeforeStart(env: NodeJS.ProcessEnv = process.env): false | undefined {
  return env['LOG_LEVEL'] === 'debug' ? undefined : false;
}
