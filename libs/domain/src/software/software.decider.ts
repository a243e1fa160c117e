import { DOWNLOAD_LINK_MAX_USES, downloadLinkExpired, downloadLinkExpiresAt, isDownloadLinkUsable } from '../policies/download-link.policy';
import { validDownloadChoices, type DownloadChoices } from '../policies/download-options.policy';
import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import type { SoftwareEvent, SoftwareItem } from './software.events';

/**
 * `productKey` comes from the key issuer; `keyType` is what the caller asked for ("MAK" when absent).
 * Checks, in this order: KMS (always refused first), other key types, revocation, licence-only
 * products, download options.
 */
export interface GenerateKey {
  type: 'GenerateKey';
  item: SoftwareItem;
  keyId: string;
  productKey: string;
  keyType?: string;
  choices: DownloadChoices;
  at: string;
}

export interface RevealKey {
  type: 'RevealKey';
  item: SoftwareItem;
  keyId: string;
  at: string;
}

export interface StartDownload {
  type: 'StartDownload';
  item: SoftwareItem;
  downloadId: string;
  choices: DownloadChoices;
  at: string;
}

export interface IssueDownloadLink {
  type: 'IssueDownloadLink';
  item: SoftwareItem;
  linkId: string;
  choices: DownloadChoices;
  at: string;
}

export interface UseDownloadLink {
  type: 'UseDownloadLink';
  item: SoftwareItem;
  linkId: string;
  at: string;
}

export type SoftwareCommand = GenerateKey | RevealKey | StartDownload | IssueDownloadLink | UseDownloadLink;

export interface IssuedKey {
  keyId: string;
  keyType: 'MAK';
  choices: DownloadChoices;
  /** Decrypted by the codec when the stream is read; only a reveal hands it out. */
  productKey: string;
  generatedAt: string;
}

export interface IssuedDownloadLink {
  linkId: string;
  choices: DownloadChoices;
  issuedAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
}

/** Maps, not plain objects: ids arrive from callers (a link token), and `__proto__` must not be found. */
export interface SoftwareState {
  keys: ReadonlyMap<string, IssuedKey>;
  links: ReadonlyMap<string, IssuedDownloadLink>;
}

export function revoked(): DomainError {
  return new DomainError('REVOKED', 'gone', 'The purchase was cancelled; its keys and downloads are revoked');
}

export const softwareDecider: Decider<SoftwareCommand, SoftwareEvent, SoftwareState> = {
  initialState: () => ({ keys: new Map(), links: new Map() }),

  evolve(state, event) {
    switch (event.type) {
      case 'KeyGenerated': {
        const { keyId, keyType, choices, productKey, generatedAt } = event.data;
        return { ...state, keys: new Map(state.keys).set(keyId, { keyId, keyType, choices, productKey, generatedAt }) };
      }
      case 'DownloadLinkIssued': {
        const { linkId, choices, issuedAt, expiresAt, maxUses } = event.data;
        return { ...state, links: new Map(state.links).set(linkId, { linkId, choices, issuedAt, expiresAt, maxUses, uses: 0 }) };
      }
      case 'DownloadLinkUsed': {
        const link = state.links.get(event.data.linkId);
        if (!link) return state;
        return { ...state, links: new Map(state.links).set(link.linkId, { ...link, uses: event.data.useNumber }) };
      }
      case 'KeyRevealed':
      case 'DownloadStarted':
        return state;
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'GenerateKey':
        return generateKey(command, state);
      case 'RevealKey':
        return revealKey(command, state);
      case 'StartDownload':
        return startDownload(command);
      case 'IssueDownloadLink':
        return issueDownloadLink(command, state);
      case 'UseDownloadLink':
        return useDownloadLink(command, state);
    }
  },
};

function identityOf(item: SoftwareItem): { softwareId: string; customerId: string; productTitle: string } {
  return { softwareId: item.softwareId, customerId: item.customerId, productTitle: item.title };
}

/** Activation is by MAK only; a KMS request is refused whatever else it holds, so this runs before anything. */
export function acceptedKeyType(requested: string | undefined): 'MAK' {
  if (requested === undefined) return 'MAK';
  if (requested.trim().toUpperCase() === 'KMS') {
    throw new DomainError('KMS_KEYS_NOT_ALLOWED', 'unprocessable', 'Activation is by MAK only; KMS keys are never issued');
  }
  if (requested !== 'MAK') {
    throw new DomainError('INVALID_KEY_TYPE', 'unprocessable', `Unknown key type ${requested}; only MAK keys are issued`, {
      keyType: requested,
      allowed: ['MAK'],
    });
  }
  return 'MAK';
}

/** Revocation, then licence-only products, then the options: what keys and downloads share. */
function deliverableChoices(item: SoftwareItem, choices: DownloadChoices): DownloadChoices {
  if (item.revoked) throw revoked();
  if (!item.deliversKeys) {
    throw new DomainError('PRODUCT_DELIVERS_NO_KEYS', 'unprocessable', `${item.title} is licence-only: it has no keys and no downloads`);
  }
  return validDownloadChoices(choices, item.downloadOptions);
}

function generateKey(command: GenerateKey, state: SoftwareState): SoftwareEvent[] {
  const keyType = acceptedKeyType(command.keyType);
  const choices = deliverableChoices(command.item, command.choices);
  if (state.keys.has(command.keyId)) throw new RangeError(`Key id ${command.keyId} is already used on ${command.item.softwareId}`);
  const { item } = command;
  return [
    {
      type: 'KeyGenerated',
      data: {
        ...identityOf(item),
        keyId: command.keyId,
        keyType,
        orderId: item.orderId,
        subscriptionId: item.subscriptionId,
        lineItemNumber: item.lineItemNumber,
        choices,
        productKey: command.productKey,
        generatedAt: command.at,
      },
    },
  ];
}

function revealKey(command: RevealKey, state: SoftwareState): SoftwareEvent[] {
  if (command.item.revoked) throw revoked();
  if (!state.keys.has(command.keyId)) {
    throw new DomainError('KEY_NOT_FOUND', 'not_found', `No key ${command.keyId} on this software`, { keyId: command.keyId });
  }
  return [{ type: 'KeyRevealed', data: { ...identityOf(command.item), keyId: command.keyId, revealedAt: command.at } }];
}

function startDownload(command: StartDownload): SoftwareEvent[] {
  const choices = deliverableChoices(command.item, command.choices);
  return [
    {
      type: 'DownloadStarted',
      data: { ...identityOf(command.item), downloadId: command.downloadId, choices, startedAt: command.at },
    },
  ];
}

function issueDownloadLink(command: IssueDownloadLink, state: SoftwareState): SoftwareEvent[] {
  const choices = deliverableChoices(command.item, command.choices);
  if (state.links.has(command.linkId)) throw new RangeError(`Link id ${command.linkId} is already used on ${command.item.softwareId}`);
  return [
    {
      type: 'DownloadLinkIssued',
      data: {
        ...identityOf(command.item),
        linkId: command.linkId,
        choices,
        issuedAt: command.at,
        expiresAt: downloadLinkExpiresAt(command.at),
        maxUses: DOWNLOAD_LINK_MAX_USES,
      },
    },
  ];
}

function useDownloadLink(command: UseDownloadLink, state: SoftwareState): SoftwareEvent[] {
  const link = state.links.get(command.linkId);
  if (!link) throw new DomainError('LINK_NOT_FOUND', 'not_found', 'No such download link');
  if (command.item.revoked) throw revoked();
  if (!isDownloadLinkUsable(link, command.at)) throw downloadLinkExpired(link);
  return [
    {
      type: 'DownloadLinkUsed',
      data: { ...identityOf(command.item), linkId: link.linkId, useNumber: link.uses + 1, usedAt: command.at },
    },
  ];
}
