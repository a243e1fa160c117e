import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Metrics } from '@csp/engine/observability/metrics.service';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';

/**
 * Times every request that reached a route, labelled by the route's pattern (never the raw path:
 * ids would make a series per customer) and by the status finally sent, errors included.
 */
@Injectable()
export class RequestDurationInterceptor implements NestInterceptor {
  constructor(private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const started = process.hrtime.bigint();
    const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.observeRequest(request.method, route, response.statusCode, seconds);
    });
    return next.handle();
  }
}
