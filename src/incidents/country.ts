import { z } from 'zod';
import { HISTORICAL_COUNTRIES } from './historical-countries.ts';

/**
 * Where an incident happened, as the country was at the time.
 *
 * - Current countries: ISO 3166-1 alpha-2 codes, checked against the ICU data that ships with
 *   Node, so the list stays current without a dependency. ICU also names codes that are not
 *   assigned countries: groupings (EU, UN...), pseudo-locales (XA, XB), "exceptionally
 *   reserved" codes (AC, IC, TA...) and retired ones that it maps to a successor (YU and CS to
 *   Serbia, SU to Russia, ZR to Congo - Kinshasa...). Those two-letter forms are refused: a
 *   retired code would count an incident under another country's name in statistics. Kosovo's
 *   XK stays: it is user-assigned in ISO 3166, but the EU and every press-freedom tracker use it.
 * - States that no longer exist (Yugoslavia, the USSR, Czechoslovakia...): their ISO 3166-3
 *   four-letter codes (YUCS, SUHH, CSHH...), which cannot be confused with a current code
 *   (historical-countries.ts). A journalist killed in Belgrade in 1999 was killed in Yugoslavia.
 */
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
const NOT_COUNTRIES = new Set([
  'EU',
  'EZ',
  'UN',
  'QO',
  'ZZ',
  'XA',
  'XB', // groupings and pseudo-regions
  'AC',
  'CP',
  'CQ',
  'DG',
  'EA',
  'IC',
  'TA',
  'UK', // exceptionally reserved (UK is GB)
  'AN',
  'BU',
  'CS',
  'DD',
  'DY',
  'FX',
  'HV',
  'NH',
  'RH',
  'SU',
  'TP',
  'VD',
  'YD',
  'YU',
  'ZR', // retired (see ISO 3166-3 below)
]);

/** The English name of a current (alpha-2) or historical (ISO 3166-3) code; undefined if it is neither. */
export function countryName(code: string): string | undefined {
  if (/^[A-Z]{4}$/.test(code)) return HISTORICAL_COUNTRIES[code]?.name;
  if (!/^[A-Z]{2}$/.test(code) || NOT_COUNTRIES.has(code)) return undefined;
  try {
    return regionNames.of(code);
  } catch {
    return undefined;
  }
}

/** Whether the code names a state that no longer exists. */
export const isHistoricalCountry = (code: string) => code.length === 4 && code in HISTORICAL_COUNTRIES;

export const countryCodeSchema = z
  .string()
  .regex(/^([A-Z]{2}|[A-Z]{4})$/, {
    message:
      'use an upper-case ISO 3166-1 alpha-2 code such as "TR", or an ISO 3166-3 code such as "YUCS" for a state that no longer exists',
    abort: true,
  })
  .refine((code) => countryName(code) !== undefined, {
    error: (issue) =>
      String(issue.input).length === 4
        ? 'not an ISO 3166-3 code of a former country (e.g. YUCS Yugoslavia, SUHH USSR, CSHH Czechoslovakia, CSXX Serbia and Montenegro)'
        : 'not an ISO 3166-1 country code',
  })
  .meta({
    description:
      'ISO 3166-1 alpha-2 country code (XK for Kosovo), or the ISO 3166-3 four-letter code of a country that no longer exists (YUCS Yugoslavia, SUHH USSR...)',
    example: 'TR',
  });
