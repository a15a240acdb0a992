import { sql, type ExpressionBuilder, type SqlBool, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { ownOrganisation, type Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { incidentSealedFrom, victimSealedFrom } from './access.queries.ts';

/** Set when the incident was merged into another (src/duplicates/merge.service.ts). */
const MERGED_INTO = sql.ref<string | null>('incidents.merged_into');

/**
 * Which incidents an actor may read, as part of the WHERE clause: deleted incidents and those
 * merged into another (src/duplicates/) are gone for everyone. Drafts are seen by the owning
 * organisation (editors and reviewers in full, its researchers in the research view) and by
 * the researchers it shares them with (organisations.draft_sharing, migration 0017): those of
 * the organisations it names, or of every organisation. Sharing is the owner's consent; the
 * default is no one. `evenIfMerged`: whether the actor could read it had it not been merged (a
 * merged draft stays as hidden as a draft). Access groups do not hide an incident from its own
 * organisation: they change its view (access.queries.ts, viewFor).
 */
export function visibleTo(actor: Actor, { evenIfMerged = false } = {}) {
  return (eb: ExpressionBuilder<Database, 'incidents'>) => {
    const live = eb.and([eb('incidents.deleted_at', 'is', null), ...(evenIfMerged ? [] : [eb(MERGED_INTO, 'is', null)])]);
    const published = eb('incidents.visibility', '=', 'published');
    if (actor.kind === 'key' && actor.role === 'researcher') {
      return eb.and([
        live,
        eb.or([published, eb('incidents.organisation_id', '=', actor.organisationId), sharedWith(actor.organisationId)]),
      ]);
    }
    const own = ownOrganisation(actor);
    if (own) {
      return eb.and([live, eb.or([published, eb('incidents.organisation_id', '=', own)])]);
    }
    return eb.and([live, published]);
  };
}

/** The owning organisation (`ownerColumn`) shares its drafts with researchers of this organisation. */
export function sharedWith(organisationId: string, ownerColumn = 'incidents.organisation_id') {
  const owner = sql.ref(ownerColumn);
  return sql<SqlBool>`exists (select 1 from organisations so where so.id = ${owner} and (so.draft_sharing = 'researchers'
    or (so.draft_sharing = 'organisations' and exists (select 1 from organisation_draft_shares ds
      where ds.organisation_id = so.id and ds.shared_with = ${organisationId}::uuid))))`;
}

/** Whether `owner` shares its drafts with the researchers of `reader` (as sharedWith, for one pair). */
export async function draftsSharedWith(db: DbOrTransaction, owner: string, reader: string): Promise<boolean> {
  const row = await db
    .selectFrom('organisations as i')
    .select('i.id')
    .where('i.id', '=', owner)
    .where(sharedWith(reader, 'i.id'))
    .executeTakeFirst();
  return row !== undefined;
}

const SHAPED_COLUMNS = [
  'incidents.id',
  'incidents.organisation_id',
  'incidents.title',
  'incidents.description',
  'incidents.internal_notes',
  'incidents.date_start',
  'incidents.date_end',
  'incidents.date_precision',
  'incidents.country',
  'incidents.region',
  'incidents.city',
  'incidents.latitude',
  'incidents.longitude',
  'incidents.coordinate_precision',
  'incidents.attack_types',
  'incidents.verification_status',
  'incidents.motive',
  'incidents.judicial_outcome',
  'incidents.death_type',
  'incidents.visibility',
  'incidents.version',
  'incidents.created_at',
  'incidents.updated_at',
  'incidents.published_at',
  'organisations.name as organisation_name',
] as const;
const VICTIM_COLUMNS = [
  'id',
  'name',
  'name_original',
  'aliases',
  'role',
  'gender',
  'nationality',
  'outlet',
  'locality',
  'employment',
  'outcome',
  'protected',
  'identity_sealed',
] as const;
const CLAIM_COLUMNS = ['id', 'actor_name', 'actor_type', 'attribution', 'attributed_by', 'statement'] as const;
const SOURCE_COLUMNS = ['id', 'url', 'publisher', 'title', 'published_on', 'kind', 'public'] as const;

/**
 * An incident with its organisation and child rows, in one round trip: only the columns the
 * output shapes use (not search_text, the deletion details, child positions), so that
 * PostgreSQL builds and Node parses less per incident in lists and exports. The child rows are
 * correlated JSON subqueries: measured on 1M incidents, one query per child table for a whole
 * batch (`incident_id = any($1)`) cost PostgreSQL ~20% less but Node more (the driver parses
 * fields one by one in JavaScript, JSON natively), and Node is the busier side of an export; a
 * list page also paid a round trip and three more statements for it.
 */
export function selectIncidentTree(db: DbOrTransaction, actor?: Actor) {
  // What access groups close to the reader (access.queries.ts): without a reader, nothing (the services' own reads).
  const sealedIncident = actor ? incidentSealedFrom(actor) : sql<boolean>`false`;
  const sealedVictim = actor ? victimSealedFrom(actor) : sql<boolean>`false`;
  return db
    .selectFrom('incidents')
    .innerJoin('organisations', 'organisations.id', 'incidents.organisation_id')
    .select(SHAPED_COLUMNS)
    .select(sql<boolean>`${sealedIncident}`.as('sealed'))
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('victims')
          .select(VICTIM_COLUMNS)
          .select(sql<boolean>`${sealedVictim}`.as('sealed'))
          .whereRef('victims.incident_id', '=', 'incidents.id')
          .orderBy('position'),
      ).as('victims'),
      jsonArrayFrom(
        eb
          .selectFrom('perpetrator_claims')
          .select(CLAIM_COLUMNS)
          .whereRef('perpetrator_claims.incident_id', '=', 'incidents.id')
          .orderBy('position'),
      ).as('perpetrator_claims'),
      jsonArrayFrom(
        eb.selectFrom('sources').select(SOURCE_COLUMNS).whereRef('sources.incident_id', '=', 'incidents.id').orderBy('position'),
      ).as('sources'),
    ]);
}

export type IncidentTreeRow = Awaited<ReturnType<typeof findIncidentTree>> & {};

export async function findIncidentTree(db: DbOrTransaction, id: string, actor?: Actor) {
  let query = selectIncidentTree(db, actor).where('incidents.id', '=', id);
  query = actor ? query.where(visibleTo(actor)) : query.where('incidents.deleted_at', 'is', null);
  return query.executeTakeFirst();
}

/** The owning organisation of an incident the actor may see, without loading the incident. */
export async function findVisibleIncidentOrganisation(db: DbOrTransaction, id: string, actor: Actor) {
  const row = await db.selectFrom('incidents').select('organisation_id').where('id', '=', id).where(visibleTo(actor)).executeTakeFirst();
  return row?.organisation_id;
}

/** Owner and deletion state, whoever asks: callers decide what the asker may learn from it. */
export async function findIncidentOwner(db: DbOrTransaction, id: string) {
  const row = await db.selectFrom('incidents').select(['organisation_id', 'deleted_at']).where('id', '=', id).executeTakeFirst();
  return row && { organisationId: row.organisation_id, deleted: row.deleted_at !== null };
}

/**
 * Locks the incident row for a read-modify-write; only the owning organisation's live (not merged)
 * incidents. FOR NO KEY UPDATE, not FOR UPDATE: it still serialises writers of this incident, but
 * lets another transaction insert a row that references it (a duplicate flag of a new incident).
 * FOR UPDATE blocked that foreign-key check, and while the data version was still bumped at a
 * transaction's first write (before migration 0007), a PATCH and a concurrent create deadlocked
 * on the two locks (npm run reliability -- kill-mid-write).
 */
export async function lockOwnIncident(trx: Transaction<Database>, id: string, organisationId: string) {
  return trx
    .selectFrom('incidents')
    .select(['id', 'version', 'verification_status', 'visibility', 'organisation_id'])
    .where('id', '=', id)
    .where('organisation_id', '=', organisationId)
    .where('deleted_at', 'is', null)
    .where(MERGED_INTO, 'is', null)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

export async function childIds(trx: Transaction<Database>, table: 'victims' | 'perpetrator_claims' | 'sources', incidentId: string) {
  const rows = await trx.selectFrom(table).select('id').where('incident_id', '=', incidentId).execute();
  return new Set(rows.map((row) => row.id));
}

/**
 * Where a merged incident lives on (following merges of merges), for a caller who could read
 * the merged incident before and may see the survivor: otherwise a merged draft's id would
 * answer differently from a missing one, and its existence would leak.
 */
export async function findMergeSurvivor(db: DbOrTransaction, actor: Actor, id: string): Promise<string | undefined> {
  const readable = await db
    .selectFrom('incidents')
    .select('id')
    .where('id', '=', id)
    .where(visibleTo(actor, { evenIfMerged: true }))
    .executeTakeFirst();
  if (!readable) return undefined;
  let current = id;
  for (let hop = 0; hop < 20; hop++) {
    const row = await db.selectFrom('incidents').select('merged_into').where('id', '=', current).executeTakeFirst();
    if (!row?.merged_into) break;
    current = row.merged_into;
  }
  if (current === id) return undefined;
  const visible = await db.selectFrom('incidents').select('id').where('id', '=', current).where(visibleTo(actor)).executeTakeFirst();
  return visible?.id;
}
