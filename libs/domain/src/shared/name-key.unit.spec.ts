import { nameKey } from './name-key';

describe('nameKey', () => {
  it.each([
    ['Contoso GmbH', 'contoso gmbh'],
    ['CONTOSO.onmicrosoft.COM', 'contoso.onmicrosoft.com'],
    ['Cafe\u0301 Müller', 'caf\u00e9 müller'],
    ['Straße', 'STRASSE'],
    ['ΟΔΥΣΣΕΥΣ', 'οδυσσευς'],
  ])('makes %j and %j the same name', (left, right) => {
    expect(nameKey(left)).toBe(nameKey(right));
  });

  it.each([
    ['Contoso', 'Contoso Ltd'],
    ['café', 'cafe'],
  ])('keeps %j and %j apart', (left, right) => {
    expect(nameKey(left)).not.toBe(nameKey(right));
  });
});
