import { sql, type ColumnType, type Generated, type Transaction } from 'kysely';
import { openDocument, sealKeys } from '../crypto/sealed-document.ts';
import { sealedPlace } from '../crypto/sealed-value.ts';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';

/** Row type of the `imports` table (migrations/2026-11-26-0004-imports.ts). */
export interface ImportsTable {
  id: Generated<string>;
  organisation_id: string;
  fingerprint: string;
  idempotency_key: string | null;
  format: string;
  file_name: string;
  row_count: Generated<number>;
  created_count: Generated<number>;
  rejected_count: Generated<number>;
  report: ColumnType<unknown, string | null | undefined, string | null>;
  created_by: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

// The table belongs to this feature, so its type joins the Database interface from here.
declare module '../db/database.ts' {
  interface Database {
    imports: ImportsTable;
  }
}

/**
 * A report keeps the rejected rows' offending cells (`value`), which can be a protected victim's
 * name: they are sealed at rest (src/crypto/sealed-document.ts), the rest of the report is not.
 */
const reportPlace = (id: string) => sealedPlace('imports', 'report', id);
function storedReport(id: string, report: unknown): unknown {
  if (Array.isArray(report)) return report.map((item) => storedReport(id, item));
  if (!report || typeof report !== 'object') return report;
  const parts = Object.fromEntries(Object.entries(report).map(([key, value]) => [key, key === 'value' ? value : storedReport(id, value)]));
  return typeof parts.value === 'string' ? sealKeys(parts, ['value'], reportPlace(id)) : parts;
}
const withReadableReport = <T extends { id: string; report: unknown }>(row: T): T => ({
  ...row,
  report: openDocument(row.report, reportPlace(row.id)),
});

/** Earlier imports of the same file or under the same Idempotency-Key, in this organisation. */
export async function findEarlierImports(
  db: DbOrTransaction,
  organisationId: string,
  fingerprint: string,
  idempotencyKey: string | undefined,
) {
  const rows = await db
    .selectFrom('imports')
    .select(['id', 'fingerprint', 'idempotency_key', 'report'])
    .where('organisation_id', '=', organisationId)
    .where((eb) => eb.or([eb('fingerprint', '=', fingerprint), ...(idempotencyKey ? [eb('idempotency_key', '=', idempotencyKey)] : [])]))
    .execute();
  return rows.map(withReadableReport);
}

/**
 * One import at a time per organisation, until the transaction ends. Two imports running side
 * by side would each look for duplicates among what was committed before they began, so the
 * same incident in two files sent together would be created twice, unflagged; the second now
 * waits and then finds the first's incidents.
 */
export async function lockOrganisationImports(trx: Transaction<Database>, organisationId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`dateline.import:${organisationId}`}, 0))`.execute(trx);
}

/**
 * Claims the fingerprint and key first thing in the import's transaction: a concurrent import of
 * the same file waits here for this one to finish, then fails on the unique constraint.
 */
export function insertImport(
  trx: Transaction<Database>,
  values: {
    organisationId: string;
    fingerprint: string;
    idempotencyKey: string | undefined;
    format: string;
    fileName: string;
    createdBy: string | null;
  },
) {
  return trx
    .insertInto('imports')
    .values({
      organisation_id: values.organisationId,
      fingerprint: values.fingerprint,
      idempotency_key: values.idempotencyKey ?? null,
      format: values.format,
      file_name: values.fileName,
      created_by: values.createdBy,
      created_at: new Date(),
    })
    .returning(['id', 'created_at'])
    .executeTakeFirstOrThrow();
}

export async function completeImport(
  trx: Transaction<Database>,
  id: string,
  counts: { rows: number; created: number; rejected: number },
  report: unknown,
) {
  await trx
    .updateTable('imports')
    .set({
      row_count: counts.rows,
      created_count: counts.created,
      rejected_count: counts.rejected,
      report: JSON.stringify(storedReport(id, report)),
    })
    .where('id', '=', id)
    .execute();
}

/** A page of an organisation's imports, newest first, after the keyset position `after`. */
export function listImportRows(
  db: DbOrTransaction,
  organisationId: string,
  page: { limit: number; after?: { createdAt: string; id: string } | undefined },
) {
  let query = db
    .selectFrom('imports')
    .select(['id', 'format', 'file_name', 'row_count', 'created_count', 'rejected_count', 'created_at', 'created_by'])
    .where('organisation_id', '=', organisationId);
  if (page.after) {
    const { createdAt, id } = page.after;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(createdAt), id)));
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

/** An import of the caller's organisation; another organisation's answers like a missing one. */
export async function findOwnImport(db: DbOrTransaction, organisationId: string, id: string) {
  const row = await db
    .selectFrom('imports')
    .select(['id', 'report'])
    .where('id', '=', id)
    .where('organisation_id', '=', organisationId)
    .executeTakeFirst();
  return row && withReadableReport(row);
}

/** Of the given incidents, those of the organisation that are drafts and not deleted. */
export async function draftIncidentIds(db: DbOrTransaction, organisationId: string, ids: readonly string[]) {
  const found: string[] = [];
  // In chunks: PostgreSQL takes at most 65,535 parameters in one statement.
  for (let start = 0; start < ids.length; start += 10_000) {
    const rows = await db
      .selectFrom('incidents')
      .select('id')
      .where('id', 'in', ids.slice(start, start + 10_000))
      .where('organisation_id', '=', organisationId)
      .where('visibility', '=', 'draft')
      .where('deleted_at', 'is', null)
      .execute();
    found.push(...rows.map((row) => row.id));
  }
  return found;
}

/**
 * The planner chooses by table statistics, which say nothing of the rows an open import has
 * added: on a new or small database it keeps planning for empty tables, and the lookups of
 * duplicate detection degrade to scans, so one import of a few thousand rows took hours on
 * PostgreSQL. ANALYZE inside the transaction counts its own new rows; the import runs it as the
 * tables double (at 256, 512, 1024... rows created, or the first batch past each), a dozen times
 * for 100,000 rows. A table the database user does not own is skipped with a warning, not an error.
 */
export async function refreshStatisticsIfGrown(trx: Transaction<Database>, created: number, before = created - 1) {
  const doublings = (count: number) => Math.floor(Math.log2(Math.max(1, count)));
  if (created >= 256 && doublings(created) > doublings(before)) await sql`analyze incidents, victims`.execute(trx);
}
