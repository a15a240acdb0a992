import { randomUUID } from 'node:crypto';
import type { Insertable, Transaction, Updateable } from 'kysely';
import type { Database, IncidentsTable } from '../db/database.ts';
import { toStoredDate } from './incident-date.ts';
import type { CreateIncidentInput, PerpetratorClaimInput, SourceInput, UpdateIncidentInput, VictimInput } from './incident.schemas.ts';
import { sealedNotes, storedVictim } from './sealed-fields.ts';

type Trx = Transaction<Database>;

/** Maps the API's camelCase fields onto incident columns; only fields present are set. Internal notes are sealed (sealed-fields.ts). */
export function incidentColumns(id: string, input: UpdateIncidentInput): Updateable<IncidentsTable> {
  const columns: Updateable<IncidentsTable> = {};
  if (input.title !== undefined) columns.title = input.title;
  if (input.description !== undefined) columns.description = input.description ?? null;
  if (input.internalNotes !== undefined) columns.internal_notes = sealedNotes(id, input.internalNotes ?? null);
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
  if (input.deathType !== undefined) columns.death_type = input.deathType ?? null;
  return columns;
}

/** The columns of a new incident, shared by createIncident and the batch writer (incident-batch.ts). */
export function newIncidentColumns(id: string, organisationId: string, input: CreateIncidentInput, now: Date) {
  const columns = incidentColumns(id, input);
  return {
    id,
    ...(columns as Required<Pick<typeof columns, 'title' | 'country' | 'attack_types'>>),
    date_start: columns.date_start as string,
    date_end: columns.date_end as string,
    date_precision: columns.date_precision as string,
    organisation_id: organisationId,
    created_at: now,
    updated_at: now,
  };
}

export async function insertIncident(trx: Trx, organisationId: string, input: CreateIncidentInput) {
  // Timestamps come from JS (millisecond precision) so cursors built from them round-trip exactly.
  // The id too, since the sealed internal notes are bound to it.
  const id = randomUUID();
  await trx
    .insertInto('incidents')
    .values(newIncidentColumns(id, organisationId, input, new Date()))
    .execute();
  return id;
}

export async function updateIncidentColumns(trx: Trx, id: string, columns: Updateable<IncidentsTable>) {
  await trx
    .updateTable('incidents')
    .set((eb) => ({ ...columns, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('id', '=', id)
    .execute();
}

type ChildTable = 'victims' | 'perpetrator_claims' | 'sources';

/**
 * Child lists are replaced as a whole: delete the old rows, insert the new ones in order.
 * Items that carry an id keep it, so links to a victim or source survive an edit.
 */
async function replaceChildren<T extends ChildTable>(
  trx: Trx,
  table: T,
  incidentId: string,
  rows: Array<Omit<Insertable<Database[T]>, 'incident_id' | 'position'>>,
) {
  // Every child table has incident_id; the cast only spares Kysely resolving a generic table name.
  await trx
    .deleteFrom(table as ChildTable as 'victims')
    .where('incident_id', '=', incidentId)
    .execute();
  if (rows.length === 0) return;
  const values = rows.map((row, position) => ({ ...row, incident_id: incidentId, position }));
  await trx
    .insertInto(table)
    .values(values as Insertable<Database[T]>[])
    .execute();
}

const keepId = (item: { id?: string | undefined }) => (item.id ? { id: item.id } : {});

/** Column values of a victim, a claim and a source, shared by the replace* writes and the batch writer. */
export function victimColumns(victim: VictimInput) {
  return {
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
  };
}

export function claimColumns(claim: PerpetratorClaimInput) {
  return {
    actor_name: claim.actorName,
    actor_type: claim.actorType,
    attribution: claim.attribution,
    attributed_by: claim.attributedBy ?? null,
    statement: claim.statement ?? null,
  };
}

export function sourceColumns(source: SourceInput) {
  return {
    url: source.url ?? null,
    publisher: source.publisher ?? null,
    title: source.title ?? null,
    published_on: source.publishedOn ?? null,
    kind: source.kind,
    public: source.public,
  };
}

export function replaceVictims(trx: Trx, incidentId: string, victims: VictimInput[]) {
  return replaceChildren(
    trx,
    'victims',
    incidentId,
    // Ids come from here, not the database: a protected victim's sealed identity is bound to its id.
    victims.map((victim) => storedVictim({ id: victim.id ?? randomUUID(), ...victimColumns(victim) })),
  );
}

export function replacePerpetratorClaims(trx: Trx, incidentId: string, claims: PerpetratorClaimInput[]) {
  return replaceChildren(
    trx,
    'perpetrator_claims',
    incidentId,
    claims.map((claim) => ({ ...keepId(claim), ...claimColumns(claim) })),
  );
}

export function replaceSources(trx: Trx, incidentId: string, sources: SourceInput[]) {
  return replaceChildren(
    trx,
    'sources',
    incidentId,
    sources.map((source) => ({ ...keepId(source), ...sourceColumns(source) })),
  );
}

export async function setSearchText(trx: Trx, id: string, searchText: string) {
  await trx.updateTable('incidents').set({ search_text: searchText }).where('id', '=', id).execute();
}
