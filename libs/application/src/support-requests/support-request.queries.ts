import { Query } from '@nestjs/cqrs';
import type { Principal } from '../auth/principal';
import type { SupportRequestView } from './support-request.view';

export class GetSupportRequestQuery extends Query<SupportRequestView> {
  constructor(
    readonly principal: Principal,
    readonly requestId: string,
  ) {
    super();
  }
}
