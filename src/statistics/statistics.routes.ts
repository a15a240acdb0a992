import { Router } from 'express';
import type { Db } from '../db/create-db.ts';
import { answerIfUnchanged } from '../http/conditional.ts';
import { parseInput } from '../http/validate.ts';
import { assertFiltersAllowed } from '../incidents/incident-filters.ts';
import { statistics } from './statistics.queries.ts';
import { statisticsQuerySchema } from './statistics.schemas.ts';
import { fillTimeSeries } from './time-series.ts';

export function statisticsRoutes(db: Db): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const { groupBy, includeDebunked, ...filters } = parseInput(statisticsQuerySchema, req.query, 'query');
    assertFiltersAllowed(filters, req.actor);
    const version = await answerIfUnchanged(db, req, res);
    if (!version) return;
    const result = await statistics(db, req.actor, { groupBy, filters, includeDebunked });
    res.json({
      groupBy,
      groups: groupBy.length
        ? fillTimeSeries(result.groups, groupBy, { from: filters.dateFrom?.date_start, to: filters.dateTo?.date_end })
        : [],
      totals: result.totals,
      meta: { ...version, includeDebunked },
    });
  });

  return router;
}
