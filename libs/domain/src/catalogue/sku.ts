import type { Money } from '../shared/money';

export type ProductKind = 'SoftwareSubscription' | 'ServerSubscription' | 'PerpetualSoftware' | 'AzureReservation';
export type BillingCycle = 'monthly' | 'annual' | 'triennial' | 'oneTime';
export type TermDuration = 'P1Y' | 'P3Y';

export const BILLING_CYCLES: readonly BillingCycle[] = ['monthly', 'annual', 'triennial', 'oneTime'];
export const PRODUCT_KINDS: readonly ProductKind[] = [
  'SoftwareSubscription',
  'ServerSubscription',
  'PerpetualSoftware',
  'AzureReservation',
];
export const TERM_DURATIONS: readonly TermDuration[] = ['P1Y', 'P3Y'];

/** Download choices; an empty list hides that choice, a non-empty one makes it required. */
export interface DownloadOptions {
  versions: string[];
  languages: string[];
  fileTypes: string[];
  operatingSystems: string[];
}

/** One catalogue entry, loaded from `data/catalogue.json`. Products are data, not code. */
export interface Sku {
  productId: string;
  skuId: string;
  title: string;
  publisher: string;
  kind: ProductKind;
  /** Absent for perpetual software. */
  termDuration?: TermDuration;
  billingCycles: BillingCycle[];
  /** Price of one unit for one whole term (perpetual: once), keyed by ISO 3166 market code. */
  prices: Record<string, Money>;
  deliversKeys: boolean;
  downloadOptions: DownloadOptions;
  installationInstructionsUrl?: string;
  cancellable: boolean;
  exchangeable: boolean;
}

export function isSubscriptionKind(kind: ProductKind): boolean {
  return kind !== 'PerpetualSoftware';
}
