import { AttachmentStore } from '@csp/application/support-requests/attachment-store.port';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Attachments as files named by their SHA-256 under one directory (`DATA_DIR/attachments`),
 * readable by the service's user only (0600 files, 0700 directory), like the SQLite stores.
 * Each file is written under a temporary name, flushed, then renamed into place: a crash leaves
 * either the whole file or none under its hash, never a half-written one.
 *
 * @example
 *   const attachments = new FilesystemAttachmentStore(join(dataDir, 'attachments'));
 *   await attachments.put(sha256, bytes); // DATA_DIR/attachments/<sha256>
 */
export class FilesystemAttachmentStore extends AttachmentStore {
  constructor(private readonly directory: string) {
    super();
  }

  async put(sha256: string, content: Buffer): Promise<void> {
    if (!SHA256_HEX.test(sha256)) throw new Error(`Not a lower-case hex SHA-256: ${sha256}`);
    const actual = createHash('sha256').update(content).digest('hex');
    if (actual !== sha256) throw new Error(`The content's SHA-256 is ${actual}, not ${sha256}`);
    const target = join(this.directory, sha256);
    if (await exists(target)) return;
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const temporary = join(this.directory, `.${sha256}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const file = await open(temporary, 'wx', 0o600);
      try {
        await file.writeFile(content);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
