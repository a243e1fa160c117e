/**
 * RFC 9457 problem documents. `type` is an absolute URI per code under a reserved `.example` host:
 * stable and unique without promising a dereferenceable page, and clients key on `code` anyway.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://errors.csp-engine.example/';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [member: string]: unknown;
}

const CORE_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code']);

export function problemDocument(
  status: number,
  code: string,
  detail: string,
  details: Record<string, unknown> = {},
): ProblemDocument {
  const extra = Object.fromEntries(Object.entries(details).filter(([member]) => !CORE_MEMBERS.has(member)));
  return { type: `${PROBLEM_TYPE_BASE}${code}`, title: titleOf(code), status, detail, code, ...extra };
}

/** Words of codes that read as acronyms in a title. */
const ACRONYMS = new Set(['SKU', 'GUID', 'JSON', 'KMS', 'MAK', 'URL', 'ID', 'HTTP']);

/** The same title for every occurrence of a code, as RFC 9457 asks: `UNKNOWN_SKU` → "Unknown SKU". */
export function titleOf(code: string): string {
  return code
    .split('_')
    .map((word, index) => {
      if (ACRONYMS.has(word)) return word;
      const lower = word.toLowerCase();
      return index === 0 ? lower.charAt(0).toUpperCase() + lower.slice(1) : lower;
    })
    .join(' ');
}

/** Codes for refusals that carry no code of their own (framework exceptions, body parser errors). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'VALIDATION_FAILED';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 406:
      return 'NOT_ACCEPTABLE';
    case 409:
      return 'CONFLICT';
    case 410:
      return 'GONE';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 422:
      return 'UNPROCESSABLE';
    case 429:
      return 'TOO_MANY_REQUESTS';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  }
}
