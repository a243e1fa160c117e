import { DomainError } from '@csp/domain/shared/domain-error';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook must not reach unless an operator names the host in `WEBHOOK_ALLOWED_HOSTS`:
 * loopback, private, link-local (cloud metadata), shared, reserved and multicast ranges. A partner
 * could otherwise point the engine at its own internal network.
 */
const NON_PUBLIC_V4 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC_V4.addSubnet(network, prefix, 'ipv4');
}
// Separate lists: Node's BlockList matches IPv4 addresses against IPv4-mapped IPv6 subnets too.
const NON_PUBLIC_V6 = new BlockList();
for (const [network, prefix] of [
  ['::', 127],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC_V6.addSubnet(network, prefix, 'ipv6');
}
const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** True for an IP address in a loopback, private, link-local, reserved or multicast range. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return NON_PUBLIC_V4.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = IPV4_MAPPED.exec(address)?.[1];
  // An IPv4-mapped address written in hex (::ffff:7f00:1) is refused whatever it maps to: no receiver needs that form.
  if (mapped === undefined && /^::ffff:/i.test(address)) return true;
  return mapped !== undefined ? NON_PUBLIC_V4.check(mapped, 'ipv4') : NON_PUBLIC_V6.check(address, 'ipv6');
}

/** The host of a URL as `WEBHOOK_ALLOWED_HOSTS` names it: lower case, IPv6 without brackets. */
export function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/** Host names and addresses an operator allowed (e.g. `127.0.0.1` for tests, an internal receiver). */
export function isAllowedHost(host: string, allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((allowed) => allowed.toLowerCase() === host);
}

function refused(reason: string): DomainError {
  return new DomainError('WEBHOOK_URL_NOT_ALLOWED', 'unprocessable', `The webhook address is not allowed: ${reason}`);
}

/**
 * The rules for a webhook address: `https` only, no credentials, and no loopback, private or other
 * non-public host, unless the host is in `allowedHosts`, which then also allows plain `http`. Host
 * names are resolved again at each delivery (see `HttpWebhookSender`), so a name that later points
 * inside is refused then.
 *
 * @example checkWebhookUrl('https://hooks.example.com/csp', []) // URL
 * @example checkWebhookUrl('http://127.0.0.1:8080/hook', ['127.0.0.1']) // URL
 */
export function checkWebhookUrl(text: string, allowedHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refused('not an absolute URL');
  }
  if (url.username || url.password) throw refused('credentials in the address');
  if (url.hash) throw refused('a fragment in the address');
  const host = hostOf(url);
  if (isAllowedHost(host, allowedHosts)) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refused('only http and https');
    return url;
  }
  if (url.protocol !== 'https:') throw refused('only https (plain http only for hosts in WEBHOOK_ALLOWED_HOSTS)');
  if (host === 'localhost' || host.endsWith('.localhost') || isNonPublicAddress(host)) {
    throw refused(`${host} is a loopback or private address; only hosts in WEBHOOK_ALLOWED_HOSTS may be`);
  }
  return url;
}
