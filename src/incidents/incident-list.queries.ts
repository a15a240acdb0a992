import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import { matchesFilters, relevance, type IncidentFilters } from './incident-filters.ts';
import { selectIncidentTree, visibleTo } from './incident.queries.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { documentsFor } from './incident-documents.ts';
import { selectDocumentRows } from './incident-documents.queries.ts';

/**
 * The sort expression, its SQL type, and the same value as text for the cursor. The cursor
 * keeps updated_at to the microsecond as PostgreSQL stores it: a JS Date holds milliseconds
 * only, and rows written within one millisecond would then be repeated or skipped.
 */
function sortColumn(sort: IncidentSort, q: string | undefined) {
  if (sort === 'relevance' && q) {
    const score = relevance(q);
    return { column: score, type: 'real', cursorKey: sql<string>`${score}::text` };
  }
  if (sort.endsWith('updated')) {
    return {
      column: sql.ref('incidents.updated_at'),
      type: 'timestamptz',
      cursorKey: sql<string>`to_char(incidents.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    };
  }
  return { column: sql.ref('incidents.date_start'), type: 'date', cursorKey: sql<string>`incidents.date_start::text` };
}

export type IncidentSort = 'date' | '-date' | 'updated' | '-updated' | 'relevance';

/** Where the previous page ended: the sort key of its last row and its id. */
export interface PageCursor {
  sort: IncidentSort;
  key: string | number;
  id: string;
}

export interface PageOptions {
  filters: IncidentFilters;
  sort: IncidentSort;
  limit: number;
  after?: PageCursor | undefined;
}

/**
 * One page of incidents with keyset pagination: the page after a cursor is "rows that sort
 * after the last row seen", so inserts and deletes elsewhere never repeat or skip a row.
 * Ties on the sort key are broken by id.
 */
export function listIncidentPage(db: DbOrTransaction, actor: Actor, options: PageOptions) {
  return keysetPage(selectIncidentTree(db, actor), actor, options);
}

/**
 * The same page as the readers' documents (incident-documents.ts): stored text for the public
 * and research views, shaped from the rows otherwise.
 */
export async function listIncidentDocumentPage(db: DbOrTransaction, actor: Actor, options: PageOptions) {
  const { rows, next } = await keysetPage(selectDocumentRows(db, actor), actor, options);
  return { documents: await documentsFor(db, actor, rows), next };
}

/** The same page as ids only, for answers that read their own columns (the list as CSV). */
export function listIncidentIdPage(db: DbOrTransaction, actor: Actor, options: PageOptions) {
  return keysetPage(db.selectFrom('incidents').select('incidents.id'), actor, options);
}

async function keysetPage<TB extends keyof Database, O extends { id: string }>(
  base: SelectQueryBuilder<Database, TB, O>,
  actor: Actor,
  { filters, sort, limit, after }: PageOptions,
) {
  const descending = sort.startsWith('-') || sort === 'relevance';
  const direction = descending ? 'desc' : 'asc';
  const comparison = descending ? '<' : '>';
  const { column, type, cursorKey } = sortColumn(sort, filters.q);

  // The incidents' own conditions, on a query that may also join other tables.
  const incidents = base as unknown as SelectQueryBuilder<Database, 'incidents', O>;
  let query = incidents
    .select(cursorKey.as('cursor_key'))
    .where(visibleTo(actor))
    .where(matchesFilters(filters, actor))
    .orderBy(column, direction)
    .orderBy('incidents.id', direction)
    .limit(limit + 1);
  if (after) {
    query = query.where(
      sql<SqlBool>`(${column}, incidents.id) ${sql.raw(comparison)} (${String(after.key)}::${sql.raw(type)}, ${after.id}::uuid)`,
    );
  }
  const rows = await query.execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next: PageCursor | undefined = rows.length > limit && last ? { sort, id: last.id, key: last.cursor_key } : undefined;
  return { rows: page, next };
}

export async function countIncidents(db: DbOrTransaction, actor: Actor, filters: IncidentFilters): Promise<number> {
  const { total } = await db
    .selectFrom('incidents')
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .where(visibleTo(actor))
    .where(matchesFilters(filters, actor))
    .executeTakeFirstOrThrow();
  return total;
}
