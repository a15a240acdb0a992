import { z } from 'zod';

/**
 * ISO 3166-1 alpha-2 codes, checked against the ICU data that ships with Node, so the list
 * stays current without a dependency. ICU also names codes that are not assigned countries:
 * groupings (EU, UN...), pseudo-locales (XA, XB), "exceptionally reserved" codes (AC, IC, TA...)
 * and retired ones that it maps to a successor (YU and CS to Serbia, SU to Russia, ZR to
 * Congo - Kinshasa...). Those are refused: a retired code would count an incident under another
 * country's name in statistics. Kosovo's XK stays: it is user-assigned in ISO 3166, but every
 * press-freedom tracker uses it.
 */
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
const NOT_COUNTRIES = new Set([
  'EU', 'EZ', 'UN', 'QO', 'ZZ', 'XA', 'XB', // groupings and pseudo-regions
  'AC', 'CP', 'CQ', 'DG', 'EA', 'IC', 'TA', 'UK', // exceptionally reserved (UK is GB)
  'AN', 'BU', 'CS', 'DD', 'DY', 'FX', 'HV', 'NH', 'RH', 'SU', 'TP', 'VD', 'YD', 'YU', 'ZR', // retired
]);

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
