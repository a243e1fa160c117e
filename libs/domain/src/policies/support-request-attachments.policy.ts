import { DomainError } from '../shared/domain-error';

/** Partner Center takes at most five files on a support request. */
export const MAX_SUPPORT_REQUEST_ATTACHMENTS = 5;
/** 5 MiB per file. */
export const MAX_SUPPORT_REQUEST_ATTACHMENT_BYTES = 5 * 1024 * 1024;
/** Documents and screenshots only: nothing executable or archived reaches finance. */
export const ALLOWED_SUPPORT_REQUEST_ATTACHMENT_TYPES: readonly string[] = [
  'application/pdf',
  'image/png',
  'image/jpeg',
  'text/plain',
];

export interface AttachmentFacts {
  fileName: string;
  contentType: string;
  size: number;
}

/**
 * Throws the first attachment rule broken, in this order: the count (`TOO_MANY_ATTACHMENTS`),
 * then per file its type (`ATTACHMENT_TYPE_NOT_ALLOWED`) and size (`ATTACHMENT_TOO_LARGE`).
 * Content types compare without parameters and case (`Text/Plain; charset=utf-8` is `text/plain`).
 *
 * @example assertAttachmentsAllowed([{ fileName: 'invoice.pdf', contentType: 'application/pdf', size: 1024 }]);
 */
export function assertAttachmentsAllowed(attachments: readonly AttachmentFacts[]): void {
  if (attachments.length > MAX_SUPPORT_REQUEST_ATTACHMENTS) {
    throw new DomainError(
      'TOO_MANY_ATTACHMENTS',
      'unprocessable',
      `A support request takes at most ${MAX_SUPPORT_REQUEST_ATTACHMENTS} attachments, got ${attachments.length}`,
      { maxAttachments: MAX_SUPPORT_REQUEST_ATTACHMENTS, attachments: attachments.length },
    );
  }
  for (const attachment of attachments) {
    if (!isAllowedAttachmentType(attachment.contentType)) {
      throw new DomainError(
        'ATTACHMENT_TYPE_NOT_ALLOWED',
        'unprocessable',
        `${attachment.fileName}: ${attachment.contentType} is not an allowed attachment type`,
        { fileName: attachment.fileName, contentType: attachment.contentType, allowedTypes: ALLOWED_SUPPORT_REQUEST_ATTACHMENT_TYPES },
      );
    }
    if (attachment.size > MAX_SUPPORT_REQUEST_ATTACHMENT_BYTES) {
      throw new DomainError(
        'ATTACHMENT_TOO_LARGE',
        'unprocessable',
        `${attachment.fileName} has ${attachment.size} bytes, at most ${MAX_SUPPORT_REQUEST_ATTACHMENT_BYTES} are allowed`,
        { fileName: attachment.fileName, size: attachment.size, maxBytes: MAX_SUPPORT_REQUEST_ATTACHMENT_BYTES },
      );
    }
  }
}

export function isAllowedAttachmentType(contentType: string): boolean {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return ALLOWED_SUPPORT_REQUEST_ATTACHMENT_TYPES.includes(mediaType);
}
