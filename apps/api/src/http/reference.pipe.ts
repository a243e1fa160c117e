import { DomainError } from '@csp/domain/shared/domain-error';
import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { hasControlCharacter, UNPRINTABLE_CHARACTER_MESSAGE } from '../dto/validation.decorators';

/** Path references (GUIDs, domains, friendly names) are short printable text; anything else is refused before any lookup. */
@Injectable()
export class ReferencePipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (value.length >= 1 && value.length <= 253 && !hasControlCharacter(value)) return value;
    const field = metadata.data ?? 'path';
    const message = value.length >= 1 && value.length <= 253 ? UNPRINTABLE_CHARACTER_MESSAGE : 'must be 1 to 253 characters';
    throw new DomainError('VALIDATION_FAILED', 'invalid', `${field} ${message}`, {
      errors: [{ in: 'path', field, messages: [message] }],
    });
  }
}
