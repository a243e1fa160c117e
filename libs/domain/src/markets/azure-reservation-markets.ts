import { isKnownCountryCode } from './iso-countries';

/** One name from the source's list, kept verbatim beside the code so a reviewer can check the mapping. */
export interface UnavailableMarket {
  readonly de: string;
  readonly code: string;
}

/**
 * "Märkte, in denen Azure Reservations nicht verfügbar sind", in the source's column order
 * ("A bis Gi", "Gr bis Pal", "Pap bis Z"). The columns are sorted by the English names, which is
 * why Kambodscha or Tschad sit among the Cs. Some territories share one ISO code: the three
 * Caribbean Netherlands islands are all BQ, and Jan Mayen and Spitzbergen (Svalbard) are both SJ;
 * every part of those codes is listed, so blocking the whole code loses no sellable market.
 */
export const AZURE_RESERVATIONS_UNAVAILABLE_MARKETS: readonly UnavailableMarket[] = [
  // A bis Gi
  { de: 'Ålandinseln', code: 'AX' },
  { de: 'Amerikanisch-Samoa', code: 'AS' },
  { de: 'Andorra', code: 'AD' },
  { de: 'Anguilla', code: 'AI' },
  { de: 'Antarktis', code: 'AQ' },
  { de: 'Antigua und Barbuda', code: 'AG' },
  { de: 'Aruba', code: 'AW' },
  { de: 'Aserbaidschan', code: 'AZ' },
  { de: 'Benin', code: 'BJ' },
  { de: 'Bhutan', code: 'BT' },
  { de: 'Bonaire', code: 'BQ' },
  { de: 'Bouvetinsel', code: 'BV' },
  { de: 'Britisches Territorium im Indischen Ozean', code: 'IO' },
  { de: 'Britische Jungferninseln', code: 'VG' },
  { de: 'Burkina Faso', code: 'BF' },
  { de: 'Burundi', code: 'BI' },
  { de: 'Kambodscha', code: 'KH' },
  { de: 'Zentralafrikanische Republik', code: 'CF' },
  { de: 'Tschad', code: 'TD' },
  { de: 'China', code: 'CN' },
  { de: 'Weihnachtsinsel', code: 'CX' },
  { de: 'Kokosinseln', code: 'CC' },
  { de: 'Komoren', code: 'KM' },
  { de: 'Kongo', code: 'CG' },
  { de: 'Kongo (DRK)', code: 'CD' },
  { de: 'Cookinseln', code: 'CK' },
  { de: 'Dschibuti', code: 'DJ' },
  { de: 'Dominica', code: 'DM' },
  { de: 'Äquatorialguinea', code: 'GQ' },
  { de: 'Eritrea', code: 'ER' },
  { de: 'Falklandinseln', code: 'FK' },
  { de: 'Französisch-Guayana', code: 'GF' },
  { de: 'Französisch-Polynesien', code: 'PF' },
  { de: 'Französische Süd- und Antarktisgebiete', code: 'TF' },
  { de: 'Gabun', code: 'GA' },
  { de: 'Gambia', code: 'GM' },
  { de: 'Gibraltar', code: 'GI' },
  // Gr bis Pal
  { de: 'Grönland', code: 'GL' },
  { de: 'Grenada', code: 'GD' },
  { de: 'Guadeloupe', code: 'GP' },
  { de: 'Guam', code: 'GU' },
  { de: 'Guernsey', code: 'GG' },
  { de: 'Guinea', code: 'GN' },
  { de: 'Guinea-Bissau', code: 'GW' },
  { de: 'Guyana', code: 'GY' },
  { de: 'Haiti', code: 'HT' },
  { de: 'Heard und McDonaldinseln', code: 'HM' },
  { de: 'Isle of Man', code: 'IM' },
  { de: 'Jan Mayen', code: 'SJ' },
  { de: 'Jersey', code: 'JE' },
  { de: 'Kiribati', code: 'KI' },
  { de: 'Kosovo', code: 'XK' },
  { de: 'Laos', code: 'LA' },
  { de: 'Lesotho', code: 'LS' },
  { de: 'Liberia', code: 'LR' },
  { de: 'Madagaskar', code: 'MG' },
  { de: 'Malawi', code: 'MW' },
  { de: 'Malediven', code: 'MV' },
  { de: 'Mali', code: 'ML' },
  { de: 'Marshall-Inseln', code: 'MH' },
  { de: 'Martinique', code: 'MQ' },
  { de: 'Mauretanien', code: 'MR' },
  { de: 'Mayotte', code: 'YT' },
  { de: 'Mikronesien', code: 'FM' },
  { de: 'Montserrat', code: 'MS' },
  { de: 'Mosambik', code: 'MZ' },
  { de: 'Myanmar', code: 'MM' },
  { de: 'Nauru', code: 'NR' },
  { de: 'Neukaledonien', code: 'NC' },
  { de: 'Niger', code: 'NE' },
  { de: 'Niue', code: 'NU' },
  { de: 'Norfolkinsel', code: 'NF' },
  { de: 'Nördliche Marianen', code: 'MP' },
  { de: 'Palau', code: 'PW' },
  // Pap bis Z
  { de: 'Papua-Neuguinea', code: 'PG' },
  { de: 'Pitcairninseln', code: 'PN' },
  { de: 'Réunion', code: 'RE' },
  { de: 'Saba', code: 'BQ' },
  { de: 'St. Barthélemy', code: 'BL' },
  { de: 'St. Lucia', code: 'LC' },
  { de: 'St. Martin', code: 'MF' },
  { de: 'St. Pierre und Miquelon', code: 'PM' },
  { de: 'St. Vincent und die Grenadinen', code: 'VC' },
  { de: 'Samoa', code: 'WS' },
  { de: 'San Marino', code: 'SM' },
  { de: 'São Tomé und Príncipe', code: 'ST' },
  { de: 'Seychellen', code: 'SC' },
  { de: 'Sierra Leone', code: 'SL' },
  { de: 'Sint Eustatius', code: 'BQ' },
  { de: 'Sint Maarten', code: 'SX' },
  { de: 'Salomonen', code: 'SB' },
  { de: 'Somalia', code: 'SO' },
  { de: 'Südgeorgien und Südliche Sandwichinseln', code: 'GS' },
  { de: 'Südsudan', code: 'SS' },
  { de: 'St. Helena, Ascension, Tristan da Cunha', code: 'SH' },
  { de: 'Suriname', code: 'SR' },
  { de: 'Spitzbergen', code: 'SJ' },
  { de: 'Swasiland', code: 'SZ' },
  { de: 'Timor-Leste', code: 'TL' },
  { de: 'Togo', code: 'TG' },
  { de: 'Tokelau', code: 'TK' },
  { de: 'Tonga', code: 'TO' },
  { de: 'Turks- und Caicosinseln', code: 'TC' },
  { de: 'Tuvalu', code: 'TV' },
  { de: 'USA Amerikanische Überseeinseln', code: 'UM' },
  { de: 'Vanuatu', code: 'VU' },
  { de: 'Vatikanstadt', code: 'VA' },
  { de: 'Wallis und Futuna', code: 'WF' },
  { de: 'Jemen', code: 'YE' },
];

const UNAVAILABLE_CODES: ReadonlySet<string> = new Set(
  AZURE_RESERVATIONS_UNAVAILABLE_MARKETS.map((market) => market.code),
);

/**
 * False for an unknown or mis-cased code as well: selling a reservation is the risky answer, so a
 * country we cannot recognise must not slip past the block list (e.g. `cn` for China).
 */
export function azureReservationsAvailableIn(country: string): boolean {
  return isKnownCountryCode(country) && !UNAVAILABLE_CODES.has(country);
}
