import type { SendIncidentPageCsv } from '../incidents/incident.routes.ts';
import { CSV_CONTENT_TYPE, CSV_RECORD_END } from './csv.ts';
import { incidentCsvColumnNames, incidentCsvHead, selectIncidentCsvLines } from './incident-csv.ts';
import { csvLine } from './sealed-csv-cells.ts';

/**
 * GET /v1/incidents as CSV (format=csv or Accept: text/csv): one row per incident with the same
 * columns as the export, the next page in a Link header (rel="next"), the total
 * (includeTotal=true) in X-Total-Count and the data version in X-Data-Version. src/app.ts hands
 * it to the incident routes.
 */
export const sendIncidentPageCsv: SendIncidentPageCsv = async (db, req, res, page) => {
  const lines = page.ids.length ? await selectIncidentCsvLines(db, req.actor, { kind: 'page', ids: page.ids }).execute() : [];
  res.set('X-Data-Version', String(page.meta.dataVersion));
  if (page.total !== undefined) res.set('X-Total-Count', String(page.total));
  if (page.nextCursor) {
    const next = new URL(req.originalUrl, 'http://localhost');
    next.searchParams.set('cursor', page.nextCursor);
    res.links({ next: `${next.pathname}${next.search}` });
  }
  res
    .attachment(`dateline-incidents-${page.meta.dataVersion}-page.csv`)
    .type(CSV_CONTENT_TYPE)
    .send(incidentCsvHead(req.actor) + lines.map((row) => csvLine(row, incidentCsvColumnNames(req.actor)) + CSV_RECORD_END).join(''));
};
