/**
 * Where support-request attachments live: outside the log, addressed by the SHA-256 of their bytes,
 * so the log holds only name, type, size and hash, and the same file stored twice is kept once.
 *
 * @example
 *   await attachments.put(sha256Hex(bytes), bytes);
 */
export abstract class AttachmentStore {
  /** Keeps `content` under `sha256` (lower-case hex of its SHA-256); a repeat of stored content is a no-op. */
  abstract put(sha256: string, content: Buffer): Promise<void>;
}
