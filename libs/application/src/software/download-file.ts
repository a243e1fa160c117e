import type { DownloadChoices } from '@csp/domain/software/software.events';
import { createHash } from 'node:crypto';

export interface DownloadFile {
  fileName: string;
  content: Buffer;
}

/** Big enough to look like a download in a browser, small enough to serve from memory. */
const FILE_BYTES = 64 * 1024;

/**
 * The bits of a product and version: a small file the service makes, the same bytes for the same
 * product, version and choices every time (a header naming them, then SHA-256 counter-mode filler),
 * so a client can check what it received. A real deployment redirects to the vendor's download instead.
 *
 * @example downloadFile('office-ltsc-2021', { version: '2021', fileType: 'ISO' }).fileName // 'office-ltsc-2021-2021.iso'
 */
export function downloadFile(productId: string, choices: DownloadChoices): DownloadFile {
  const label = [productId, choices.version, choices.language, choices.operatingSystem].filter((part) => part !== undefined).join('-');
  const extension = (choices.fileType ?? 'bin').toLowerCase();
  const header = Buffer.from(`CSP download\nproduct: ${productId}\n${describe(choices)}\n`, 'utf8');
  const blocks: Buffer[] = [header];
  let length = header.length;
  for (let counter = 0; length < FILE_BYTES; counter++) {
    const block = createHash('sha256').update(`${label}\n${counter}`).digest();
    blocks.push(block);
    length += block.length;
  }
  return { fileName: `${safeName(label)}.${safeName(extension)}`, content: Buffer.concat(blocks).subarray(0, FILE_BYTES) };
}

function describe(choices: DownloadChoices): string {
  return Object.entries(choices)
    .map(([field, value]) => `${field}: ${String(value)}`)
    .join('\n');
}

/** Only characters that need no quoting in a Content-Disposition filename. */
function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_');
}
