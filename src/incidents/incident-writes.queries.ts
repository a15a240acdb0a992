import type { Transaction, Updateable } from 'kysely';
import type { Database, IncidentsTable } from '../db/database.ts';
import { toStoredDate } from './incident-date.ts';
import type {
  CreateIncidentInput,
  PerpetratorClaimInput,
  SourceInput,
  UpdateIncidentInput,
  VictimInput,
} from './incident.schemas.ts';

type Trx = Transaction<Database>;

/** Maps the API's camelCase fields onto incident columns; only fields present are set. */
export function incidentColumns(input: UpdateIncidentInput): Updateable<IncidentsTable> {
  const columns: Updateable<IncidentsTable> = {};
  if (input.title !== undefined) columns.title = input.title;
  if (input.description !== undefined) columns.description = input.description ?? null;
  if (input.internalNotes !== undefined) columns.internal_notes = input.internalNotes ?? null;
  if (input.date !== undefined) Object.assign(columns, toStoredDate(input.date));
  if (input.location !== undefined) {
    const { country, region, city, coordinates } = input.location;
    Object.assign(columns, {
      country,
      region: region ?? null,
      city: city ?? null,
      latitude: coordinates?.latitude ?? null,
      longitude: coordinates?.longitude ?? null,
      coordinate_precision: coordinates?.precision ?? null,
    });
  }
  if (input.attackTypes !== undefined) columns.attack_types = input.attackTypes;
  if (input.motive !== undefined) columns.motive = input.motive ?? null;
  if (input.judicialOutcome !== undefined) columns.judicial_outcome = input.judicialOutcome ?? null;
  return columns;
}

export async function insertIncident(trx: Trx, organisationId: string, input: CreateIncidentInput) {
  const columns = incidentColumns(input);
  const { id } = await trx
    .insertInto('incidents')
    .values({
      ...(columns as Required<Pick<typeof columns, 'title' | 'country' | 'attack_types'>>),
      date_start: columns.date_start as string,
      date_end: columns.date_end as string,
      date_precision: columns.date_precision as string,
      organisation_id: organisationId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

export async function updateIncidentColumns(trx: Trx, id: string, columns: Updateable<IncidentsTable>) {
  await trx
    .updateTable('incidents')
    .set((eb) => ({ ...columns, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('id', '=', id)
    .execute();
}

/**
 * Child lists are replaced as a whole: delete the old rows, insert the new ones in order.
 * Items that carry an id keep it, so links to a victim or source survive an edit.
 */
export async function replaceVictims(trx: Trx, incidentId: string, victims: VictimInput[]) {
  await trx.deleteFrom('victims').where('incident_id', '=', incidentId).execute();
  if (victims.length === 0) return;
  await trx
    .insertInto('victims')
    .values(
      victims.map((victim, position) => ({
        ...(victim.id ? { id: victim.id } : {}),
        incident_id: incidentId,
        position,
        name: victim.name ?? null,
        name_original: victim.nameOriginal ?? null,
        aliases: victim.aliases,
        role: victim.role ?? null,
        gender: victim.gender ?? null,
        nationality: victim.nationality ?? null,
        outlet: victim.outlet ?? null,
        locality: victim.locality ?? null,
        employment: victim.employment ?? null,
        outcome: victim.outcome ?? null,
        protected: victim.protected,
      })),
    )
    .execute();
}

export async function replacePerpetratorClaims(trx: Trx, incidentId: string, claims: PerpetratorClaimInput[]) {
  await trx.deleteFrom('perpetrator_claims').where('incident_id', '=', incidentId).execute();
  if (claims.length === 0) return;
  await trx
    .insertInto('perpetrator_claims')
    .values(
      claims.map((claim, position) => ({
        ...(claim.id ? { id: claim.id } : {}),
        incident_id: incidentId,
        position,
        actor_name: claim.actorName,
        actor_type: claim.actorType,
        attribution: claim.attribution,
        attributed_by: claim.attributedBy ?? null,
        statement: claim.statement ?? null,
      })),
    )
    .execute();
}

export async function replaceSources(trx: Trx, incidentId: string, sources: SourceInput[]) {
  await trx.deleteFrom('sources').where('incident_id', '=', incidentId).execute();
  if (sources.length === 0) return;
  await trx
    .insertInto('sources')
    .values(
      sources.map((source, position) => ({
        ...(source.id ? { id: source.id } : {}),
        incident_id: incidentId,
        position,
        url: source.url ?? null,
        publisher: source.publisher ?? null,
        title: source.title ?? null,
        published_on: source.publishedOn ?? null,
        kind: source.kind,
        public: source.public,
      })),
    )
    .execute();
}
