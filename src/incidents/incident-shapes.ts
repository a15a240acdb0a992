import { ownOrganisation, type Actor } from '../auth/actor.ts';
import { allowList } from './allow-list.ts';
import { countryName } from './country.ts';
import { fromStoredDate } from './incident-date.ts';
import type { IncidentTreeRow } from './incident.queries.ts';
import { openedNotes, openedVictim } from './sealed-fields.ts';
import {
  publicIncidentSchema,
  researchIncidentSchema,
  WITHHELD_NAME,
  type Incident,
  type PublicIncident,
  type ResearchIncident,
} from './incident.schemas.ts';

/**
 * Turns database rows into the three output shapes. Redaction happens here and nowhere else:
 * the public and research shapes are built field by field and then copied through their
 * allow-list schemas, which drop anything not listed (allow-list.ts).
 */
export type IncidentView = 'full' | 'research' | 'public';

/**
 * `sealed`: the incident is restricted to access groups the actor is not in (the row's
 * `sealed`, src/incidents/access.queries.ts); its own organisation's members then see it as its
 * researchers would.
 */
export function viewFor(actor: Actor, organisationId: string, sealed = false): IncidentView {
  if (actor.kind === 'public') return 'public';
  if (ownOrganisation(actor) === organisationId) return sealed ? 'research' : 'full';
  if (actor.role === 'researcher') return 'research';
  return 'public';
}

const publicIncident = allowList(publicIncidentSchema);
const researchIncident = allowList(researchIncidentSchema);

export function shapeIncident(row: IncidentTreeRow, view: IncidentView): Incident | PublicIncident | ResearchIncident {
  const incident = toIncident(row);
  if (view === 'full') return withholdSealed(incident, row);
  if (view === 'research') return researchIncident({ ...redact(incident), ...researchExtras(incident) });
  return publicIncident(redact(incident));
}

function toIncident(row: IncidentTreeRow): Incident {
  const coordinates =
    row.latitude === null || row.longitude === null
      ? null
      : { latitude: row.latitude, longitude: row.longitude, precision: row.coordinate_precision };
  return {
    id: row.id,
    organisation: { id: row.organisation_id, name: row.organisation_name },
    title: row.title,
    description: row.description,
    internalNotes: openedNotes(row.id, row.internal_notes),
    date: fromStoredDate(row),
    location: {
      country: row.country,
      countryName: countryName(row.country) ?? row.country,
      region: row.region,
      city: row.city,
      coordinates,
    },
    attackTypes: row.attack_types,
    verificationStatus: row.verification_status,
    motive: row.motive,
    judicialOutcome: row.judicial_outcome,
    deathType: row.death_type,
    visibility: row.visibility,
    version: row.version,
    victims: row.victims.map(openedVictim).map((victim) => ({
      id: victim.id,
      name: victim.name,
      nameOriginal: victim.name_original,
      aliases: victim.aliases,
      role: victim.role,
      gender: victim.gender,
      nationality: victim.nationality,
      outlet: victim.outlet,
      locality: victim.locality,
      employment: victim.employment,
      outcome: victim.outcome,
      protected: victim.protected,
    })),
    perpetratorClaims: row.perpetrator_claims.map((claim) => ({
      id: claim.id,
      actorName: claim.actor_name,
      actorType: claim.actor_type,
      attribution: claim.attribution,
      attributedBy: claim.attributed_by,
      statement: claim.statement,
    })),
    sources: row.sources.map((source) => ({
      id: source.id,
      url: source.url,
      publisher: source.publisher,
      title: source.title,
      publishedOn: source.published_on,
      kind: source.kind,
      public: source.public,
    })),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    publishedAt: row.published_at?.toISOString() ?? null,
  } as Incident;
}

function redact(incident: Incident) {
  return {
    ...incident,
    organisation: { name: incident.organisation.name },
    victims: incident.victims.map((victim) => (victim.protected ? withheld(victim) : victim)),
    sources: incident.sources.filter((source) => source.public),
  };
}

const withheld = (victim: Incident['victims'][number]) => ({
  name: WITHHELD_NAME,
  protected: true,
  role: victim.role,
  outcome: victim.outcome,
});

/**
 * In the full view, a protected victim restricted to access groups the reader is not in
 * (`sealed` in the row) is withheld as in the research view; its id stays, so the organisation
 * can tell which victim it is and its admin can change the restriction, and the full shape
 * keeps its fields (empty).
 */
function withholdSealed(incident: Incident, row: IncidentTreeRow): Incident {
  const sealed = new Set(row.victims.filter((victim) => victim.sealed).map((victim) => victim.id));
  if (sealed.size === 0) return incident;
  const victims = incident.victims.map((victim) =>
    sealed.has(victim.id)
      ? {
          ...withheld(victim),
          id: victim.id,
          nameOriginal: null,
          aliases: [],
          gender: null,
          nationality: null,
          outlet: null,
          locality: null,
          employment: null,
        }
      : victim,
  );
  return { ...incident, victims } as Incident;
}

function researchExtras(incident: Incident) {
  return { visibility: incident.visibility, version: incident.version, createdAt: incident.createdAt };
}
