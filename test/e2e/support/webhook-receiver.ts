import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedDelivery {
  webhookId: string;
  /** The verified, parsed body. */
  event: { id: string; type: string; occurredAt: string; position: string; tenant: string; data: Record<string, unknown> };
  rawBody: string;
  headers: Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;
}

/**
 * A webhook receiver on 127.0.0.1, as a partner would write one: every request is verified with the
 * `standardwebhooks` package against the secrets it was given; a request that does not verify is
 * answered 400 and recorded as rejected. `failNext` answers the next requests 503; `stop` takes it
 * off the network (connection refused) and `start` brings it back on the same port.
 */
export class WebhookReceiver {
  /** Every verified delivery, duplicates included, in the order they arrived. */
  readonly deliveries: ReceivedDelivery[] = [];
  readonly rejected: string[] = [];
  /** Requests answered 503 on purpose. */
  refusedCount = 0;
  secrets: string[] = [];
  private failures = 0;
  private server: Server | undefined;
  private port = 0;

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.start();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  failNext(count: number): void {
    this.failures = count;
  }

  /** The deliveries with their first arrival only, in that order. */
  unique(): ReceivedDelivery[] {
    const seen = new Set<string>();
    return this.deliveries.filter((delivery) => !seen.has(delivery.webhookId) && seen.add(delivery.webhookId));
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    if (this.failures > 0) {
      this.failures--;
      this.refusedCount++;
      response.writeHead(503).end();
      return;
    }
    const headers = {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    };
    const verified = this.secrets.some((secret) => {
      try {
        new Webhook(secret).verify(rawBody, headers);
        return true;
      } catch {
        return false;
      }
    });
    if (!verified) {
      this.rejected.push(headers['webhook-id']);
      response.writeHead(400).end();
      return;
    }
    this.deliveries.push({ webhookId: headers['webhook-id'], event: JSON.parse(rawBody), rawBody, headers });
    response.writeHead(204).end();
  }
}

/** Polls `condition` until it holds; fails with `describe()` after `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, describe: () => string, timeoutMs = 15_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
