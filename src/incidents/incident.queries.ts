import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { ownOrganisation, type Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Set when the incident was merged into another; typed in src/duplicates/duplicate.tables.ts. */
const MERGED_INTO = sql.ref<string | null>('incidents.merged_into');

/**
 * Which incidents an actor may read, as part of the WHERE clause: deleted incidents and those
 * merged into another (src/duplicates/) are gone for everyone; drafts are seen by researchers
 * and by the owning organisation only.
 */
export function visibleTo(actor: Actor) {
  return (eb: ExpressionBuilder<Database, 'incidents'>) => {
    const live = eb.and([eb('incidents.deleted_at', 'is', null), eb(MERGED_INTO, 'is', null)]);
    if (actor.kind === 'key' && actor.role === 'researcher') return live;
    const published = eb('incidents.visibility', '=', 'published');
    const own = ownOrganisation(actor);
    if (own) {
      return eb.and([live, eb.or([published, eb('incidents.organisation_id', '=', own)])]);
    }
    return eb.and([live, published]);
  };
}

/** An incident with its organisation and child rows, in one round trip. */
export function selectIncidentTree(db: Db) {
  return db
    .selectFrom('incidents')
    .innerJoin('organisations', 'organisations.id', 'incidents.organisation_id')
    .selectAll('incidents')
    .select((eb) => [
      'organisations.name as organisation_name',
      jsonArrayFrom(
        eb.selectFrom('victims').selectAll().whereRef('victims.incident_id', '=', 'incidents.id').orderBy('position'),
      ).as('victims'),
      jsonArrayFrom(
        eb
          .selectFrom('perpetrator_claims')
          .selectAll()
          .whereRef('perpetrator_claims.incident_id', '=', 'incidents.id')
          .orderBy('position'),
      ).as('perpetrator_claims'),
      jsonArrayFrom(
        eb.selectFrom('sources').selectAll().whereRef('sources.incident_id', '=', 'incidents.id').orderBy('position'),
      ).as('sources'),
    ]);
}

export type IncidentTreeRow = Awaited<ReturnType<typeof findIncidentTree>> & {};

export async function findIncidentTree(db: Db, id: string, actor?: Actor) {
  let query = selectIncidentTree(db).where('incidents.id', '=', id);
  query = actor ? query.where(visibleTo(actor)) : query.where('incidents.deleted_at', 'is', null);
  return query.executeTakeFirst();
}

/** The owning organisation of an incident the actor may see, without loading the incident. */
export async function findVisibleIncidentOrganisation(db: Db, id: string, actor: Actor) {
  const row = await db.selectFrom('incidents').select('organisation_id').where('id', '=', id).where(visibleTo(actor)).executeTakeFirst();
  return row?.organisation_id;
}

/** Owner and deletion state, whoever asks: callers decide what the asker may learn from it. */
export async function findIncidentOwner(db: Db, id: string) {
  const row = await db.selectFrom('incidents').select(['organisation_id', 'deleted_at']).where('id', '=', id).executeTakeFirst();
  return row && { organisationId: row.organisation_id, deleted: row.deleted_at !== null };
}

/** Locks the incident row for a read-modify-write; only the owning organisation's live (not merged) incidents. */
export async function lockOwnIncident(trx: Transaction<Database>, id: string, organisationId: string) {
  return trx
    .selectFrom('incidents')
    .select(['id', 'version', 'verification_status', 'visibility', 'organisation_id'])
    .where('id', '=', id)
    .where('organisation_id', '=', organisationId)
    .where('deleted_at', 'is', null)
    .where(MERGED_INTO, 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

export async function childIds(trx: Transaction<Database>, table: 'victims' | 'perpetrator_claims' | 'sources', incidentId: string) {
  const rows = await trx.selectFrom(table).select('id').where('incident_id', '=', incidentId).execute();
  return new Set(rows.map((row) => row.id));
}
