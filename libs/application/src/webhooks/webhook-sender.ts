import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf, isAllowedHost, isNonPublicAddress } from './webhook-address.policy';

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the attempt when the process stops; an aborted attempt is not an answer. */
  signal: AbortSignal;
}

/** How one attempt ended: an HTTP answer (any status) or no answer at all. */
export type WebhookAttemptResult = { statusCode: number } | { error: string };

/** Sends one signed delivery; a port so dispatcher tests can answer without a network. */
export abstract class WebhookSender {
  abstract send(request: WebhookRequest): Promise<WebhookAttemptResult>;
}

/**
 * POSTs deliveries with Node's own client. Redirects are not followed (a 3xx is a failed attempt),
 * and every address a host name resolves to is checked at connection time, so a name that points
 * at a loopback or private address is refused unless the host is in `WEBHOOK_ALLOWED_HOSTS`.
 */
export class HttpWebhookSender extends WebhookSender {
  constructor(private readonly allowedHosts: readonly string[]) {
    super();
  }

  send(request: WebhookRequest): Promise<WebhookAttemptResult> {
    const url = new URL(request.url);
    const host = hostOf(url);
    const anyAddress = isAllowedHost(host, this.allowedHosts);
    if (!anyAddress && isIP(host) !== 0 && isNonPublicAddress(host)) {
      return Promise.resolve({ error: `${host} is not a public address` });
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const outgoing = send(
        url,
        {
          method: 'POST',
          headers: { ...request.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(request.body)) },
          timeout: request.timeoutMs,
          signal: request.signal,
          lookup: anyAddress ? dnsLookup : publicOnlyLookup,
        },
        (answer: IncomingMessage) => {
          // The body is not needed; reading it frees the socket.
          answer.resume();
          answer.on('end', () => resolve({ statusCode: answer.statusCode ?? 0 }));
          answer.on('error', () => resolve({ statusCode: answer.statusCode ?? 0 }));
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
      outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ? `${error.code}: ${error.message}` : error.message }));
      outgoing.end(request.body);
    });
  }
}

/** `dns.lookup`, failing when any address the name resolves to is not public. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const inside = addresses.find((entry) => isNonPublicAddress(entry.address));
    if (inside) {
      const refused = Object.assign(new Error(`${hostname} resolves to ${inside.address}, which is not a public address`), { code: 'EADDRNOTPUBLIC' });
      return callback(refused, '', 0);
    }
    if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses;
    return callback(null, first!.address, first!.family);
  });
};
