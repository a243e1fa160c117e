import { ValidateBy, ValidateIf } from 'class-validator';

/**
 * The member may be left out, but when present it is validated, `null` included. (class-validator's
 * `@IsOptional` lets `null` through, and a `null` status or flag must never reach a command.)
 */
export function Omittable(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

const INSTANT_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Date.parse rolls Feb 30 over into March; a date that does not exist is refused instead. */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && !Number.isNaN(Date.parse(value));
}

/**
 * An instant as API.md has them: ISO 8601 date and time with `Z` or an offset. Forms that name no
 * single instant (week dates, a bare local time) are refused rather than read in the server's zone.
 */
export function IsInstant(): PropertyDecorator {
  return ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && INSTANT_WITH_OFFSET.test(value) && isCalendarDate(value),
      defaultMessage: () => '$property must be an ISO 8601 instant with Z or an offset, e.g. 2021-10-14T00:00:00Z',
    },
  });
}

/**
 * Characters a person cannot see or that are not text at all: controls (Cc, NUL cannot even be
 * stored in PostgreSQL text), format characters (Cf: bidi overrides and zero-width characters make
 * two names look alike or a name read backwards), unpaired surrogates (not valid UTF-8) and
 * Unicode non-characters (U+FFFE and kin, never meant for interchange).
 */
const UNPRINTABLE_CHARACTER = /[\p{Cc}\p{Cf}\p{Cs}\p{Noncharacter_Code_Point}]/u;

export const UNPRINTABLE_CHARACTER_MESSAGE = 'must not contain control or format characters, unpaired surrogates or non-characters';

/** Names and ids are text a person reads: nothing in UNPRINTABLE_CHARACTER. */
export function NoControlCharacters(): PropertyDecorator {
  return ValidateBy({
    name: 'noControlCharacters',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !UNPRINTABLE_CHARACTER.test(value),
      defaultMessage: () => `$property ${UNPRINTABLE_CHARACTER_MESSAGE}`,
    },
  });
}

export function hasControlCharacter(value: string): boolean {
  return UNPRINTABLE_CHARACTER.test(value);
}

/**
 * Base64 with padding (RFC 4648 alphabet, length a multiple of 4), checked in one pass: the
 * regular expression class-validator's `@IsBase64` uses backtracks and overflows the stack on a
 * 7 MB attachment, which answered 500 for a file within the limits.
 */
export function IsPaddedBase64(): PropertyDecorator {
  return ValidateBy({
    name: 'isPaddedBase64',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isPaddedBase64(value),
      defaultMessage: () => '$property must be base64 (RFC 4648 alphabet, padded to a multiple of 4)',
    },
  });
}

export function isPaddedBase64(text: string): boolean {
  if (text.length === 0 || text.length % 4 !== 0) return false;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  for (let index = 0; index < text.length - padding; index++) {
    const code = text.charCodeAt(index);
    const alphabet =
      (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 43 || code === 47;
    if (!alphabet) return false;
  }
  return true;
}
