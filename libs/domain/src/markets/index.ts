export * from './iso-countries';
export * from './azure-reservation-markets';
