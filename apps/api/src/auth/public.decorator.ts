import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';

export const IS_PUBLIC_KEY = 'csp:isPublic';

/**
 * Skips the bearer-token check (health, metrics, download links). The empty security requirement
 * tells the OpenAPI document the same, overriding the document-wide bearer requirement.
 */
export const Public = (): ClassDecorator & MethodDecorator =>
  applyDecorators(SetMetadata(IS_PUBLIC_KEY, true), ApiSecurity({}));
