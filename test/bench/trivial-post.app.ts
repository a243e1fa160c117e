/**
 * The reference the engine is judged against: the smallest NestJS app that does what every command
 * route does at the edge (parse JSON, validate a DTO with class-validator through a ValidationPipe,
 * answer 201 with JSON), and nothing else. `ADAPTER=fastify` runs the same app on
 * @nestjs/platform-fastify, to measure the adapter against Express.
 *
 * Compiled and started by test/bench/run.mjs; prints `listening <port>` once it accepts requests.
 */
import 'reflect-metadata';
import { Body, Controller, Module, Post, ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsIn, IsInt, IsString, Min, ValidateNested } from 'class-validator';

class LineDto {
  @IsString()
  skuId!: string;

  @IsInt()
  @Min(1)
  quantity!: number;

  @IsIn(['monthly', 'annual', 'oneTime'])
  billingCycle!: string;
}

class OrderDto {
  @ValidateNested({ each: true })
  @ArrayMinSize(1)
  @Type(() => LineDto)
  lineItems!: LineDto[];
}

@Controller()
class OrdersController {
  private placed = 0;

  @Post('orders')
  place(@Body() order: OrderDto): { orderId: number; lines: number } {
    this.placed += 1;
    return { orderId: this.placed, lines: order.lineItems.length };
  }
}

@Module({ controllers: [OrdersController] })
class TrivialModule {}

async function create(adapter: string): Promise<INestApplication> {
  if (adapter === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(TrivialModule, new FastifyAdapter(), { logger: ['error'] });
  }
  return NestFactory.create(TrivialModule, { logger: ['error'] });
}

async function main(): Promise<void> {
  const app = await create(process.env['ADAPTER'] ?? 'express');
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  await app.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.stdout.write(`listening ${address.port}\n`);
  const stop = (): void => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
