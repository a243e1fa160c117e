import { DomainError } from '../shared/domain-error';
import { addDays, toMs } from '../shared/time';

/** A shareable download link expires 14 days after it was issued or after 50 uses, whichever comes first. */
export const DOWNLOAD_LINK_VALIDITY_DAYS = 14;
export const DOWNLOAD_LINK_MAX_USES = 50;

export function downloadLinkExpiresAt(issuedAt: string): string {
  return addDays(issuedAt, DOWNLOAD_LINK_VALIDITY_DAYS);
}

/** The limits a link was issued with; a link keeps them even if the policy changes later. */
export interface DownloadLinkLimits {
  expiresAt: string;
  maxUses: number;
  /** Uses so far. */
  uses: number;
}

/** t < expiresAt and fewer uses than allowed so far: at exactly 14 days the link is expired. */
export function isDownloadLinkUsable(link: DownloadLinkLimits, at: string): boolean {
  return toMs(at) < toMs(link.expiresAt) && link.uses < link.maxUses;
}

/** The refusal names the expiry and the uses, so the holder can tell which limit was reached. */
export function downloadLinkExpired(link: DownloadLinkLimits): DomainError {
  return new DomainError(
    'LINK_EXPIRED',
    'gone',
    `This download link expired (valid until ${link.expiresAt} for at most ${link.maxUses} uses)`,
    { expiresAt: link.expiresAt, uses: link.uses, maxUses: link.maxUses },
  );
}
