import type { Response } from 'express';
import type { DataVersion } from '../db/data-version.ts';
import type { Counts, GroupRow } from '../statistics/statistics.types.ts';
import type { Dimension } from '../statistics/statistics.schemas.ts';
import { sendCsv, type CsvColumn } from './csv.ts';

/**
 * Statistics as CSV: one column per groupBy dimension, then incidents, victims, victimsKilled;
 * one row per group, exactly the groups of the JSON answer. The totals are not a row of the
 * table (a sum row would be counted again by anyone summing the column, and group sums may
 * rightly exceed them), so they go in the X-Totals header: `incidents=12, victims=30, victimsKilled=4`.
 * Without groupBy the one row is the totals.
 */
const COUNTS = ['incidents', 'victims', 'victimsKilled'] as const;

export function sendStatisticsCsv(
  res: Response,
  result: { groupBy: Dimension[]; groups: GroupRow[]; totals: Counts; version: DataVersion },
): void {
  const { groupBy, groups, totals, version } = result;
  // A group by country also names it (countryName, as in the JSON).
  const names = [...groupBy.flatMap((name) => (name === 'country' ? ['country', 'countryName'] : [name])), ...COUNTS];
  const columns: CsvColumn<GroupRow>[] = names.map((name) => ({
    name,
    value: (row) => (row as Record<string, string | number | null>)[name] ?? null,
  }));
  res.set('X-Totals', COUNTS.map((name) => `${name}=${totals[name]}`).join(', ')).set('X-Data-Version', String(version.dataVersion));
  sendCsv(res, columns, groupBy.length ? groups : [totals], `dateline-statistics-${version.dataVersion}.csv`);
}
