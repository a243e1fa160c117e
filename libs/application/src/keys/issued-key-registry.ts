/**
 * Remembers every key ever handed out, by fingerprint only (never the key text), so the embedded
 * issuer never hands out one key twice. An abstract class so Nest can inject it by class.
 */
export abstract class IssuedKeyRegistry {
  /** True when the fingerprint was newly claimed; false when it had been claimed before. Atomic. */
  abstract claim(fingerprint: string): Promise<boolean>;
}

/** For tests and single-process runs without a persistent store: forgets everything on restart. */
export class InMemoryIssuedKeyRegistry extends IssuedKeyRegistry {
  private readonly claimed = new Set<string>();

  async claim(fingerprint: string): Promise<boolean> {
    if (this.claimed.has(fingerprint)) return false;
    this.claimed.add(fingerprint);
    return true;
  }

  get size(): number {
    return this.claimed.size;
  }
}
