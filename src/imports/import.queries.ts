import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

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

type Db = Kysely<Database> | Transaction<Database>;

/** Earlier imports of the same file or under the same Idempotency-Key, in this organisation. */
export function findEarlierImports(db: Db, organisationId: string, fingerprint: string, idempotencyKey: string | undefined) {
  return db
    .selectFrom('imports')
    .select(['id', 'fingerprint', 'idempotency_key', 'report'])
    .where('organisation_id', '=', organisationId)
    .where((eb) => eb.or([eb('fingerprint', '=', fingerprint), ...(idempotencyKey ? [eb('idempotency_key', '=', idempotencyKey)] : [])]))
    .execute();
}

/**
 * Claims the fingerprint and key first thing in the import's transaction: a concurrent import of
 * the same file waits here for this one to finish, then fails on the unique constraint.
 */
export function insertImport(
  trx: Transaction<Database>,
  values: { organisationId: string; fingerprint: string; idempotencyKey: string | undefined; format: string; fileName: string; createdBy: string },
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
    .set({ row_count: counts.rows, created_count: counts.created, rejected_count: counts.rejected, report: JSON.stringify(report) })
    .where('id', '=', id)
    .execute();
}

/** An import of the caller's organisation; another organisation's answers like a missing one. */
export function findOwnImport(db: Db, organisationId: string, id: string) {
  return db.selectFrom('imports').select(['id', 'report']).where('id', '=', id).where('organisation_id', '=', organisationId).executeTakeFirst();
}

/** Of the given incidents, those of the organisation that are drafts and not deleted. */
export async function draftIncidentIds(db: Db, organisationId: string, ids: readonly string[]) {
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
