import { sql, type Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import type { IncidentFilters } from '../incidents/incident-filters.ts';
import { CSV_RECORD_END } from './csv.ts';
import { incidentCsvColumnNames, selectIncidentCsvLines, type ExportSort } from './incident-csv.ts';
import { csvLine, type CsvLineRow } from './sealed-csv-cells.ts';
import { readAhead } from './read-ahead.ts';

/**
 * The records of a CSV export, in chunks of text, read through a server-side cursor in the
 * caller's transaction (the same statements on PostgreSQL and on the embedded database), the
 * next FETCH read while this chunk is written (read-ahead.ts).
 *
 * cursor_tuple_fraction = 1: the whole result will be read, so PostgreSQL should plan for the
 * total time (hash-join incident_lists and sort: 13 s for 1M incidents) rather than for the first
 * rows (one incident_lists lookup per incident in date order: 19 s), which a cursor otherwise
 * favours. work_mem: the sort of a million lines spills less to disk. statement_timeout: the
 * first FETCH of a sorted export waits for the whole sort, longer than the API's statement
 * timeout allows any other statement.
 */
export const CSV_EXPORT_SETTINGS = [
  sql`set local cursor_tuple_fraction = 1`,
  sql`set local work_mem = '64MB'`,
  sql`set local statement_timeout = '10min'`,
];

export async function* incidentCsvChunks(
  trx: Transaction<Database>,
  actor: Actor,
  filters: IncidentFilters,
  sort: ExportSort,
  linesPerFetch: number,
): AsyncGenerator<string> {
  for (const setting of CSV_EXPORT_SETTINGS) await setting.execute(trx);
  const query = selectIncidentCsvLines(trx, actor, { kind: 'export', filters, sort });
  await sql`declare incident_csv no scroll cursor for ${query}`.execute(trx);

  const columnNames = incidentCsvColumnNames(actor);
  const fetch = () => sql<CsvLineRow>`fetch forward ${sql.lit(linesPerFetch)} from incident_csv`.execute(trx);
  for await (const { rows } of readAhead(fetch, (batch) => (batch.rows.length === linesPerFetch ? fetch : undefined))) {
    if (rows.length) yield rows.map((row) => csvLine(row, columnNames) + CSV_RECORD_END).join('');
  }
}
