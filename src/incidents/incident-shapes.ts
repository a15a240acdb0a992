import { ownOrganisation, type Actor } from '../auth/actor.ts';
import { allowList } from './allow-list.ts';
import { countryName } from './country.ts';
import { fromStoredDate } from './incident-date.ts';
import type { IncidentTreeRow } from './incident.queries.ts';
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

export function viewFor(actor: Actor, organisationId: string): IncidentView {
  if (actor.kind === 'public') return 'public';
  if (ownOrganisation(actor) === organisationId) return 'full';
  if (actor.role === 'researcher') return 'research';
  return 'public';
}

const publicIncident = allowList(publicIncidentSchema);
const researchIncident = allowList(researchIncidentSchema);

export function shapeIncident(row: IncidentTreeRow, view: IncidentView): Incident | PublicIncident | ResearchIncident {
  const incident = toIncident(row);
  if (view === 'full') return incident;
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
    internalNotes: row.internal_notes,
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
    victims: row.victims.map((victim) => ({
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
    victims: incident.victims.map((victim) =>
      victim.protected ? { name: WITHHELD_NAME, protected: true, role: victim.role, outcome: victim.outcome } : victim,
    ),
    sources: incident.sources.filter((source) => source.public),
  };
}

function researchExtras(incident: Incident) {
  return { visibility: incident.visibility, version: incident.version, createdAt: incident.createdAt };
}
