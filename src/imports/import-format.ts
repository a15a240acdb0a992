import type { CsvRecord } from './csv-records.ts';

/**
 * What every import format provides: it turns one CSV record into a candidate create-incident
 * body (checked afterwards by the same createIncidentSchema as POST /v1/incidents), and says
 * which column each field came from, so a schema message such as "victims.0.gender: invalid"
 * can be reported as column "gender".
 */
export interface CellError {
  /** The column at fault, as named in the header; "(row)" for the row as a whole. */
  column: string;
  /** The offending cell, shortened; absent when the problem is a missing value. */
  value?: string;
  reason: string;
}

export interface RowConversion {
  incident: Record<string, unknown>;
  errors: CellError[];
}

export interface ImportFormat {
  /** Columns the header must have; without them no row can be read. */
  requiredColumns: readonly string[];
  /** Whether the format reads this column; the others are listed in the report as ignored. */
  readsColumn(column: string): boolean;
  convert(record: CsvRecord): RowConversion;
  /** The column that fed a field, for messages of the incident schema. */
  columnOf(path: readonly PropertyKey[]): string;
}

export const ROW = '(row)';

export function shorten(value: string, max = 120): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** Collects the problems of one row; `value` is shortened so a report stays readable. */
export function rowErrors() {
  const errors: CellError[] = [];
  return {
    errors,
    add(column: string, reason: string, value?: string) {
      errors.push({ column, ...(value ? { value: shorten(value) } : {}), reason });
    },
  };
}
export type RowErrors = ReturnType<typeof rowErrors>;

/** Spelling-tolerant key for labels such as "Media Worker" or " media  worker". */
export const labelKey = (value: string) =>
  value
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');

/**
 * A cell through a table of accepted labels: '' is null, an unknown label is an error (and
 * undefined), so a value is never guessed.
 */
export function lookupLabel<T>(
  errors: RowErrors,
  column: string,
  raw: string,
  table: Record<string, T>,
  expected: string,
): T | null | undefined {
  if (raw === '') return null;
  const key = labelKey(raw);
  if (Object.hasOwn(table, key)) return table[key];
  errors.add(column, `not a known value; expected ${expected}`, raw);
  return undefined;
}

/**
 * Maps a schema path to the column that fed it, from a table of dotted paths in which `*`
 * stands for any list index ("victims.*.gender"); the longest matching entry wins.
 */
export function columnResolver(table: Record<string, string>, fallback: string) {
  const entries = Object.entries(table).sort(([a], [b]) => b.length - a.length);
  return (path: readonly PropertyKey[]): string => {
    const dotted = path.map((segment) => (typeof segment === 'number' ? '*' : String(segment))).join('.');
    const match = entries.find(([prefix]) => dotted === prefix || dotted.startsWith(`${prefix}.`));
    return match ? match[1] : fallback;
  };
}
