import { sql, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import { filterConditions, relevance, type IncidentFilters } from './incident-filters.ts';
import { selectIncidentTree, visibleTo } from './incident.queries.ts';

type Db = Kysely<Database> | Transaction<Database>;

export type IncidentSort = 'date' | '-date' | 'updated' | '-updated' | 'relevance';

/** Where the previous page ended: the sort key of its last row and its id. */
export interface PageCursor {
  sort: IncidentSort;
  key: string | number;
  id: string;
}

/**
 * One page of incidents with keyset pagination: the page after a cursor is "rows that sort
 * after the last row seen", so inserts and deletes elsewhere never repeat or skip a row.
 * Ties on the sort key are broken by id.
 */
export async function listIncidentPage(
  db: Db,
  actor: Actor,
  options: { filters: IncidentFilters; sort: IncidentSort; limit: number; after?: PageCursor | undefined },
) {
  const { filters, sort, limit, after } = options;
  const descending = sort.startsWith('-') || sort === 'relevance';
  const direction = descending ? 'desc' : 'asc';
  const comparison = descending ? '<' : '>';
  const sortKey =
    sort === 'relevance' && filters.q
      ? relevance(filters.q)
      : sort.endsWith('updated')
        ? ('incidents.updated_at' as const)
        : ('incidents.date_start' as const);

  let query = selectIncidentTree(db)
    .select(sortKey === 'incidents.updated_at' || sortKey === 'incidents.date_start' ? [] : [sortKey.as('relevance')])
    .where(visibleTo(actor))
    .where((eb) => eb.and(filterConditions(eb, filters, actor)))
    .orderBy(sortKey, direction)
    .orderBy('incidents.id', direction)
    .limit(limit + 1);
  if (after) {
    const column = typeof sortKey === 'string' ? sql.ref(sortKey) : sortKey;
    const type = sql.raw(sortKey === 'incidents.updated_at' ? 'timestamptz' : sortKey === 'incidents.date_start' ? 'date' : 'real');
    query = query.where(
      sql<SqlBool>`(${column}, incidents.id) ${sql.raw(comparison)} (${after.key}::${type}, ${after.id}::uuid)`,
    );
  }
  const rows = await query.execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next: PageCursor | undefined =
    rows.length > limit && last
      ? {
          sort,
          id: last.id,
          key:
            sortKey === 'incidents.updated_at'
              ? last.updated_at.toISOString()
              : sortKey === 'incidents.date_start'
                ? last.date_start
                : Number((last as { relevance?: number }).relevance),
        }
      : undefined;
  return { rows: page, next };
}

export async function countIncidents(db: Db, actor: Actor, filters: IncidentFilters): Promise<number> {
  const { total } = await db
    .selectFrom('incidents')
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .where(visibleTo(actor))
    .where((eb) => eb.and(filterConditions(eb, filters, actor)))
    .executeTakeFirstOrThrow();
  return total;
}
