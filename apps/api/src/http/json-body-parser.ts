import type { FastifyInstance } from 'fastify';
import { RequestValidationError, syntaxErrorOf } from './request-validation.error';

/** Every `application/<something>+json` besides `application/json` itself; Fastify tests it against the whole header. */
const STRUCTURED_JSON_MEDIA_TYPE = /^application\/[^\s/;]+\+json\s*(?:;|$)/i;

/**
 * Parses JSON bodies the way the contract describes them: an empty body is `{}`, the top level
 * must be an object or an array, and malformed JSON is a field error naming the line and column
 * where it broke. Members named `__proto__` stay plain data here (as `JSON.parse` leaves them) and
 * are refused by the shape check with the member's path, rather than by Fastify's parser with a
 * bare 400.
 */
export function parseJsonBodies(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  for (const mediaType of ['application/json', STRUCTURED_JSON_MEDIA_TYPE]) {
    fastify.addContentTypeParser(mediaType, { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
  }
}

function parseJsonBody(body: string): unknown {
  if (body.length === 0) return {};
  const first = body.trimStart().charAt(0);
  if (first !== '{' && first !== '[') throw new RequestValidationError([syntaxErrorOf(body)]);
  try {
    return JSON.parse(body);
  } catch {
    throw new RequestValidationError([syntaxErrorOf(body)]);
  }
}
