import { sql, type Insertable, type Transaction } from 'kysely';
import { auditColumns, type AuditEntry, type WriteContext } from '../audit/audit.queries.ts';
import type { Database, IncidentsTable, PerpetratorClaimsTable, SourcesTable } from '../db/database.ts';
import type { DuplicatesDatabase } from '../duplicates/duplicate.tables.ts';

/**
 * The inserts of incident-batch.ts: one statement per table for a whole batch of incidents. The
 * rows travel as one JSON document (jsonb_populate_recordset turns it into rows of the table's
 * own type), which PostgreSQL reads faster than thousands of bind parameters and which has no
 * 65,535-parameter limit. Ids come with the rows, so nothing is read back.
 */
export interface IncidentBatchRows {
  incidents: Array<Insertable<IncidentsTable> & { id: string }>;
  victims: Array<Insertable<DuplicatesDatabase['victims']>>;
  claims: Array<Insertable<PerpetratorClaimsTable>>;
  sources: Array<Insertable<SourcesTable>>;
  audit: Array<{ context: WriteContext; entry: AuditEntry }>;
}

/** Inserts rows (objects with the same keys, named as the columns) in the order given. */
async function insertRows(trx: Transaction<Database>, table: string, rows: readonly object[]) {
  if (rows.length === 0) return;
  const columns = sql.join(Object.keys(rows[0]!).map((column) => sql.id(column)));
  await sql`insert into ${sql.table(table)} (${columns})
    select ${columns} from jsonb_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)}::jsonb) with ordinality
    order by ordinality`.execute(trx);
}

export async function insertIncidentBatch(trx: Transaction<Database>, rows: IncidentBatchRows) {
  // Parents first: the children's foreign keys point at them.
  await insertRows(trx, 'incidents', rows.incidents);
  await insertRows(trx, 'victims', rows.victims);
  await insertRows(trx, 'perpetrator_claims', rows.claims);
  await insertRows(trx, 'sources', rows.sources);
  // The documents go in as JSON objects, not as JSON text; the order gives the audit ids.
  await insertRows(trx, 'audit_log', rows.audit.map(({ context, entry }) => ({ ...auditColumns(context, entry), before: entry.before ?? null, after: entry.after ?? null })));
}
