import type { FastifyRequest } from 'fastify';
import { ProblemException } from './problem.exception';

/**
 * The API speaks JSON, in UTF-8 (RFC 8259). Checked before the body is read, so a form-encoded or
 * text body is refused as what it is instead of reaching validation as missing fields.
 */
export function requireJsonBody(request: FastifyRequest): void {
  if (!hasBody(request)) return;
  const contentType = request.headers['content-type'];
  const [essence = '', ...parameters] = (contentType ?? '').split(';');
  if (!isJsonMediaType(essence.trim().toLowerCase())) {
    throw new ProblemException(415, 'UNSUPPORTED_MEDIA_TYPE', 'request bodies must be application/json', { contentType: contentType ?? null });
  }
  const charset = charsetOf(parameters);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ProblemException(415, 'UNSUPPORTED_MEDIA_TYPE', `request bodies must be UTF-8, not ${charset}`, { contentType: contentType ?? null });
  }
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJsonMediaType(essence: string): boolean {
  return essence === 'application/json' || /^application\/[^\s/]+\+json$/.test(essence);
}

function charsetOf(parameters: string[]): string | undefined {
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=', 2);
    if (name?.trim().toLowerCase() === 'charset' && value !== undefined) return value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return undefined;
}
