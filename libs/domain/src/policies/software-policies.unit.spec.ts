import type { DownloadOptions } from '../catalogue/sku';
import { DomainError } from '../shared/domain-error';
import { downloadLinkExpiresAt, isDownloadLinkUsable } from './download-link.policy';
import { downloadOptionErrors, validDownloadChoices } from './download-options.policy';
import { keyAccess, type KeyAccessCaller, type KeyAccessItem } from './key-access.policy';

describe('download link: 14 days or 50 uses, whichever comes first', () => {
  const issuedAt = '2026-03-01T10:00:00.000Z';
  const fourteenDaysLater = '2026-03-15T10:00:00.000Z';
  const link = { expiresAt: fourteenDaysLater, maxUses: 50, uses: 0 };

  it('expires exactly 14 days after issue', () => expect(downloadLinkExpiresAt(issuedAt)).toBe(fourteenDaysLater));
  it('is usable one millisecond before 14 days', () => expect(isDownloadLinkUsable(link, '2026-03-15T09:59:59.999Z')).toBe(true));
  it('is expired at exactly 14 days', () => expect(isDownloadLinkUsable(link, fourteenDaysLater)).toBe(false));
  it('allows the 50th use (49 so far)', () => expect(isDownloadLinkUsable({ ...link, uses: 49 }, issuedAt)).toBe(true));
  it('refuses the 51st use (50 so far)', () => expect(isDownloadLinkUsable({ ...link, uses: 50 }, issuedAt)).toBe(false));
});

describe('download options: a non-empty list makes the choice required, an empty one hides it', () => {
  const options: DownloadOptions = {
    versions: ['2022'],
    languages: ['en-US', 'de-DE'],
    fileTypes: ['ISO', 'VHD'],
    operatingSystems: [],
  };
  const complete = { version: '2022', language: 'de-DE', fileType: 'VHD' };

  it('accepts one offered value per visible choice', () => expect(downloadOptionErrors(complete, options)).toEqual([]));

  it('names a missing required choice with what is offered', () =>
    expect(downloadOptionErrors({ version: '2022', fileType: 'ISO' }, options)).toEqual([
      { field: 'language', offered: ['en-US', 'de-DE'], message: 'language is required; choose one of en-US, de-DE' },
    ]));

  it('names a value that is not offered', () =>
    expect(downloadOptionErrors({ ...complete, fileType: 'iso' }, options)).toEqual([
      { field: 'fileType', value: 'iso', offered: ['ISO', 'VHD'], message: 'fileType must be one of ISO, VHD' },
    ]));

  it('refuses a value for a hidden choice', () =>
    expect(downloadOptionErrors({ ...complete, operatingSystem: 'Windows' }, options)).toEqual([
      { field: 'operatingSystem', value: 'Windows', offered: [], message: 'this product offers no choice of operatingSystem' },
    ]));

  it('lists every offending field at once', () =>
    expect(downloadOptionErrors({ version: '2019', operatingSystem: 'Linux' }, options).map((error) => error.field)).toEqual([
      'version',
      'language',
      'fileType',
      'operatingSystem',
    ]));

  it('needs nothing when every choice is hidden', () =>
    expect(validDownloadChoices({}, { versions: [], languages: [], fileTypes: [], operatingSystems: [] })).toEqual({}));

  it('throws 422 INVALID_DOWNLOAD_OPTION carrying the errors', () => {
    let caught: unknown;
    try {
      validDownloadChoices({ version: '2019', language: 'en-US', fileType: 'ISO' }, options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect(caught).toMatchObject({
      code: 'INVALID_DOWNLOAD_OPTION',
      category: 'unprocessable',
      details: { errors: [{ field: 'version', value: '2019', offered: ['2022'] }] },
    });
  });

  it('keeps only the choices that were set, without undefined members', () => {
    const chosen = validDownloadChoices({ ...complete, operatingSystem: undefined }, options);
    expect(chosen).toEqual(complete);
    expect(Object.keys(chosen)).toEqual(['version', 'language', 'fileType']);
  });
});

describe('key access', () => {
  const tenant = '6b1a2c3d-0000-4000-8000-00000000000a';
  const serverItem: KeyAccessItem = { partnerId: 'partner-1', customerId: tenant, kind: 'ServerSubscription' };
  const partnerAgent: KeyAccessCaller = { kind: 'partner', roles: ['AdminAgent'], tenantId: 'partner-1' };
  const customerAdmin: KeyAccessCaller = { kind: 'customer', roles: ['GlobalAdmin'], tenantId: tenant };

  it.each(['SoftwareSubscription', 'ServerSubscription', 'PerpetualSoftware'] as const)(
    "a partner AdminAgent may use the keys of its customers' %s items",
    (kind) => expect(keyAccess(partnerAgent, { ...serverItem, kind })).toEqual({ allowed: true }),
  );

  it("a partner AdminAgent may not use another partner's customers' keys", () =>
    expect(keyAccess({ ...partnerAgent, tenantId: 'partner-2' }, serverItem).allowed).toBe(false));

  it.each(['GlobalAdmin', 'AccountAdmin', 'BillingAdmin'])('a partner %s without AdminAgent is refused', (role) =>
    expect(keyAccess({ ...partnerAgent, roles: [role] }, serverItem).allowed).toBe(false));

  it("a customer GlobalAdmin may use its own server subscription's keys, whatever the GUID's case", () => {
    expect(keyAccess(customerAdmin, serverItem)).toEqual({ allowed: true });
    expect(keyAccess({ ...customerAdmin, tenantId: tenant.toUpperCase() }, serverItem)).toEqual({ allowed: true });
  });

  it.each(['SoftwareSubscription', 'PerpetualSoftware'] as const)('a customer GlobalAdmin may not use %s keys', (kind) =>
    expect(keyAccess(customerAdmin, { ...serverItem, kind }).allowed).toBe(false));

  it("a customer GlobalAdmin may not use another tenant's keys", () =>
    expect(keyAccess({ ...customerAdmin, tenantId: '6b1a2c3d-0000-4000-8000-00000000000b' }, serverItem).allowed).toBe(false));

  it('a customer user without GlobalAdmin is refused', () =>
    expect(keyAccess({ ...customerAdmin, roles: ['AdminAgent'] }, serverItem).allowed).toBe(false));

  it('a service is refused even with AdminAgent', () =>
    expect(keyAccess({ kind: 'service', roles: ['AdminAgent', 'GlobalAdmin'], tenantId: 'partner-1' }, serverItem).allowed).toBe(false));

  it('a refusal says why', () =>
    expect(keyAccess({ ...partnerAgent, tenantId: 'partner-2' }, serverItem)).toEqual({
      allowed: false,
      reason: 'the customer belongs to another partner',
    }));
});
