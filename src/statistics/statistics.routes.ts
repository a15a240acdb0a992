import { Router } from 'express';
import type { Db } from '../db/create-db.ts';
import { TABLE_FORMATS, tableFormatSchema } from '../exports/export.schemas.ts';
import { chooseFormat } from '../http/response-format.ts';
import { sendStatisticsCsv } from '../exports/statistics-csv.ts';
import { answerIfUnchanged } from '../http/conditional.ts';
import { parseInput } from '../http/validate.ts';
import { assertFiltersAllowed } from '../incidents/incident-filters.ts';
import { StatisticsCache } from './statistics-cache.ts';
import { statistics } from './statistics.queries.ts';
import { statisticsQuerySchema } from './statistics.schemas.ts';
import { fillTimeSeries } from './time-series.ts';

/** Statistics answer JSON, or CSV with format=csv or Accept: text/csv. */
const statisticsRequestSchema = statisticsQuerySchema.extend(tableFormatSchema.shape);

export function statisticsRoutes(db: Db): Router {
  const router = Router();
  const cache = new StatisticsCache<Awaited<ReturnType<typeof statistics>>>();

  router.get('/', async (req, res) => {
    const { groupBy, includeDebunked, format: requested, ...filters } = parseInput(statisticsRequestSchema, req.query, 'query');
    assertFiltersAllowed(filters, req.actor);
    const format = chooseFormat(req, requested, TABLE_FORMATS);
    const version = await answerIfUnchanged(db, req, res);
    if (!version) return;
    const options = { groupBy, filters, includeDebunked };
    const result = await cache.get(cache.key(version.dataVersion, req.actor, options), () => statistics(db, req.actor, options));
    const groups = groupBy.length
      ? fillTimeSeries(result.groups, groupBy, { from: filters.dateFrom?.date_start, to: filters.dateTo?.date_end })
      : [];
    if (format === 'csv') return sendStatisticsCsv(res, { groupBy, groups, totals: result.totals, version });
    res.json({
      groupBy,
      groups,
      totals: result.totals,
      meta: { ...version, includeDebunked },
    });
  });

  return router;
}
