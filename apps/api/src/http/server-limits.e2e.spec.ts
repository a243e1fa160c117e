import { Body, Controller, Get, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { IsString } from 'class-validator';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { configureHttp, createHttpAdapter } from './configure-http';
import { applyServerLimits } from './server-limits';

class EchoDto {
  @IsString() text!: string;
}

@Controller('limits')
class LimitsController {
  @Get()
  ping(): object {
    return { ok: true };
  }

  @Post()
  echo(@Body() body: EchoDto): object {
    return { text: body.text };
  }
}

const LIMITS = { headersTimeoutMs: 300, requestTimeoutMs: 600, maxHeaderBytes: 2048, maxConnections: 3 };

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

/** Everything the server sends on one raw connection until it closes it. */
function rawExchange(port: number, write: (socket: Socket) => void): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body });
    });
    socket.on('connect', () => write(socket));
  });
}

function expectRawProblem(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers).toMatch(/content-type: application\/problem\+json/i);
  expect(JSON.parse(answer.body)).toMatchObject({ status, code, type: `https://errors.csp-engine.example/${code}`, detail: expect.any(String) });
}

describe('Node server limits on a listening server', () => {
  let app: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [LimitsController] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(), { logger: false, bodyParser: false });
    configureHttp(app);
    applyServerLimits(app.getHttpServer(), LIMITS);
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('answers a well-formed request', async () => {
    const answer = await rawExchange(port, (socket) => socket.write('GET /limits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(answer.status).toBe(200);
  });

  it('answers a header block over HTTP_MAX_HEADER_BYTES with 431 problem+json', async () => {
    const answer = await rawExchange(port, (socket) =>
      socket.write(`GET /limits HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(4 * LIMITS.maxHeaderBytes)}\r\n\r\n`),
    );
    expectRawProblem(answer, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
  });

  it('answers headers that never finish with 408 problem+json after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const started = Date.now();
    const answer = await rawExchange(port, (socket) => socket.write('GET /limits HTTP/1.1\r\nHost: x\r\n'));
    expectRawProblem(answer, 408, 'REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs);
  });

  it('answers a body that never finishes with 408 problem+json after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const started = Date.now();
    const answer = await rawExchange(port, (socket) =>
      socket.write('POST /limits HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"text":'),
    );
    expectRawProblem(answer, 408, 'REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs);
  });

  it('answers a body cut short by the client with 400 problem+json', async () => {
    const answer = await rawExchange(port, (socket) => {
      socket.write('POST /limits HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"text":');
      socket.end();
    });
    expectRawProblem(answer, 400, 'VALIDATION_FAILED');
  });

  it('closes connections beyond HTTP_MAX_CONNECTIONS at once and serves again when they go', async () => {
    const held = await Promise.all(
      Array.from({ length: LIMITS.maxConnections }, () => new Promise<Socket>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket));
      })),
    );
    try {
      // Let the server count the held connections before the next one arrives.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = await rawExchange(port, (socket) => socket.write('GET /limits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      expect(refused).toEqual({ status: 0, headers: '', body: '' });
    } finally {
      held.forEach((socket) => socket.destroy());
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const served = await rawExchange(port, (socket) => socket.write('GET /limits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(served.status).toBe(200);
  });
});
