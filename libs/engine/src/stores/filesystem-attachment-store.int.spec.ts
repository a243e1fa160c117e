import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemAttachmentStore } from './filesystem-attachment-store';

describe('FilesystemAttachmentStore', () => {
  let root: string;
  let directory: string;
  let store: FilesystemAttachmentStore;
  const content = Buffer.from('%PDF-1.7 an invoice\n', 'utf8');
  // SHA-256 of the content above, computed with `printf '%%PDF-1.7 an invoice\n' | sha256sum`.
  const sha256 = '426230c765458df16787bd48688bc540d6bf478c999028057a90f165a2634e97';

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'csp-attachments-'));
    directory = join(root, 'attachments');
    store = new FilesystemAttachmentStore(directory);
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  it('keeps the bytes under their hash, readable by the service user only, with nothing else left behind', async () => {
    await store.put(sha256, content);

    expect(await readFile(join(directory, sha256))).toEqual(content);
    expect((await stat(join(directory, sha256))).mode & 0o777).toBe(0o600);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    expect(await readdir(directory)).toEqual([sha256]);
  });

  it('stores the same content once, also when it arrives twice at the same moment', async () => {
    await Promise.all([store.put(sha256, content), store.put(sha256, content)]);
    await store.put(sha256, content);

    expect(await readdir(directory)).toEqual([sha256]);
    expect(await readFile(join(directory, sha256))).toEqual(content);
  });

  it('refuses content that does not match the hash it is stored under, writing nothing', async () => {
    await expect(store.put('0'.repeat(64), content)).rejects.toThrow(/SHA-256/);
    await expect(store.put('not-a-hash', content)).rejects.toThrow(/SHA-256/);

    await expect(readdir(directory)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
