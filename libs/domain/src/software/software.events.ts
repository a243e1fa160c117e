import type { DownloadOptions, ProductKind } from '../catalogue/sku';
import type { DownloadChoices } from '../policies/download-options.policy';
import type { DomainEvent } from '../shared/event';

export type { DownloadChoices } from '../policies/download-options.policy';

/**
 * Every software purchase is an item: a subscription line is known by its subscription id, a
 * perpetual order line by its order id and line number.
 *
 * @example softwareIdOf('order-1', 2, null) // 'order-1-2'
 */
export function softwareIdOf(orderId: string, lineItemNumber: number, subscriptionId: string | null): string {
  return subscriptionId ?? `${orderId}-${lineItemNumber}`;
}

export const softwareStream = (softwareId: string): string => `software-${softwareId}`;

/**
 * What the application knows about the purchase behind an item (from the order or subscription and
 * the catalogue) when it sends a command; the software stream itself records only what was done with it.
 */
export interface SoftwareItem {
  softwareId: string;
  customerId: string;
  partnerId: string;
  orderId: string;
  lineItemNumber: number;
  subscriptionId: string | null;
  kind: ProductKind;
  productId: string;
  skuId: string;
  title: string;
  deliversKeys: boolean;
  downloadOptions: DownloadOptions;
  installationInstructionsUrl?: string;
  /** The purchase was cancelled: its keys and links answer 410 REVOKED from then on. */
  revoked: boolean;
}

interface SoftwareEventData {
  softwareId: string;
  customerId: string;
  productTitle: string;
}

export type KeyGenerated = DomainEvent<
  'KeyGenerated',
  SoftwareEventData & {
    keyId: string;
    keyType: 'MAK';
    orderId: string;
    subscriptionId: string | null;
    lineItemNumber: number;
    choices: DownloadChoices;
    /**
     * The key text. The event codec encrypts this field before the event is written, so the log
     * never holds it in plain text; it must never be logged or copied into a read model.
     */
    productKey: string;
    generatedAt: string;
  }
>;

export type KeyRevealed = DomainEvent<'KeyRevealed', SoftwareEventData & { keyId: string; revealedAt: string }>;

export type DownloadStarted = DomainEvent<
  'DownloadStarted',
  SoftwareEventData & { downloadId: string; choices: DownloadChoices; startedAt: string }
>;

export type DownloadLinkIssued = DomainEvent<
  'DownloadLinkIssued',
  SoftwareEventData & { linkId: string; choices: DownloadChoices; issuedAt: string; expiresAt: string; maxUses: number }
>;

export type DownloadLinkUsed = DomainEvent<
  'DownloadLinkUsed',
  SoftwareEventData & { linkId: string; useNumber: number; usedAt: string }
>;

export type SoftwareEvent = KeyGenerated | KeyRevealed | DownloadStarted | DownloadLinkIssued | DownloadLinkUsed;
