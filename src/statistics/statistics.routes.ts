import { Router } from 'express';
import type { Db } from '../db/create-db.ts';
import type { Response } from 'express';
import type { DataVersion } from '../db/data-version.ts';
import { chooseFormat, TABLE_FORMATS, tableFormatSchema } from '../http/response-format.ts';
import { answerIfUnchanged } from '../auth/conditional-read.ts';
import { readerFor } from '../auth/read-routing.ts';
import { parseInput } from '../validation.ts';
import { assertFiltersAllowed } from '../incidents/incident-filters.ts';
import { StatisticsCache } from './statistics-cache.ts';
import { statistics } from './statistics.queries.ts';
import { statisticsQuerySchema, type Dimension } from './statistics.schemas.ts';
import type { Counts, GroupRow } from './statistics.types.ts';
import { withCountryNames } from './country-labels.ts';
import { fillTimeSeries } from './time-series.ts';

/** Statistics answer JSON, or CSV with format=csv or Accept: text/csv. */
const statisticsRequestSchema = statisticsQuerySchema.extend(tableFormatSchema.shape);

/** The CSV writer (src/exports/statistics-csv.ts), passed in by src/app.ts: writers build on statistics, not the reverse. */
export type SendStatisticsCsv = (
  res: Response,
  result: { groupBy: Dimension[]; groups: GroupRow[]; totals: Counts; version: DataVersion },
) => void;

export function statisticsRoutes(db: Db, { sendCsv }: { sendCsv: SendStatisticsCsv }): Router {
  const router = Router();
  const cache = new StatisticsCache<Awaited<ReturnType<typeof statistics>>>();

  router.get('/', async (req, res) => {
    const { groupBy, includeDebunked, format: requested, ...filters } = parseInput(statisticsRequestSchema, req.query, 'query');
    assertFiltersAllowed(filters, req.actor);
    const format = chooseFormat(req, requested, TABLE_FORMATS);
    const reader = readerFor(db, req, { anyRole: true });
    const version = await answerIfUnchanged(reader, req, res);
    if (!version) return;
    const options = { groupBy, filters, includeDebunked };
    const result = await cache.get(cache.key(version.dataVersion, req.actor, options), () =>
      statistics(reader, req.actor, options, version.dataVersion),
    );
    const groups = groupBy.length
      ? withCountryNames(
          fillTimeSeries(result.groups, groupBy, { from: filters.dateFrom?.date_start, to: filters.dateTo?.date_end }),
          groupBy,
        )
      : [];
    if (format === 'csv') return sendCsv(res, { groupBy, groups, totals: result.totals, version });
    res.json({
      groupBy,
      groups,
      totals: result.totals,
      meta: { ...version, includeDebunked },
    });
  });

  return router;
}
