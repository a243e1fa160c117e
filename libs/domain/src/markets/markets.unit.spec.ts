import {
  AZURE_RESERVATIONS_UNAVAILABLE_MARKETS,
  azureReservationsAvailableIn,
  ISO_3166_COUNTRIES,
  isKnownCountryCode,
  KNOWN_COUNTRIES,
} from './index';

describe('ISO 3166-1 alpha-2 countries', () => {
  it('holds all 249 officially assigned codes, each once', () => {
    const codes = ISO_3166_COUNTRIES.map((country) => country.code);
    expect(codes).toHaveLength(249);
    expect(new Set(codes).size).toBe(249);
    expect(codes.every((code) => /^[A-Z]{2}$/.test(code))).toBe(true);
  });

  it('names every country', () => {
    expect(KNOWN_COUNTRIES.filter((country) => country.name.trim() === '')).toEqual([]);
  });

  it.each(['DE', 'US', 'GB', 'AU', 'BR', 'UM', 'SJ', 'BQ', 'SX', 'CW', 'SS', 'AX', 'XK'])('knows %s', (code) =>
    expect(isKnownCountryCode(code)).toBe(true),
  );

  it('accepts Kosovo through the user-assigned XK, which is not an official code', () => {
    expect(ISO_3166_COUNTRIES.some((country) => country.code === 'XK')).toBe(false);
    expect(KNOWN_COUNTRIES.find((country) => country.code === 'XK')?.name).toBe('Kosovo');
  });

  it.each([
    ['lower case', 'de'],
    ['mixed case', 'De'],
    ['alpha-3', 'DEU'],
    ['padded', ' DE'],
    ['empty', ''],
    ['unassigned', 'ZZ'],
    ['exceptionally reserved UK', 'UK'],
    ['exceptionally reserved EU', 'EU'],
    ['exceptionally reserved Ascension', 'AC'],
    ['transitionally reserved Netherlands Antilles', 'AN'],
    ['an inherited object key', 'constructor'],
  ])('rejects %s (%s)', (_label, code) => expect(isKnownCountryCode(code)).toBe(false));
});

describe('markets where Azure Reservations are unavailable', () => {
  const names = AZURE_RESERVATIONS_UNAVAILABLE_MARKETS.map((market) => market.de);
  const codeOf = (de: string) => AZURE_RESERVATIONS_UNAVAILABLE_MARKETS.find((market) => market.de === de)?.code;

  it('holds all 109 names of the source list (37 + 37 + 35 across its three columns)', () => {
    expect(names).toHaveLength(109);
  });

  it('lists no German name twice', () => {
    expect(new Set(names).size).toBe(names.length);
  });

  it('maps every name to a known country code', () => {
    expect(AZURE_RESERVATIONS_UNAVAILABLE_MARKETS.filter((market) => !isKnownCountryCode(market.code))).toEqual([]);
  });

  it('shares a code only where ISO itself merges territories (BQ three times, SJ twice): 106 codes', () => {
    const counts = new Map<string, number>();
    for (const { code } of AZURE_RESERVATIONS_UNAVAILABLE_MARKETS) counts.set(code, (counts.get(code) ?? 0) + 1);
    expect([...counts].filter(([, count]) => count > 1)).toEqual([
      ['BQ', 3],
      ['SJ', 2],
    ]);
    expect(counts.size).toBe(106);
  });

  it.each([
    ['USA Amerikanische Überseeinseln', 'UM'],
    ['Amerikanisch-Samoa', 'AS'],
    ['Samoa', 'WS'],
    ['Jan Mayen', 'SJ'],
    ['Spitzbergen', 'SJ'],
    ['Bouvetinsel', 'BV'],
    ['Bonaire', 'BQ'],
    ['Saba', 'BQ'],
    ['Sint Eustatius', 'BQ'],
    ['St. Martin', 'MF'],
    ['Sint Maarten', 'SX'],
    ['St. Barthélemy', 'BL'],
    ['Kongo', 'CG'],
    ['Kongo (DRK)', 'CD'],
    ['Swasiland', 'SZ'],
    ['Kosovo', 'XK'],
    ['Heard und McDonaldinseln', 'HM'],
    ['Französische Süd- und Antarktisgebiete', 'TF'],
    ['Französisch-Guayana', 'GF'],
    ['Französisch-Polynesien', 'PF'],
    ['St. Helena, Ascension, Tristan da Cunha', 'SH'],
    ['Britisches Territorium im Indischen Ozean', 'IO'],
    ['Britische Jungferninseln', 'VG'],
    ['Weihnachtsinsel', 'CX'],
    ['Kokosinseln', 'CC'],
    ['Vatikanstadt', 'VA'],
    ['Mikronesien', 'FM'],
    ['Marshall-Inseln', 'MH'],
    ['Nördliche Marianen', 'MP'],
    ['China', 'CN'],
    ['Guinea', 'GN'],
    ['Guinea-Bissau', 'GW'],
    ['Äquatorialguinea', 'GQ'],
    ['Papua-Neuguinea', 'PG'],
    ['Niger', 'NE'],
    ['Dominica', 'DM'],
    ['Südsudan', 'SS'],
    ['Mali', 'ML'],
    ['Malawi', 'MW'],
    ['Malediven', 'MV'],
    ['Mauretanien', 'MR'],
    ['Mayotte', 'YT'],
    ['Komoren', 'KM'],
    ['Kambodscha', 'KH'],
    ['Zentralafrikanische Republik', 'CF'],
    ['Tschad', 'TD'],
    ['Salomonen', 'SB'],
    ['Südgeorgien und Südliche Sandwichinseln', 'GS'],
    ['St. Pierre und Miquelon', 'PM'],
    ['St. Vincent und die Grenadinen', 'VC'],
    ['São Tomé und Príncipe', 'ST'],
    ['Pitcairninseln', 'PN'],
    ['Antarktis', 'AQ'],
    ['Ålandinseln', 'AX'],
    ['Aserbaidschan', 'AZ'],
    ['Benin', 'BJ'],
    ['Gambia', 'GM'],
    ['Grönland', 'GL'],
    ['Laos', 'LA'],
    ['Timor-Leste', 'TL'],
    ['Jemen', 'YE'],
  ])('maps %s to %s', (de, code) => expect(codeOf(de)).toBe(code));

  it.each(AZURE_RESERVATIONS_UNAVAILABLE_MARKETS.map((market) => [market.de, market.code]))(
    'refuses reservations in %s (%s)',
    (_de, code) => expect(azureReservationsAvailableIn(code)).toBe(false),
  );

  it.each([
    ['DE', 'Germany'],
    ['US', 'the USA, although its outlying islands (UM) are listed'],
    ['GB', 'the UK, although several of its territories are listed'],
    ['AU', 'Australia, although Norfolk, Christmas and Cocos islands are listed'],
    ['BR', 'Brazil'],
    ['FR', 'France, although its overseas territories are listed'],
    ['NO', 'mainland Norway, although Svalbard and Jan Mayen (SJ) and Bouvet Island are listed'],
    ['NL', 'the Netherlands, although Bonaire, Saba and Sint Eustatius (BQ) are listed'],
    ['DK', 'Denmark, although Greenland is listed'],
    ['FI', 'Finland, although the Åland Islands are listed'],
    ['RS', 'Serbia, although Kosovo is listed'],
    ['PR', 'Puerto Rico, which the list does not name'],
    ['VI', 'the US Virgin Islands, unlike the British ones'],
    ['CW', 'Curaçao, unlike Aruba and Sint Maarten'],
    ['HK', 'Hong Kong, although China is listed'],
    ['MO', 'Macao, although China is listed'],
    ['TW', 'Taiwan'],
    ['DO', 'the Dominican Republic, unlike Dominica'],
    ['NG', 'Nigeria, unlike Niger'],
    ['SD', 'Sudan, unlike South Sudan'],
    ['GE', 'Georgia, unlike South Georgia'],
    ['CI', "Côte d'Ivoire"],
  ])('sells reservations in %s (%s)', (code) => expect(azureReservationsAvailableIn(code)).toBe(true));

  it.each(['cn', 'xk', 'ZZ', 'CHN', ''])('refuses reservations for the unrecognised code %j', (code) =>
    expect(azureReservationsAvailableIn(code)).toBe(false),
  );
});
