import type { Dimension } from './statistics.schemas.ts';
import type { GroupRow } from './statistics.types.ts';

/**
 * A time series a researcher can plot: every year (or month) between the first and last one,
 * or between the dateFrom/dateTo filter when given, with zero counts where nothing happened.
 * With a second dimension, each of its values gets the full series. Unknown periods (null)
 * stay as their own group.
 */
export function fillTimeSeries(
  rows: GroupRow[],
  groupBy: Dimension[],
  bounds: { from?: string | undefined; to?: string | undefined },
): GroupRow[] {
  const time = groupBy.find((name) => name === 'year' || name === 'month');
  if (!time) return rows;
  const other = groupBy.find((name) => name !== time);

  const known = rows.map((row) => row[time]).filter((value): value is string | number => value !== null && value !== undefined);
  const first = bounds.from ? periodOf(time, bounds.from) : known.map(String).sort()[0];
  const last = bounds.to ? periodOf(time, bounds.to) : known.map(String).sort().at(-1);
  if (!first || !last) return rows;
  const periods = enumeratePeriods(time, first, last);
  if (periods.length > 5000) return rows; // a runaway range: return what exists rather than a huge zero table

  const key = (row: GroupRow) => JSON.stringify([String(row[time]), other ? row[other] : null]);
  const existing = new Map(rows.map((row) => [key(row), row]));
  const otherValues = other ? [...new Set(rows.map((row) => row[other] ?? null))] : [null];

  const filled: GroupRow[] = [];
  for (const otherValue of otherValues) {
    for (const period of periods) {
      const value = time === 'year' ? Number(period) : period;
      const found = existing.get(JSON.stringify([String(value), otherValue]));
      const values: Record<string, unknown> = { [time]: value, ...(other ? { [other]: otherValue } : {}) };
      filled.push(
        found ?? { ...Object.fromEntries(groupBy.map((name) => [name, values[name]])), incidents: 0, victims: 0, victimsKilled: 0 },
      );
    }
  }
  const unknownPeriod = rows.filter((row) => row[time] === null);
  const outOfRange = rows.filter((row) => row[time] !== null && !periods.includes(String(row[time])));
  return sortRows([...filled, ...unknownPeriod, ...outOfRange], groupBy);
}

function periodOf(time: 'year' | 'month', day: string): string {
  return time === 'year' ? day.slice(0, 4) : day.slice(0, 7);
}

function enumeratePeriods(time: 'year' | 'month', first: string, last: string): string[] {
  const periods: string[] = [];
  if (time === 'year') {
    for (let year = Number(first); year <= Number(last); year++) periods.push(String(year));
    return periods;
  }
  let [year, month] = first.split('-').map(Number) as [number, number];
  const [lastYear, lastMonth] = last.split('-').map(Number) as [number, number];
  while (year < lastYear || (year === lastYear && month <= lastMonth)) {
    periods.push(`${year}-${String(month).padStart(2, '0')}`);
    month++;
    if (month > 12) [year, month] = [year + 1, 1];
  }
  return periods;
}

/** Same order as SQL "order by 1, 2 nulls last". */
function sortRows(rows: GroupRow[], groupBy: Dimension[]): GroupRow[] {
  const compare = (a: unknown, b: unknown) => {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1;
    if (b === null || b === undefined) return -1;
    return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
  };
  return rows.sort((a, b) => {
    for (const name of groupBy) {
      const order = compare(a[name], b[name]);
      if (order) return order;
    }
    return 0;
  });
}
