import { sql, type SqlBool, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { visibleTo } from '../incidents/incident.queries.ts';
import { MIN_NAME_SIMILARITY } from './duplicate-score.ts';

/**
 * Cheap SQL prefilters for duplicate candidates; scoring happens in TypeScript. Every query
 * filters with visibleTo, so candidates are only incidents the caller may read (live, not
 * merged). victims.name_key is the normalised name with its words sorted (name-key.ts).
 *
 * On create and import (the hot path) two bounded lookups run: the same name anywhere (btree
 * equality), and similar names among incidents in the same country with overlapping dates
 * (the (country, date_start) index, then pg_trgm similarity on those few victims). The ranked
 * list adds a trigram-index search over every name, which costs more as the table grows.
 */
const MAX_NAME_KEYS = 20;
/** How far before the subject a candidate may start and still overlap it: longer ranges are rare. */
const WINDOW_DAYS = 366;

export interface CandidateSearch {
  id: string;
  country: string;
  dateStart: string;
  dateEnd: string;
  attackTypes: string[];
  /** The subject's victim names as name keys, as far as the caller may use them. */
  nameKeys: string[];
}

/** The columns scoring needs, and a summary a reviewer recognises the incident by. */
export function selectCandidates(db: DbOrTransaction, actor: Actor, excludeId: string) {
  return db
    .selectFrom('incidents')
    .innerJoin('organisations', 'organisations.id', 'incidents.organisation_id')
    .select((eb) => [
      'incidents.id',
      'incidents.organisation_id',
      'organisations.name as organisation_name',
      'incidents.title',
      'incidents.date_start',
      'incidents.date_end',
      'incidents.date_precision',
      'incidents.country',
      'incidents.city',
      'incidents.attack_types',
      jsonArrayFrom(
        eb
          .selectFrom('victims')
          .select(['victims.name', 'victims.name_original', 'victims.aliases', 'victims.protected'])
          .whereRef('victims.incident_id', '=', 'incidents.id')
          .orderBy('victims.position'),
      ).as('victims'),
    ])
    .where('incidents.id', '<>', excludeId)
    .where(visibleTo(actor));
}

export type CandidateRow = Awaited<ReturnType<ReturnType<typeof selectCandidates>['execute']>>[number];

const nameKey = sql.ref('victims.name_key');
const keysOf = (search: CandidateSearch) => [...new Set(search.nameKeys)].slice(0, MAX_NAME_KEYS);
const sameCountryOrOverlapping = (search: CandidateSearch) => sql<SqlBool>`(incidents.country = ${search.country}
  or (incidents.date_start <= ${search.dateEnd} and incidents.date_end >= ${search.dateStart}))`;

/** A victim with exactly the same name key, in the same country or with overlapping dates. */
export async function findCandidatesBySameName(db: DbOrTransaction, actor: Actor, search: CandidateSearch, limit: number) {
  const keys = keysOf(search);
  if (keys.length === 0) return [];
  return selectCandidates(db, actor, search.id)
    .where('incidents.id', 'in', db.selectFrom('victims').select('victims.incident_id').where(nameKey, 'in', keys))
    .where(sameCountryOrOverlapping(search))
    .orderBy('incidents.id')
    .limit(limit)
    .execute();
}

/**
 * Same country, overlapping dates, and either a victim whose name is similar to one of the
 * subject's (`names`) or, for the ranked list, a shared attack type whatever the names.
 */
export async function findCandidatesNearby(db: DbOrTransaction, actor: Actor, search: CandidateSearch, match: 'names' | 'attackType', limit: number) {
  const keys = keysOf(search);
  if (match === 'names' && keys.length === 0) return [];
  const windowStart = new Date(Date.parse(`${search.dateStart}T00:00:00Z`) - WINDOW_DAYS * 86_400_000).toISOString().slice(0, 10);
  const query = selectCandidates(db, actor, search.id)
    .where('incidents.country', '=', search.country)
    .where('incidents.date_start', '>=', windowStart)
    .where('incidents.date_start', '<=', search.dateEnd)
    .where('incidents.date_end', '>=', search.dateStart);
  const matching =
    match === 'names'
      ? query.where((eb) =>
          eb.exists(
            eb
              .selectFrom('victims')
              .select(sql.lit(1).as('one'))
              .whereRef('victims.incident_id', '=', 'incidents.id')
              .where(sql<SqlBool>`(${sql.join(keys.map((key) => sql`similarity(${nameKey}, ${key}) >= ${MIN_NAME_SIMILARITY}`), sql` or `)})`),
          ),
        )
      : query.where(sql<SqlBool>`incidents.attack_types && ${sql.val(search.attackTypes)}::text[]`);
  return matching.orderBy(sql`abs(incidents.date_start - ${search.dateStart}::date)`).orderBy('incidents.id').limit(limit).execute();
}

/**
 * Every victim whose name is trigram-similar (the GIN index on name_key), in the same country
 * or with overlapping dates, closest first. pg_trgm's `%` prunes with the session's threshold;
 * it is raised to MIN_NAME_SIMILARITY for this query only (at the default 0.3 every "Ahmad ..."
 * passes and the planner scans the table), then put back.
 */
export async function findCandidatesBySimilarName(db: DbOrTransaction, actor: Actor, search: CandidateSearch, limit: number) {
  const keys = keysOf(search);
  if (keys.length === 0) return [];
  return inTransaction(db, async (trx) => {
    const { rows } = await sql<{ previous: string | null }>`select current_setting('pg_trgm.similarity_threshold', true) as previous,
      set_config('pg_trgm.similarity_threshold', ${String(MIN_NAME_SIMILARITY)}, true)`.execute(trx);
    try {
      return await similarNames(trx, actor, search, keys, limit);
    } finally {
      await sql`select set_config('pg_trgm.similarity_threshold', ${rows[0]?.previous || '0.3'}, true)`.execute(trx);
    }
  });
}

function similarNames(trx: Transaction<Database>, actor: Actor, search: CandidateSearch, keys: string[], limit: number) {
  const matches = trx
    .selectFrom('victims')
    .select([
      'victims.incident_id',
      sql<number>`max(greatest(${sql.join(keys.map((key) => sql`similarity(${nameKey}, ${key})`))}))`.as('similarity'),
    ])
    .where(sql<SqlBool>`(${sql.join(keys.map((key) => sql`${nameKey} % ${key}`), sql` or `)})`)
    .groupBy('victims.incident_id');
  return selectCandidates(trx, actor, search.id)
    .innerJoin(matches.as('matches'), 'matches.incident_id', 'incidents.id')
    .where(sameCountryOrOverlapping(search))
    .orderBy('matches.similarity', 'desc')
    .orderBy('incidents.id')
    .limit(limit)
    .execute();
}
