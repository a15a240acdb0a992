/**
 * States and territories that no longer exist, by their ISO 3166-3 code: the former alpha-2 code
 * followed by two letters (usually the successor's code, HH where it split, XX otherwise). Four
 * letters, so they can never be mistaken for a current alpha-2 code in a filter, a CSV or a
 * statistics group. `until` is the year the code was withdrawn, for people reading the list.
 */
export interface HistoricalCountry {
  name: string;
  /** The alpha-2 code it had. */
  formerCode: string;
  until: number;
}

const entry = (name: string, formerCode: string, until: number): HistoricalCountry => ({ name, formerCode, until });

export const HISTORICAL_COUNTRIES: Readonly<Record<string, HistoricalCountry>> = {
  AIDJ: entry('French Territory of the Afars and the Issas', 'AI', 1977),
  ANHH: entry('Netherlands Antilles', 'AN', 2011),
  BQAQ: entry('British Antarctic Territory', 'BQ', 1979),
  BUMM: entry('Burma', 'BU', 1989),
  BYAA: entry('Byelorussian SSR', 'BY', 1992),
  CSHH: entry('Czechoslovakia', 'CS', 1993),
  CSXX: entry('Serbia and Montenegro', 'CS', 2006),
  CTKI: entry('Canton and Enderbury Islands', 'CT', 1984),
  DDDE: entry('German Democratic Republic', 'DD', 1990),
  DYBJ: entry('Dahomey', 'DY', 1977),
  FQHH: entry('French Southern and Antarctic Territories', 'FQ', 1979),
  FXFR: entry('Metropolitan France', 'FX', 1997),
  GEHH: entry('Gilbert and Ellice Islands', 'GE', 1979),
  HVBF: entry('Upper Volta', 'HV', 1984),
  JTUM: entry('Johnston Island', 'JT', 1986),
  MIUM: entry('Midway Islands', 'MI', 1986),
  NHVU: entry('New Hebrides', 'NH', 1980),
  NQAQ: entry('Dronning Maud Land', 'NQ', 1983),
  NTHH: entry('Neutral Zone', 'NT', 1993),
  PCHH: entry('Trust Territory of the Pacific Islands', 'PC', 1986),
  PUUM: entry('United States Miscellaneous Pacific Islands', 'PU', 1986),
  PZPA: entry('Panama Canal Zone', 'PZ', 1980),
  RHZW: entry('Southern Rhodesia', 'RH', 1980),
  SKIN: entry('Sikkim', 'SK', 1975),
  SUHH: entry('USSR', 'SU', 1992),
  TPTL: entry('East Timor', 'TP', 2002),
  VDVN: entry('Democratic Republic of Viet-Nam', 'VD', 1977),
  WKUM: entry('Wake Island', 'WK', 1986),
  YDYE: entry('Democratic Yemen', 'YD', 1990),
  YUCS: entry('Yugoslavia', 'YU', 2003),
  ZRCD: entry('Zaire', 'ZR', 1997),
};
