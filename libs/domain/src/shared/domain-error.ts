/**
 * A rule said no. `code` is stable (upper snake case) and travels to clients in problem+json;
 * `category` lets the edge pick the HTTP status without the domain knowing HTTP.
 * `gone` is for things that existed and never will again (revoked keys, expired links: 410).
 */
export type DomainErrorCategory =
  | 'unprocessable'
  | 'conflict'
  | 'not_found'
  | 'forbidden'
  | 'invalid'
  | 'unavailable'
  | 'gone';

export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly category: DomainErrorCategory,
    message: string,
    /** Extra members for the problem document (e.g. `cancellationAllowedUntil`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
