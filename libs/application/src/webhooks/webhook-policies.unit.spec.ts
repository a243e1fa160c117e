import { DomainError } from '@csp/domain/shared/domain-error';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { checkWebhookUrl, isNonPublicAddress } from './webhook-address.policy';
import { retryDelayMs, retryWindowIsOver } from './webhook-retry.policy';
import { newWebhookSecret, signedHeaders, WebhookSecretBox } from './webhook-signing';

const refusal = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof DomainError ? error.code : String(error);
  }
};

describe('webhook addresses', () => {
  it.each(['10.0.0.1', '127.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1'])(
    '%s is not public',
    (address) => expect(isNonPublicAddress(address)).toBe(true),
  );

  it.each(['8.8.8.8', '172.32.0.1', '::ffff:8.8.8.8', '2606:4700::1111'])('%s is public', (address) => expect(isNonPublicAddress(address)).toBe(false));

  it('takes https to public hosts and refuses plain http, private and loopback hosts, credentials and non-URLs', () => {
    expect(checkWebhookUrl('https://hooks.example.com/csp?x=1', []).href).toBe('https://hooks.example.com/csp?x=1');
    for (const url of ['http://hooks.example.com/', 'https://127.0.0.1/', 'https://localhost:8443/', 'https://api.localhost/', 'https://[::1]/', 'https://10.1.1.1/', 'https://a:b@hooks.example.com/', 'ftp://hooks.example.com/', 'nonsense']) {
      expect([url, refusal(() => checkWebhookUrl(url, []))]).toEqual([url, 'WEBHOOK_URL_NOT_ALLOWED']);
    }
  });

  it('allows the hosts WEBHOOK_ALLOWED_HOSTS names, over plain http too, and only those', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', ['127.0.0.1']).port).toBe('8080');
    expect(checkWebhookUrl('http://[::1]:8080/hook', ['::1']).hostname).toBe('[::1]');
    expect(checkWebhookUrl('http://Receiver.Internal/hook', ['receiver.internal']).hostname).toBe('receiver.internal');
    expect(refusal(() => checkWebhookUrl('http://127.0.0.2/hook', ['127.0.0.1']))).toBe('WEBHOOK_URL_NOT_ALLOWED');
  });
});

describe('webhook retries', () => {
  const settings = { baseMs: 5_000, maxMs: 3_600_000, windowMs: 86_400_000 };

  it('waits the base first, doubling up to an hour, with at most 20 % jitter on top', () => {
    const nominal = [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000, 3_600_000, 3_600_000];
    expect(nominal.map((_, index) => retryDelayMs(index + 1, settings, () => 0))).toEqual(nominal);
    expect(nominal.map((_, index) => retryDelayMs(index + 1, settings, () => 0.999999))).toEqual(nominal.map((ms) => Math.round(ms * 1.2 - 0.0000002 * ms)));
  });

  it('keeps retrying for the whole window (at least 24 h by default), not a moment less', () => {
    expect(retryWindowIsOver('2026-01-01T00:00:00.000Z', '2026-01-01T23:59:59.999Z', settings)).toBe(false);
    expect(retryWindowIsOver('2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', settings)).toBe(true);
    // Enough attempts fit into the window for a day-long outage: the waits until a day has passed.
    let elapsed = 0;
    let attempts = 1;
    while (elapsed < settings.windowMs) elapsed += retryDelayMs(attempts++, settings, () => 0);
    expect(attempts).toBeGreaterThan(25);
  });
});

describe('webhook signing', () => {
  it('signs per Standard Webhooks with every given secret, each verifiable alone', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const body = JSON.stringify({ id: 'evt-1:order.placed:0', type: 'order.placed' });
    const headers = signedHeaders([current, previous], 'evt-1:order.placed:0', new Date(), body);

    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(current).verify(`${body} `, headers)).toThrow();
  });

  it('keeps secrets only sealed under the master key, and opens them again', () => {
    const box = new WebhookSecretBox(randomBytes(32));
    const secret = newWebhookSecret();
    const sealed = box.seal(secret);

    expect(sealed).not.toContain(secret.slice('whsec_'.length, 20));
    expect(box.open(sealed)).toBe(secret);
    expect(() => new WebhookSecretBox(randomBytes(32)).open(sealed)).toThrow();
  });
});
