import { z } from 'zod';
import { incidentFilterShape, type IncidentFilters } from '../incidents/incident-filters.ts';
import { DIMENSIONS, type Dimension } from '../statistics/statistics.schemas.ts';
import { DEFAULT_LOCALE, isLocale } from './i18n.ts';

/**
 * A site URL carries the same filter parameters as GET /v1/incidents (so a page's filters can be
 * handed to the API's export and statistics links unchanged), plus a few of its own: lang,
 * cursor, and the statistics page's choices. A parameter the site cannot use is dropped and
 * named on the page; the page still answers, since a reader followed a link.
 */
const SITE_PARAMETERS = ['lang', 'cursor', 'interval', 'rows', 'cols'] as const;
/** Filters the public may not use: they are never forwarded. */
const NOT_PUBLIC: readonly string[] = ['hasProtectedVictims'];
const filterNames = Object.keys(incidentFilterShape).filter((name) => !NOT_PUBLIC.includes(name));
const filtersSchema = z.strictObject(incidentFilterShape);

export interface SiteQuery {
  locale: string;
  filters: IncidentFilters;
  /** The accepted filter parameters as written, for links to the API and to other pages. */
  filterParams: URLSearchParams;
  cursor: string | undefined;
  interval: 'year' | 'month';
  rows: Dimension;
  cols: Dimension;
  problems: { parameter: string; detail: string }[];
}

/** Express's simple query parser gives a string, or an array for a repeated parameter. */
function flatten(query: Record<string, unknown>): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(query)) {
    const text = Array.isArray(value)
      ? value.filter((part) => typeof part === 'string' && part.trim()).join(',')
      : typeof value === 'string'
        ? value
        : '';
    if (text.trim() !== '') values.set(name, text.trim());
  }
  return values;
}

export function parseSiteQuery(query: Record<string, unknown>): SiteQuery {
  const values = flatten(query);
  const problems: SiteQuery['problems'] = [];
  const locale = isLocale(values.get('lang')) ? values.get('lang')! : DEFAULT_LOCALE;

  const candidates: Record<string, string> = {};
  for (const [name, value] of values) {
    if ((SITE_PARAMETERS as readonly string[]).includes(name)) continue;
    if (filterNames.includes(name)) candidates[name] = value;
    else problems.push({ parameter: name, detail: NOT_PUBLIC.includes(name) ? 'not available to the public' : 'unknown parameter' });
  }
  // Drop each parameter zod refuses, and parse what is left.
  let parsed = filtersSchema.safeParse(candidates);
  while (!parsed.success) {
    const refused = new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? '')));
    for (const issue of parsed.error.issues) problems.push({ parameter: String(issue.path[0] ?? ''), detail: issue.message });
    for (const name of refused) delete candidates[name];
    parsed = filtersSchema.safeParse(candidates);
  }
  const filterParams = new URLSearchParams(Object.entries(candidates).sort(([a], [b]) => a.localeCompare(b)));

  const dimension = (name: string, fallback: Dimension): Dimension => {
    const value = values.get(name);
    if (value === undefined) return fallback;
    if ((DIMENSIONS as readonly string[]).includes(value)) return value as Dimension;
    problems.push({ parameter: name, detail: 'unknown dimension' });
    return fallback;
  };
  let rows = dimension('rows', 'year');
  let cols = dimension('cols', 'attackType');
  const times = ['year', 'month'];
  if (rows === cols || (times.includes(rows) && times.includes(cols))) {
    problems.push({ parameter: 'cols', detail: 'choose two different dimensions (month already includes the year)' });
    [rows, cols] = ['year', 'attackType'];
  }
  const cursor = values.get('cursor');
  return {
    locale,
    filters: parsed.data,
    filterParams,
    cursor: cursor && cursor.length <= 500 ? cursor : undefined,
    interval: values.get('interval') === 'month' ? 'month' : 'year',
    rows,
    cols,
    problems,
  };
}

/** A site path with parameters; lang is added unless it is the default. */
export function siteHref(path: string, locale: string, params: URLSearchParams | Record<string, string> = {}): string {
  const search = new URLSearchParams(params instanceof URLSearchParams ? params : Object.entries(params));
  search.delete('lang');
  if (locale !== DEFAULT_LOCALE) search.set('lang', locale);
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/** An API path with the page's filters and more parameters. */
export function apiHref(path: string, filterParams: URLSearchParams, extra: Record<string, string> = {}): string {
  const search = new URLSearchParams(filterParams);
  for (const [name, value] of Object.entries(extra)) search.set(name, value);
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
