import { readdirSync, readFileSync } from 'node:fs';
import { IntlMessageFormat } from 'intl-messageformat';
import { countryName as englishCountryName } from '../incidents/country.ts';
import type { IncidentDate } from '../incidents/incident-date.ts';

/**
 * Interface text comes from the message catalogs in messages/ (ICU MessageFormat, one JSON file
 * per language): a third language is a new file, not a code change. Numbers, dates and country
 * names are formatted with Intl in the catalog's locale (`meta.intlLocale`), and the catalog
 * says which way the language is written (`meta.dir`).
 */
type Catalog = Record<string, string>;

const MESSAGES_DIR = new URL('./messages/', import.meta.url);
export const DEFAULT_LOCALE = 'en';

function loadCatalogs(): Map<string, Catalog> {
  const catalogs = new Map<string, Catalog>();
  for (const file of readdirSync(MESSAGES_DIR)
    .filter((name) => /^[a-z]{2,3}(-[A-Za-z0-9]+)?\.json$/.test(name))
    .sort()) {
    catalogs.set(file.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(file, MESSAGES_DIR), 'utf8')) as Catalog);
  }
  return catalogs;
}

const catalogs = loadCatalogs();
export const LOCALES: readonly string[] = [DEFAULT_LOCALE, ...[...catalogs.keys()].filter((locale) => locale !== DEFAULT_LOCALE)];

export function isLocale(value: unknown): value is string {
  return typeof value === 'string' && catalogs.has(value);
}

export type MessageValues = Record<string, string | number>;

/** One language: its messages and formatters. Built once per locale and shared by every request. */
export class Messages {
  readonly locale: string;
  readonly intlLocale: string;
  readonly dir: 'ltr' | 'rtl';
  readonly languageName: string;
  private readonly catalog: Catalog;
  private readonly fallback: Catalog;
  private readonly compiled = new Map<string, IntlMessageFormat>();
  private readonly numberFormat: Intl.NumberFormat;
  private readonly regionNames: Intl.DisplayNames;
  private readonly dateFormats: Record<IncidentDate['precision'] | 'stamp', Intl.DateTimeFormat>;

  constructor(locale: string) {
    this.locale = locale;
    this.catalog = catalogs.get(locale)!;
    this.fallback = catalogs.get(DEFAULT_LOCALE)!;
    this.intlLocale = this.catalog['meta.intlLocale'] ?? locale;
    this.dir = this.catalog['meta.dir'] === 'rtl' ? 'rtl' : 'ltr';
    this.languageName = this.catalog['meta.languageName'] ?? locale;
    this.numberFormat = new Intl.NumberFormat(this.intlLocale);
    this.regionNames = new Intl.DisplayNames([this.intlLocale], { type: 'region', fallback: 'none' });
    const utc = { timeZone: 'UTC' } as const;
    this.dateFormats = {
      day: new Intl.DateTimeFormat(this.intlLocale, { ...utc, day: 'numeric', month: 'long', year: 'numeric' }),
      range: new Intl.DateTimeFormat(this.intlLocale, { ...utc, day: 'numeric', month: 'long', year: 'numeric' }),
      month: new Intl.DateTimeFormat(this.intlLocale, { ...utc, month: 'long', year: 'numeric' }),
      year: new Intl.DateTimeFormat(this.intlLocale, { ...utc, year: 'numeric' }),
      stamp: new Intl.DateTimeFormat(this.intlLocale, { ...utc, dateStyle: 'long', timeStyle: 'short' }),
    };
  }

  has(key: string): boolean {
    return key in this.catalog || key in this.fallback;
  }

  /** The message in this language (falling back to English, then to the key itself). */
  t(key: string, values?: MessageValues): string {
    let format = this.compiled.get(key);
    if (!format) {
      const source = this.catalog[key] ?? this.fallback[key];
      if (source === undefined) return key;
      format = new IntlMessageFormat(source, this.intlLocale);
      this.compiled.set(key, format);
    }
    const formatted = format.format(values);
    return Array.isArray(formatted) ? formatted.join('') : String(formatted);
  }

  /** The label of a taxonomy code, e.g. label('attackTypes', 'killing'). */
  label(taxonomy: string, code: string | null | undefined): string {
    if (code === null || code === undefined) return this.t('stats.unknown');
    const key = `code.${taxonomy}.${code}`;
    return this.has(key) ? this.t(key) : code;
  }

  number(value: number | bigint | string): string {
    return this.numberFormat.format(typeof value === 'string' ? Number(value) : value);
  }

  /** A country, current or historical, in this language where the catalog or ICU knows it. */
  country(code: string | null | undefined): string {
    if (!code) return this.t('stats.unknown');
    const key = `country.${code}`;
    if (key in this.catalog) return this.t(key);
    if (code.length === 2) {
      try {
        const name = this.regionNames.of(code);
        if (name) return name;
      } catch {
        // not a region ICU knows: fall through
      }
    }
    return englishCountryName(code) ?? code;
  }

  /** A date only as precisely as it is known: "October 2015", never "1 October 2015". */
  incidentDate(date: IncidentDate): string {
    const start = new Date(`${date.start}T00:00:00Z`);
    const end = new Date(`${date.end}T00:00:00Z`);
    if (date.precision === 'range') return this.dateFormats.range.formatRange(start, end);
    return this.dateFormats[date.precision].format(start);
  }

  /** A day written YYYY-MM-DD (a source's publication date). */
  day(isoDay: string): string {
    return this.dateFormats.day.format(new Date(`${isoDay}T00:00:00Z`));
  }

  /** A point in time (the data version's date), in UTC. */
  stamp(iso: string | Date): string {
    return `${this.dateFormats.stamp.format(typeof iso === 'string' ? new Date(iso) : iso)} UTC`;
  }

  /** A month period "2015-10" or a year as a label. */
  period(value: string | number): string {
    const text = String(value);
    if (/^\d{4}-\d{2}$/.test(text)) return this.dateFormats.month.format(new Date(`${text}-01T00:00:00Z`));
    if (/^\d{4}$/.test(text)) return this.dateFormats.year.format(new Date(`${text}-01-01T00:00:00Z`));
    return text;
  }
}

const byLocale = new Map([...catalogs.keys()].map((locale) => [locale, new Messages(locale)]));

export function messagesFor(locale: string | undefined): Messages {
  return byLocale.get(locale ?? DEFAULT_LOCALE) ?? byLocale.get(DEFAULT_LOCALE)!;
}

export function allMessages(): Messages[] {
  return LOCALES.map((locale) => byLocale.get(locale)!);
}
