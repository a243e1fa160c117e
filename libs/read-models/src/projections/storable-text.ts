/**
 * PostgreSQL text cannot hold NUL, and one event it refuses would stop a projection for every
 * tenant. The api refuses control characters; an event written before that (or by another writer)
 * is folded with NUL replaced. (JSON `state` columns escape it and keep the original.)
 */
export function storableText(text: string): string {
  return text.replace(/\u0000/g, '\uFFFD');
}
