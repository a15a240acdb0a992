import { z } from 'zod';

/**
 * ISO 3166-1 alpha-2 codes, checked against the ICU data that ships with Node, so the list
 * stays current without a dependency. ICU also names a few groupings that are not countries.
 */
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'ZZ']);

export function countryName(code: string): string | undefined {
  if (!/^[A-Z]{2}$/.test(code) || NOT_COUNTRIES.has(code)) return undefined;
  try {
    return regionNames.of(code);
  } catch {
    return undefined;
  }
}

export const countryCodeSchema = z
  .string()
  .regex(/^[A-Z]{2}$/, { message: 'use an upper-case ISO 3166-1 alpha-2 code such as "TR"', abort: true })
  .refine((code) => countryName(code) !== undefined, 'not an ISO 3166-1 country code')
  .meta({ description: 'ISO 3166-1 alpha-2 country code', example: 'TR' });
