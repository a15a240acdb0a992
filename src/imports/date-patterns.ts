/**
 * Date formats for mapped imports, written with tokens: YYYY (year), MM or M (month number),
 * MMM or MMMM (English month name: "Sep", "September"), DD or D (day). Anything else is literal
 * text: "DD/MM/YYYY", "D MMMM YYYY", "YYYY-MM", "YYYY". A format without a day gives month
 * precision, one without a month gives year precision: nobody has to invent a day.
 */
export type DatePrecision = 'day' | 'month' | 'year';

export interface DateValue {
  precision: DatePrecision;
  /** "YYYY-MM-DD", "YYYY-MM" or "YYYY", as the incident schema takes it. */
  value: string;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const TOKENS: Record<string, string> = {
  YYYY: '(?<year>\\d{4})',
  MMMM: '(?<monthName>[A-Za-z]+\\.?)',
  MMM: '(?<monthName>[A-Za-z]+\\.?)',
  MM: '(?<month>\\d{2})',
  M: '(?<month>\\d{1,2})',
  DD: '(?<day>\\d{2})',
  D: '(?<day>\\d{1,2})',
};
const TOKEN = /YYYY|MMMM|MMM|MM|M|DD|D/g;

export interface DatePattern {
  pattern: string;
  precision: DatePrecision;
  parse(text: string): DateValue | undefined;
}

/** Throws with a readable message if the pattern cannot work (no year, a token twice). */
export function compileDatePattern(pattern: string): DatePattern {
  const tokens: string[] = pattern.match(TOKEN) ?? [];
  if (!tokens.includes('YYYY')) throw new Error('a date format needs YYYY');
  const kinds = tokens.map((token) => token[0]);
  if (new Set(kinds).size !== kinds.length) throw new Error('each of year, month and day may appear once');
  const hasMonth = kinds.includes('M');
  if (kinds.includes('D') && !hasMonth) throw new Error('a format with a day needs a month');
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  let source = '';
  let last = 0;
  for (const match of pattern.matchAll(TOKEN)) {
    source += literal(pattern.slice(last, match.index)) + TOKENS[match[0]];
    last = match.index + match[0].length;
  }
  const regex = new RegExp(`^${source}${literal(pattern.slice(last))}$`, 'i');
  const precision: DatePrecision = kinds.includes('D') ? 'day' : hasMonth ? 'month' : 'year';

  return {
    pattern,
    precision,
    parse(text) {
      const groups = regex.exec(text.trim())?.groups;
      if (!groups) return undefined;
      const year = groups.year!;
      if (precision === 'year') return { precision, value: year };
      const month = groups.month ? Number(groups.month) : monthFromName(groups.monthName!);
      if (!month || month > 12) return undefined;
      const yearMonth = `${year}-${String(month).padStart(2, '0')}`;
      if (precision === 'month') return { precision, value: yearMonth };
      const day = Number(groups.day);
      const value = `${yearMonth}-${String(day).padStart(2, '0')}`;
      const date = new Date(`${value}T00:00:00Z`);
      return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value ? { precision, value } : undefined;
    },
  };
}

function monthFromName(name: string): number | undefined {
  const key = name.toLowerCase().replace(/\.$/, '');
  if (key.length < 3) return undefined;
  const index = MONTHS.findIndex((month) => month.startsWith(key));
  return index === -1 ? undefined : index + 1;
}

/** A day or month made less precise, when the file says the exact date is unknown. */
export function coarsen(date: DateValue, precision: 'month' | 'year'): DateValue {
  if (precision === 'year' || date.precision === 'year') return { precision: 'year', value: date.value.slice(0, 4) };
  return { precision: 'month', value: date.value.slice(0, 7) };
}
