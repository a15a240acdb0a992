import { sql, type Expression, type ExpressionBuilder, type SqlBool, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { visibleTo } from '../incidents/incident.queries.ts';
import { victimOpenTo } from '../incidents/access.queries.ts';
import { MIN_NAME_SIMILARITY } from './duplicate-score.ts';
import { skeletonKey } from '../incidents/name-key.ts';
import { skeletonTokens } from '../incidents/sealed-fields.ts';

/**
 * Cheap SQL prefilters for duplicate candidates; scoring happens in TypeScript. Every query
 * filters with visibleTo, so candidates are only incidents the caller may read (live, not
 * merged). victims.name_key is the name's consonant skeleton, words sorted (name-key.ts): the
 * same name in any spelling or script has one key ("Naji Jerf", "Naji Jarf", "ناجي الجرف": "jrf nj").
 *
 * On create and import (the hot path) two bounded lookups run: the same name anywhere (btree
 * equality), and similar names among incidents in the same country with overlapping dates
 * (the (country, date_start) index, then pg_trgm similarity on those few victims). The ranked
 * list adds a trigram-index search over every name, which costs more as the table grows.
 */
const MAX_NAME_KEYS = 20;
/**
 * The nearby prefilter compares skeleton keys, which are short, while scoring also takes the
 * trigram similarity of the readable names (a typo in a vowel moves a readable key, not a
 * skeleton): so it lets through skeleton similarities from this lower bar, and scoring decides.
 * Over test/fixtures/name-variants.json every pair scoring >= MIN_NAME_SIMILARITY has a
 * skeleton similarity >= 0.3 (test/name-variants.test.ts checks it).
 */
export const NEARBY_SKELETON_SIMILARITY = 0.3;
/** How far before the subject a candidate may start and still overlap it: longer ranges are rare. */
const WINDOW_DAYS = 366;

export interface CandidateSearch {
  id: string;
  country: string;
  dateStart: string;
  dateEnd: string;
  attackTypes: string[];
  /**
   * The subject's victim names as readable name keys (nameForms' `key`), as far as the caller
   * may use them; the prefilters compare their skeletons (skeletonKey) with name_key.
   */
  nameKeys: string[];
}

/** The columns scoring needs, and a summary a reviewer recognises the incident by. */
export function selectCandidates(db: DbOrTransaction, actor: Actor, excludeId?: string) {
  const query = db
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
          // A protected victim's names are sealed (identity_sealed); duplicate.service.ts opens them.
          .select([
            'victims.id',
            'victims.name',
            'victims.name_original',
            'victims.aliases',
            'victims.outlet',
            'victims.nationality',
            'victims.protected',
            'victims.identity_sealed',
          ])
          .whereRef('victims.incident_id', '=', 'incidents.id')
          // Scoring drops protected victims the caller may not know; access groups are decided here.
          .where(victimOpenTo(actor, 'victims', 'incidents'))
          .orderBy('victims.position'),
      ).as('victims'),
    ])
    .where(visibleTo(actor));
  return excludeId ? query.where('incidents.id', '<>', excludeId) : query;
}

export type CandidateRow = Awaited<ReturnType<ReturnType<typeof selectCandidates>['execute']>>[number];

/**
 * What the prefilters compare with: bound values for one subject (CandidateSearch), or the
 * columns of a table of subjects for a whole import batch (findCandidatePairs). One set of
 * filters serves both, so a batch finds exactly what one create at a time would.
 */
interface SearchTerms {
  country: Expression<string>;
  dateStart: Expression<string>;
  dateEnd: Expression<string>;
  keys: Expression<string[]>;
  /** The keys' blind-index tokens: a protected victim's name_key is empty, its name_blind holds these (src/incidents/sealed-fields.ts). */
  tokens: Expression<string[]>;
}

const nameKey = sql.ref('victims.name_key');

/**
 * Victims whose names the caller may match on. A protected victim's name counts only for its
 * own organisation: scoring leaves it out for others, and so must these prefilters, or a
 * candidate found by that name alone (with a low score) would show that the incident holds it.
 * `owner` is the incidents row the victim belongs to.
 */
function matchableVictim(actor: Actor, owner: 'incidents' | 'owner') {
  // Its own organisation's protected victims, unless an access group closes them to the caller.
  return victimOpenTo(actor, 'victims', owner);
}
const keysOf = (search: CandidateSearch) => [...new Set(search.nameKeys.map(skeletonKey))].slice(0, MAX_NAME_KEYS);
const termsOf = (search: CandidateSearch): SearchTerms => ({
  country: sql<string>`${search.country}`,
  dateStart: sql<string>`${search.dateStart}::date`,
  dateEnd: sql<string>`${search.dateEnd}::date`,
  keys: sql<string[]>`${keysOf(search)}::text[]`,
  tokens: sql<string[]>`${skeletonTokens(keysOf(search))}::text[]`,
});
type Match = (eb: ExpressionBuilder<Database, 'incidents'>) => Expression<SqlBool>;

const sameCountryOrOverlapping = (terms: SearchTerms) => sql<SqlBool>`(incidents.country = ${terms.country}
  or (incidents.date_start <= ${terms.dateEnd} and incidents.date_end >= ${terms.dateStart}))`;

/**
 * A victim with exactly the same name key, in the same country or with overlapping dates.
 * `id = any(array(...))` rather than `in (...)`: the victims are found first, through the name-key
 * indexes, and their incidents by primary key. With `in`, the planner of an import batch's lateral
 * lookup (findCandidatePairs) started from the incidents in the same country or starting before
 * the subject's end (half the table) and scanned the victims once per subject: 11 ms per imported
 * row at 20,000 rows, growing with the table (BENCHMARKS.md, imports).
 */
const sameName =
  (terms: SearchTerms, actor: Actor): Match =>
  (eb) =>
    eb.and([
      sql<SqlBool>`incidents.id = any(array(${eb
        .selectFrom('victims')
        .innerJoin('incidents as owner', 'owner.id', 'victims.incident_id')
        .select('victims.incident_id')
        .where(sql<SqlBool>`(${nameKey} = any(${terms.keys}) or victims.name_blind && ${terms.tokens})`)
        .where(matchableVictim(actor, 'owner'))}))`,
      sameCountryOrOverlapping(terms),
    ]);

/**
 * Same country, overlapping dates (starting at most WINDOW_DAYS before the subject), and either
 * a victim whose name is similar to one of the subject's (`names`) or a shared attack type.
 */
const nearby =
  (terms: SearchTerms, actor: Actor, match: 'names' | { attackTypes: string[] }): Match =>
  (eb) =>
    eb.and([
      eb('incidents.country', '=', terms.country),
      eb('incidents.date_start', '>=', sql<string>`${terms.dateStart} - ${sql.lit(WINDOW_DAYS)}`),
      eb('incidents.date_start', '<=', terms.dateEnd),
      eb('incidents.date_end', '>=', terms.dateStart),
      match === 'names'
        ? eb.exists(
            eb
              .selectFrom('victims')
              .select(sql.lit(1).as('one'))
              .whereRef('victims.incident_id', '=', 'incidents.id')
              .where(matchableVictim(actor, 'incidents'))
              .where(
                sql<SqlBool>`exists (select 1 from unnest(${terms.keys}) as key where similarity(${nameKey}, key) >= ${NEARBY_SKELETON_SIMILARITY})`,
              ),
          )
        : sql<SqlBool>`incidents.attack_types && ${sql.val(match.attackTypes)}::text[]`,
    ]);
const closestFirst = (terms: SearchTerms) => sql`abs(incidents.date_start - ${terms.dateStart})`;

export async function findCandidatesBySameName(db: DbOrTransaction, actor: Actor, search: CandidateSearch, limit: number) {
  if (keysOf(search).length === 0) return [];
  return selectCandidates(db, actor, search.id)
    .where(sameName(termsOf(search), actor))
    .orderBy('incidents.id')
    .limit(limit)
    .execute();
}

export async function findCandidatesNearby(
  db: DbOrTransaction,
  actor: Actor,
  search: CandidateSearch,
  match: 'names' | 'attackType',
  limit: number,
) {
  if (match === 'names' && keysOf(search).length === 0) return [];
  const terms = termsOf(search);
  return selectCandidates(db, actor, search.id)
    .where(nearby(terms, actor, match === 'names' ? 'names' : { attackTypes: search.attackTypes }))
    .orderBy(closestFirst(terms))
    .orderBy('incidents.id')
    .limit(limit)
    .execute();
}

/** One subject of a batch: `ord` is its place in the import, so only earlier ones are its candidates. */
export interface BatchSubject extends CandidateSearch {
  ord: number;
}

/**
 * The flagging prefilters (same name; similar name nearby) for a whole batch in one statement
 * each: every subject's candidates, as (subject, candidate) pairs, `limit` per subject. Like a
 * create one at a time, a subject never sees incidents of the batch that come after it.
 */
export async function findCandidatePairs(
  trx: Transaction<Database>,
  actor: Actor,
  subjects: readonly BatchSubject[],
  match: 'sameName' | 'nearbyName',
  limit: number,
) {
  const keyed = subjects.map((subject) => ({ ...subject, nameKeys: keysOf(subject) })).filter((subject) => subject.nameKeys.length);
  if (keyed.length === 0) return [];
  const json = JSON.stringify(
    keyed.map((s) => ({
      id: s.id,
      ord: s.ord,
      country: s.country,
      date_start: s.dateStart,
      date_end: s.dateEnd,
      keys: s.nameKeys,
      tokens: skeletonTokens(s.nameKeys),
    })),
  );
  const terms: SearchTerms = {
    country: sql.ref('s.country'),
    dateStart: sql.ref('s.date_start'),
    dateEnd: sql.ref('s.date_end'),
    keys: sql.ref('s.keys'),
    tokens: sql.ref('s.tokens'),
  };
  const base = trx
    .selectFrom('incidents')
    .select('incidents.id')
    .where(visibleTo(actor))
    // An incident of this batch is a candidate only for the subjects after it: batch.ords maps id -> ord.
    .where(sql<SqlBool>`coalesce(((select ords from batch) ->> incidents.id::text)::int, -1) < s.ord`);
  const candidates =
    match === 'sameName'
      ? base.where(sameName(terms, actor)).orderBy('incidents.id')
      : base
          .where(nearby(terms, actor, 'names'))
          .orderBy(closestFirst(terms))
          .orderBy('incidents.id');
  const ords = JSON.stringify(Object.fromEntries(subjects.map((subject) => [subject.id, subject.ord])));
  const { rows } = await sql<{ subject_id: string; candidate_id: string }>`with subjects as (
      select * from jsonb_to_recordset(${json}::jsonb) as s (id uuid, ord int, country text, date_start date, date_end date, keys text[], tokens text[])),
    batch as (select ${ords}::jsonb as ords)
    select s.id as subject_id, c.id as candidate_id from subjects as s cross join lateral (${candidates.limit(limit)}) as c`.execute(trx);
  return rows;
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
    .innerJoin('incidents as owner', 'owner.id', 'victims.incident_id')
    .select([
      'victims.incident_id',
      sql<number>`max(greatest(${sql.join(keys.map((key) => sql`similarity(${nameKey}, ${key})`))}))`.as('similarity'),
    ])
    .where(
      sql<SqlBool>`(${sql.join(
        keys.map((key) => sql`${nameKey} % ${key}`),
        sql` or `,
      )})`,
    )
    .where(matchableVictim(actor, 'owner'))
    .groupBy('victims.incident_id');
  return selectCandidates(trx, actor, search.id)
    .innerJoin(matches.as('matches'), 'matches.incident_id', 'incidents.id')
    .where(sameCountryOrOverlapping(termsOf(search)))
    .orderBy('matches.similarity', 'desc')
    .orderBy('incidents.id')
    .limit(limit)
    .execute();
}
