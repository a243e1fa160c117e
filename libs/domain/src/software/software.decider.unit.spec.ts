import { deciderSpecification } from '@csp/testing/decider-specification';
import { softwareDecider, type GenerateKey } from './software.decider';
import {
  softwareIdOf,
  softwareStream,
  type DownloadLinkIssued,
  type KeyGenerated,
  type SoftwareEvent,
  type SoftwareItem,
} from './software.events';

const spec = deciderSpecification(softwareDecider);

const item: SoftwareItem = {
  softwareId: 'sub-1',
  customerId: 'cust-1',
  partnerId: 'partner-1',
  orderId: 'order-1',
  lineItemNumber: 1,
  subscriptionId: 'sub-1',
  kind: 'ServerSubscription',
  productId: 'WS2022',
  skuId: 'WS2022DC-P1Y',
  title: 'Windows Server 2022 Datacenter',
  deliversKeys: true,
  downloadOptions: { versions: ['2022'], languages: ['en-US', 'de-DE'], fileTypes: ['ISO'], operatingSystems: [] },
  revoked: false,
};
const revokedItem: SoftwareItem = { ...item, revoked: true };
const licenceOnly: SoftwareItem = { ...item, deliversKeys: false };
const choices = { version: '2022', language: 'de-DE', fileType: 'ISO' };
const identity = { softwareId: 'sub-1', customerId: 'cust-1', productTitle: 'Windows Server 2022 Datacenter' };
const at = '2026-03-01T10:00:00.000Z';
const productKey = 'BCDFG-HJKMP-QRTVW-XY234-6789B';

const generate = (overrides: Partial<GenerateKey> = {}): GenerateKey => ({
  type: 'GenerateKey',
  item,
  keyId: 'key-1',
  productKey,
  choices,
  at,
  ...overrides,
});

const keyGenerated: KeyGenerated = {
  type: 'KeyGenerated',
  data: {
    ...identity,
    keyId: 'key-1',
    keyType: 'MAK',
    orderId: 'order-1',
    subscriptionId: 'sub-1',
    lineItemNumber: 1,
    choices,
    productKey,
    generatedAt: at,
  },
};

const linkIssued: DownloadLinkIssued = {
  type: 'DownloadLinkIssued',
  data: { ...identity, linkId: 'link-1', choices, issuedAt: at, expiresAt: '2026-03-15T10:00:00.000Z', maxUses: 50 },
};

function usesOfLink(count: number): SoftwareEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    type: 'DownloadLinkUsed' as const,
    data: { ...identity, linkId: 'link-1', useNumber: index + 1, usedAt: at },
  }));
}

describe('software items', () => {
  it('a subscription line is known by its subscription id', () => expect(softwareIdOf('order-1', 2, 'sub-9')).toBe('sub-9'));
  it('a perpetual line by its order id and line number', () => expect(softwareIdOf('order-1', 2, null)).toBe('order-1-2'));
  it('has its own stream', () => expect(softwareStream('order-1-2')).toBe('software-order-1-2'));
});

describe('GenerateKey', () => {
  it('issues a MAK key when no key type is asked for', () => {
    spec.given([]).when(generate()).then([keyGenerated]);
  });

  it('issues a MAK key when MAK is asked for', () => {
    spec.given([]).when(generate({ keyType: 'MAK' })).then([keyGenerated]);
  });

  it('records a perpetual line without a subscription id', () => {
    const perpetual: SoftwareItem = { ...item, softwareId: 'order-1-2', subscriptionId: null, lineItemNumber: 2, kind: 'PerpetualSoftware' };
    spec
      .given([])
      .when(generate({ item: perpetual }))
      .then([
        {
          type: 'KeyGenerated',
          data: { ...keyGenerated.data, softwareId: 'order-1-2', subscriptionId: null, lineItemNumber: 2 },
        },
      ]);
  });

  it.each(['KMS', 'kms', 'Kms', ' KMS '])('refuses a KMS key (%j)', (keyType) => {
    spec.given([]).when(generate({ keyType })).thenThrows('KMS_KEYS_NOT_ALLOWED');
  });

  it('refuses KMS before everything else: even on a revoked, licence-only item with bad options', () => {
    const error = spec
      .given([])
      .when(generate({ keyType: 'KMS', item: { ...revokedItem, deliversKeys: false }, choices: { operatingSystem: 'Linux' } }))
      .thenThrows('KMS_KEYS_NOT_ALLOWED');
    expect(error.category).toBe('unprocessable');
  });

  it.each(['OEM', 'Retail', '', 'mak'])('refuses any other key type (%j)', (keyType) => {
    spec.given([]).when(generate({ keyType })).thenThrows('INVALID_KEY_TYPE', { keyType });
  });

  it('refuses a revoked purchase with 410 REVOKED, before looking at the product', () => {
    const error = spec
      .given([])
      .when(generate({ item: { ...revokedItem, deliversKeys: false } }))
      .thenThrows('REVOKED');
    expect(error.category).toBe('gone');
  });

  it('refuses a licence-only product before looking at the options', () => {
    spec.given([]).when(generate({ item: licenceOnly, choices: {} })).thenThrows('PRODUCT_DELIVERS_NO_KEYS');
  });

  it('refuses a missing required choice', () => {
    spec
      .given([])
      .when(generate({ choices: { version: '2022', fileType: 'ISO' } }))
      .thenThrows('INVALID_DOWNLOAD_OPTION', { errors: [{ field: 'language', offered: ['en-US', 'de-DE'] }] });
  });

  it('refuses a value the product does not offer', () => {
    spec
      .given([])
      .when(generate({ choices: { ...choices, language: 'fr-FR' } }))
      .thenThrows('INVALID_DOWNLOAD_OPTION', { errors: [{ field: 'language', value: 'fr-FR', offered: ['en-US', 'de-DE'] }] });
  });

  it('refuses a value for a hidden choice', () => {
    spec
      .given([])
      .when(generate({ choices: { ...choices, operatingSystem: 'Windows' } }))
      .thenThrows('INVALID_DOWNLOAD_OPTION', { errors: [{ field: 'operatingSystem', value: 'Windows', offered: [] }] });
  });

  it('records only the choices that were made', () => {
    const [event] = spec
      .given([])
      .when(generate({ choices: { ...choices, operatingSystem: undefined } }))
      .thenEvents() as [KeyGenerated];
    expect(Object.keys(event.data.choices)).toEqual(['version', 'language', 'fileType']);
  });

  it('several keys can be generated for one item', () => {
    spec
      .given([keyGenerated])
      .when(generate({ keyId: 'key-2', productKey: 'DFGHJ-KMPQR-TVWXY-23467-89BCD' }))
      .then([{ type: 'KeyGenerated', data: { ...keyGenerated.data, keyId: 'key-2', productKey: 'DFGHJ-KMPQR-TVWXY-23467-89BCD' } }]);
  });

  it('never reuses a key id', () => {
    expect(() => softwareDecider.decide(generate(), softwareDecider.evolve(softwareDecider.initialState(), keyGenerated))).toThrow(RangeError);
  });
});

describe('RevealKey', () => {
  const reveal = { type: 'RevealKey' as const, item, keyId: 'key-1', at: '2026-03-02T08:00:00.000Z' };

  it('records the reveal', () => {
    spec
      .given([keyGenerated])
      .when(reveal)
      .then([{ type: 'KeyRevealed', data: { ...identity, keyId: 'key-1', revealedAt: '2026-03-02T08:00:00.000Z' } }]);
  });

  it('the folded state holds the key text for the reveal answer', () => {
    const state = softwareDecider.evolve(softwareDecider.initialState(), keyGenerated);
    expect(state.keys.get('key-1')?.productKey).toBe(productKey);
  });

  it('answers 404 KEY_NOT_FOUND for an unknown key', () => {
    const error = spec.given([keyGenerated]).when({ ...reveal, keyId: 'key-2' }).thenThrows('KEY_NOT_FOUND');
    expect(error.category).toBe('not_found');
  });

  it('does not find a key named after an object prototype member', () => {
    spec.given([keyGenerated]).when({ ...reveal, keyId: '__proto__' }).thenThrows('KEY_NOT_FOUND');
  });

  it('answers 410 REVOKED after cancellation, even for an existing key', () => {
    spec.given([keyGenerated]).when({ ...reveal, item: revokedItem }).thenThrows('REVOKED');
  });
});

describe('StartDownload', () => {
  const download = { type: 'StartDownload' as const, item, downloadId: 'dl-1', choices, at };

  it('records the download with its choices', () => {
    spec
      .given([])
      .when(download)
      .then([{ type: 'DownloadStarted', data: { ...identity, downloadId: 'dl-1', choices, startedAt: at } }]);
  });

  it('refuses a revoked purchase', () => {
    spec.given([]).when({ ...download, item: revokedItem }).thenThrows('REVOKED');
  });

  it('refuses a licence-only product: no key, no download', () => {
    spec.given([]).when({ ...download, item: licenceOnly }).thenThrows('PRODUCT_DELIVERS_NO_KEYS');
  });

  it('refuses choices the product does not offer', () => {
    spec
      .given([])
      .when({ ...download, choices: { ...choices, version: '2019' } })
      .thenThrows('INVALID_DOWNLOAD_OPTION', { errors: [{ field: 'version', value: '2019', offered: ['2022'] }] });
  });
});

describe('IssueDownloadLink', () => {
  const issue = { type: 'IssueDownloadLink' as const, item, linkId: 'link-1', choices, at };

  it('issues a link valid for 14 days and 50 uses', () => {
    spec.given([]).when(issue).then([linkIssued]);
  });

  it('refuses a revoked purchase', () => {
    spec.given([]).when({ ...issue, item: revokedItem }).thenThrows('REVOKED');
  });

  it('refuses a licence-only product', () => {
    spec.given([]).when({ ...issue, item: licenceOnly }).thenThrows('PRODUCT_DELIVERS_NO_KEYS');
  });

  it('refuses a value for a hidden choice', () => {
    spec
      .given([])
      .when({ ...issue, choices: { ...choices, operatingSystem: 'Linux' } })
      .thenThrows('INVALID_DOWNLOAD_OPTION');
  });

  it('never reuses a link id', () => {
    expect(() => softwareDecider.decide(issue, softwareDecider.evolve(softwareDecider.initialState(), linkIssued))).toThrow(RangeError);
  });
});

describe('UseDownloadLink', () => {
  const use = (overrides: Partial<{ item: SoftwareItem; linkId: string; at: string }> = {}) => ({
    type: 'UseDownloadLink' as const,
    item,
    linkId: 'link-1',
    at: '2026-03-05T12:00:00.000Z',
    ...overrides,
  });
  const used = (useNumber: number, usedAt: string): SoftwareEvent => ({
    type: 'DownloadLinkUsed',
    data: { ...identity, linkId: 'link-1', useNumber, usedAt },
  });

  it('records the first use', () => {
    spec.given([linkIssued]).when(use()).then([used(1, '2026-03-05T12:00:00.000Z')]);
  });

  it('counts uses on', () => {
    spec.given([linkIssued, ...usesOfLink(3)]).when(use()).then([used(4, '2026-03-05T12:00:00.000Z')]);
  });

  it('allows a use one millisecond before 14 days', () => {
    spec.given([linkIssued]).when(use({ at: '2026-03-15T09:59:59.999Z' })).then([used(1, '2026-03-15T09:59:59.999Z')]);
  });

  it('refuses a use at exactly 14 days with 410 LINK_EXPIRED', () => {
    const error = spec
      .given([linkIssued])
      .when(use({ at: '2026-03-15T10:00:00.000Z' }))
      .thenThrows('LINK_EXPIRED', { expiresAt: '2026-03-15T10:00:00.000Z', uses: 0 });
    expect(error.category).toBe('gone');
  });

  it('allows the 50th use', () => {
    spec.given([linkIssued, ...usesOfLink(49)]).when(use()).then([used(50, '2026-03-05T12:00:00.000Z')]);
  });

  it('refuses the 51st use', () => {
    spec
      .given([linkIssued, ...usesOfLink(50)])
      .when(use())
      .thenThrows('LINK_EXPIRED', { expiresAt: '2026-03-15T10:00:00.000Z', uses: 50 });
  });

  it('answers 404 LINK_NOT_FOUND for an unknown link, revoked or not', () => {
    spec.given([linkIssued]).when(use({ linkId: 'link-2' })).thenThrows('LINK_NOT_FOUND');
    spec.given([]).when(use({ item: revokedItem })).thenThrows('LINK_NOT_FOUND');
  });

  it('does not find a link named after an object prototype member', () => {
    spec.given([linkIssued]).when(use({ linkId: 'constructor' })).thenThrows('LINK_NOT_FOUND');
  });

  it('answers 410 REVOKED after cancellation, before looking at expiry', () => {
    spec
      .given([linkIssued, ...usesOfLink(50)])
      .when(use({ item: revokedItem, at: '2026-04-01T00:00:00.000Z' }))
      .thenThrows('REVOKED');
  });
});
