import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { FieldLocation, fieldErrorsOf, RequestValidationError } from './request-validation.error';

const LOCATIONS: Record<ArgumentMetadata['type'], FieldLocation> = {
  body: 'body',
  query: 'query',
  param: 'path',
  custom: 'body',
};

/**
 * Nest's pipe hands its exception factory the errors but not where they came from; transform
 * knows, so it tags the collected errors on their way out.
 */
class LocatingValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return await super.transform(value, metadata);
    } catch (error: unknown) {
      if (!(error instanceof RequestValidationError)) throw error;
      const location = LOCATIONS[metadata.type];
      throw new RequestValidationError(error.errors.map((fieldError) => ({ ...fieldError, in: location })));
    }
  }
}

/**
 * Unknown fields are refused, not stripped silently, so a misspelt `autoRenewEnabled` fails loudly.
 * No implicit conversion: query DTOs declare `@Type(() => Number)` where they want numbers, because
 * implicit conversion turns "abc" into NaN and "false" into true.
 */
export function createValidationPipe(): ValidationPipe {
  return new LocatingValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    // Nest drops the values and targets of errors unless asked to keep them; the path builder needs
    // values to tell array indexes from keys and missing members from bad ones, targets to read the
    // declared limits. Neither reaches the client.
    validationError: { target: true, value: true },
    exceptionFactory: (errors) => new RequestValidationError(fieldErrorsOf(errors, 'body')),
  });
}
