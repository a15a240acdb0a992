import { countryName } from '../incidents/country.ts';
import { HISTORICAL_COUNTRIES } from '../incidents/historical-countries.ts';

/**
 * English country names -> ISO 3166-1 alpha-2 codes, for files that spell countries out (CPJ,
 * most spreadsheets). The names come from the ICU data in Node (the same source as
 * src/incidents/country.ts), plus the other names trackers commonly use. Matching ignores case,
 * accents, punctuation, "&" vs "and" and a leading "the". States that no longer exist
 * (Yugoslavia, USSR, Czechoslovakia, Zaire...) map to their ISO 3166-3 codes: the incident is
 * kept in the country as it was at the time, never moved to a successor state by guesswork.
 */
const ALIASES: Record<string, string> = {
  'ivory coast': 'CI',
  'cote divoire': 'CI',
  'syrian arab republic': 'SY',
  'russian federation': 'RU',
  palestine: 'PS',
  'state of palestine': 'PS',
  'palestinian territory': 'PS',
  'occupied palestinian territory': 'PS',
  gaza: 'PS',
  'gaza strip': 'PS',
  'west bank': 'PS',
  'democratic republic of the congo': 'CD',
  'democratic republic of congo': 'CD',
  'dr congo': 'CD',
  drc: 'CD',
  'congo kinshasa': 'CD',
  'congo democratic republic of the': 'CD',
  'republic of the congo': 'CG',
  'republic of congo': 'CG',
  'congo brazzaville': 'CG',
  'congo republic of the': 'CG',
  burma: 'MM',
  myanmar: 'MM',
  usa: 'US',
  us: 'US',
  'united states of america': 'US',
  uk: 'GB',
  'great britain': 'GB',
  britain: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  'republic of korea': 'KR',
  'korea south': 'KR',
  'korea republic of': 'KR',
  'democratic peoples republic of korea': 'KP',
  'korea north': 'KP',
  bosnia: 'BA',
  'bosnia and herzegovina': 'BA',
  'bosnia herzegovina': 'BA',
  macedonia: 'MK',
  'former yugoslav republic of macedonia': 'MK',
  swaziland: 'SZ',
  'east timor': 'TL',
  'czech republic': 'CZ',
  turkey: 'TR',
  vatican: 'VA',
  'holy see': 'VA',
  'cabo verde': 'CV',
  laos: 'LA',
  'lao pdr': 'LA',
  'iran islamic republic of': 'IR',
  'islamic republic of iran': 'IR',
  'viet nam': 'VN',
  'hong kong': 'HK',
  macau: 'MO',
  macao: 'MO',
  taiwan: 'TW',
  'tanzania united republic of': 'TZ',
  'united republic of tanzania': 'TZ',
  'venezuela bolivarian republic of': 'VE',
  'bolivia plurinational state of': 'BO',
  'moldova republic of': 'MD',
  'republic of moldova': 'MD',
  'brunei darussalam': 'BN',
  kosovo: 'XK',
  'republic of kosovo': 'XK',
  // Former states, as files name them (the ISO 3166-3 names are indexed too).
  'federal republic of yugoslavia': 'YUCS',
  'fr yugoslavia': 'YUCS',
  'serbia montenegro': 'CSXX',
  'soviet union': 'SUHH',
  'union of soviet socialist republics': 'SUHH',
  'east germany': 'DDDE',
  'south yemen': 'YDYE',
  zaire: 'ZRCD',
  'kyrgyz republic': 'KG',
  'slovak republic': 'SK',
  uae: 'AE',
  'the netherlands': 'NL',
  holland: 'NL',
};

export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replaceAll('&', ' and ')
    .replace(/['’‘`.]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .replace(/^the /, '');
}

let byName: Map<string, string> | undefined;

function buildIndex(): Map<string, string> {
  const index = new Map<string, string>();
  for (let first = 65; first <= 90; first++) {
    for (let second = 65; second <= 90; second++) {
      const code = String.fromCharCode(first, second);
      const name = countryName(code); // undefined for retired codes (YU, SU, DD...): see country.ts
      if (!name) continue;
      index.set(normaliseName(name), code);
      // "Myanmar (Burma)", "Hong Kong SAR China": the part before the qualifier is a name too.
      const short = name.replace(/\s*\(.*\)$/, '').replace(/ SAR China$/, '');
      if (short !== name) index.set(normaliseName(short), code);
    }
  }
  for (const [code, { name }] of Object.entries(HISTORICAL_COUNTRIES)) index.set(normaliseName(name), code);
  for (const [alias, code] of Object.entries(ALIASES)) index.set(normaliseName(alias), code);
  return index;
}

/** The ISO code for an English country name, or for an ISO code itself ("TR", "tr", "YUCS"); undefined if unknown. */
export function countryCodeFor(value: string): string | undefined {
  const trimmed = value.trim();
  if (/^([A-Za-z]{2}|[A-Za-z]{4})$/.test(trimmed) && countryName(trimmed.toUpperCase())) return trimmed.toUpperCase();
  byName ??= buildIndex();
  return byName.get(normaliseName(trimmed));
}
