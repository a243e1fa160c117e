import type { DownloadOptions } from '../catalogue/sku';
import { DomainError } from '../shared/domain-error';

/** What the caller picked for a key or a download; each field answers one list of DownloadOptions. */
export interface DownloadChoices {
  version?: string;
  language?: string;
  fileType?: string;
  operatingSystem?: string;
}

export type DownloadChoiceField = keyof DownloadChoices;

/** One offending choice: the field, what was sent (absent when missing) and what the product offers. */
export interface DownloadOptionError {
  field: DownloadChoiceField;
  value?: string;
  offered: string[];
  message: string;
}

const OPTIONS_OF: Readonly<Record<DownloadChoiceField, keyof DownloadOptions>> = {
  version: 'versions',
  language: 'languages',
  fileType: 'fileTypes',
  operatingSystem: 'operatingSystems',
};

const CHOICE_FIELDS = Object.keys(OPTIONS_OF) as DownloadChoiceField[];

/**
 * A non-empty option list makes its choice required and limits it to the list; an empty list hides
 * the choice, so sending a value for it is an error too. Returns every offending field, in a fixed order.
 *
 * @example downloadOptionErrors({ language: 'xx' }, sku.downloadOptions) // [{ field: 'language', value: 'xx', offered: [...], ... }]
 */
export function downloadOptionErrors(choices: DownloadChoices, options: DownloadOptions): DownloadOptionError[] {
  const errors: DownloadOptionError[] = [];
  for (const field of CHOICE_FIELDS) {
    const offered = options[OPTIONS_OF[field]];
    const value = choices[field];
    if (value === undefined) {
      if (offered.length > 0) errors.push({ field, offered, message: `${field} is required; choose one of ${offered.join(', ')}` });
    } else if (offered.length === 0) {
      errors.push({ field, value, offered, message: `this product offers no choice of ${field}` });
    } else if (!offered.includes(value)) {
      errors.push({ field, value, offered, message: `${field} must be one of ${offered.join(', ')}` });
    }
  }
  return errors;
}

/** Throws `422 INVALID_DOWNLOAD_OPTION` listing every offending field; returns only the choices that were set. */
export function validDownloadChoices(choices: DownloadChoices, options: DownloadOptions): DownloadChoices {
  const errors = downloadOptionErrors(choices, options);
  if (errors.length > 0) {
    throw new DomainError(
      'INVALID_DOWNLOAD_OPTION',
      'unprocessable',
      `The download options are not offered by this product: ${errors.map((error) => error.field).join(', ')}`,
      { errors },
    );
  }
  const chosen: DownloadChoices = {};
  for (const field of CHOICE_FIELDS) {
    const value = choices[field];
    if (value !== undefined) chosen[field] = value;
  }
  return chosen;
}
