import type { Request, Response } from 'express';
import type { DataVersion } from '../db/data-version.ts';
import { sendCsv } from './csv.ts';
import { incidentCsvColumns, type ShapedIncident } from './incident-csv.ts';

/**
 * GET /v1/incidents as CSV (format=csv or Accept: text/csv): one row per incident with the same
 * columns as the export, the next page in a Link header (rel="next"), the total
 * (includeTotal=true) in X-Total-Count and the data version in X-Data-Version.
 */
export interface IncidentPage {
  data: ShapedIncident[];
  nextCursor: string | null;
  total?: number;
  meta: DataVersion;
}

export function sendIncidentPageCsv(req: Request, res: Response, page: IncidentPage) {
  res.set('X-Data-Version', String(page.meta.dataVersion));
  if (page.total !== undefined) res.set('X-Total-Count', String(page.total));
  if (page.nextCursor) {
    const next = new URL(req.originalUrl, 'http://localhost');
    next.searchParams.set('cursor', page.nextCursor);
    res.links({ next: `${next.pathname}${next.search}` });
  }
  sendCsv(res, incidentCsvColumns(req.actor), page.data, `dateline-incidents-${page.meta.dataVersion}-page.csv`);
}
