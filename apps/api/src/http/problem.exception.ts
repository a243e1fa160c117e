/**
 * An HTTP-layer refusal that has no domain rule behind it (401, 410 links, 503 lagging projections,
 * 415, ...). Domain rules throw DomainError instead; both become the same problem document.
 */
export class ProblemException extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    /** Extra members of the problem document. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ProblemException';
  }
}
