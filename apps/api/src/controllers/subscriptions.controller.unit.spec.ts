import { DomainError } from '@csp/domain/shared/domain-error';
import type { QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authenticated-request';
import type { CommandGateway } from '../http/command-gateway';
import { SubscriptionsController } from './subscriptions.controller';

const refusedCommands = { send: () => Promise.reject(new Error('no command may be sent')) } as unknown as CommandGateway;
const request = {
  principal: { userId: 'u-1', tenantId: 'partner-1', kind: 'partner', roles: ['AdminAgent'] },
  headers: {},
  body: {},
} as unknown as AuthenticatedRequest;

async function fieldErrorOf(body: { autoRenewEnabled?: boolean; status?: 'cancelled' }): Promise<unknown> {
  const controller = new SubscriptionsController(refusedCommands, {} as QueryBus);
  try {
    await controller.patch('customer-1', 'subscription-1', body, request, {} as FastifyReply);
  } catch (error: unknown) {
    if (error instanceof DomainError) return (error.details['errors'] as unknown[])[0];
    throw error;
  }
  throw new Error('the patch was accepted');
}

describe('PATCH subscription: autoRenewEnabled or status, exactly one', () => {
  it('CONFLICT when both are sent', async () => {
    expect(await fieldErrorOf({ autoRenewEnabled: false, status: 'cancelled' })).toMatchObject({ in: 'body', code: 'CONFLICT' });
  });

  it('REQUIRED when neither is sent', async () => {
    expect(await fieldErrorOf({})).toMatchObject({ in: 'body', code: 'REQUIRED' });
  });
});
