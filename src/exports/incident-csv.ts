import type { Actor } from '../auth/actor.ts';
import type { shapeIncident } from '../incidents/incident-shapes.ts';
import type { CsvColumn } from './csv.ts';

/**
 * Incidents as flat CSV rows, one row per incident. Every value is read from the incident as
 * shapeIncident made it for the caller, so a CSV can never hold more than the JSON would: a
 * protected victim is "name withheld", private sources are absent outside the owner.
 *
 * Lists (attack types, victims, perpetrators, sources) are joined with ';'. The victim_* columns
 * run in parallel (the 2nd name, role and outcome are the same victim, an unknown value is an
 * empty item), and so do the source_* columns. src/imports/native-format.ts reads every list
 * column back, so export -> import -> export gives the same file. The JSON export is the
 * lossless one: a ';' inside a name cannot be told apart from the separator here, and aliases,
 * claims' statements and sources' publishers are not in the CSV.
 */
export type ShapedIncident = ReturnType<typeof shapeIncident>;

const list = (values: readonly (string | null | undefined)[]) => values.map((value) => value ?? '').join(';');

const columns: CsvColumn<ShapedIncident>[] = [
  { name: 'id', value: (incident) => incident.id },
  { name: 'title', value: (incident) => incident.title },
  { name: 'description', value: (incident) => incident.description },
  { name: 'date_precision', value: (incident) => incident.date.precision },
  { name: 'date_start', value: (incident) => incident.date.start },
  { name: 'date_end', value: (incident) => incident.date.end },
  { name: 'country', value: (incident) => incident.location.country },
  { name: 'region', value: (incident) => incident.location.region },
  { name: 'city', value: (incident) => incident.location.city },
  { name: 'latitude', value: (incident) => incident.location.coordinates?.latitude },
  { name: 'longitude', value: (incident) => incident.location.coordinates?.longitude },
  { name: 'coordinate_precision', value: (incident) => incident.location.coordinates?.precision },
  { name: 'attack_types', value: (incident) => list(incident.attackTypes) },
  { name: 'verification_status', value: (incident) => incident.verificationStatus },
  { name: 'motive', value: (incident) => incident.motive },
  { name: 'judicial_outcome', value: (incident) => incident.judicialOutcome },
  { name: 'victim_count', value: (incident) => incident.victims.length },
  { name: 'victims_killed', value: (incident) => incident.victims.filter((victim) => victim.outcome === 'killed').length },
  { name: 'victim_names', value: (incident) => list(incident.victims.map((victim) => victim.name)) },
  { name: 'victim_roles', value: (incident) => list(incident.victims.map((victim) => victim.role)) },
  { name: 'victim_outcomes', value: (incident) => list(incident.victims.map((victim) => victim.outcome)) },
  // A withheld victim has none of these three: an empty item, as for an unknown value.
  { name: 'victim_genders', value: (incident) => list(incident.victims.map((victim) => ('gender' in victim ? victim.gender : null))) },
  { name: 'victim_nationalities', value: (incident) => list(incident.victims.map((victim) => ('nationality' in victim ? victim.nationality : null))) },
  { name: 'victim_outlets', value: (incident) => list(incident.victims.map((victim) => ('outlet' in victim ? victim.outlet : null))) },
  // So that re-importing the owner's own export keeps a protected victim protected.
  { name: 'victim_protected', value: (incident) => list(incident.victims.map((victim) => String(victim.protected))) },
  {
    name: 'perpetrators',
    value: (incident) => list(incident.perpetratorClaims.map((claim) => `${claim.actorName} (${claim.actorType}, ${claim.attribution})`)),
  },
  { name: 'source_titles', value: (incident) => list(incident.sources.map((source) => source.title)) },
  { name: 'source_urls', value: (incident) => list(incident.sources.map((source) => source.url)) },
  { name: 'source_kinds', value: (incident) => list(incident.sources.map((source) => source.kind)) },
  // Outside the owner only public sources are listed, so each of them is "true".
  { name: 'source_public', value: (incident) => list(incident.sources.map((source) => String('public' in source ? source.public : true))) },
  { name: 'organisation', value: (incident) => incident.organisation.name },
  { name: 'published_at', value: (incident) => incident.publishedAt },
  { name: 'updated_at', value: (incident) => incident.updatedAt },
];

/** Drafts are in the research and full views, so whoever may see drafts gets these. */
const stateColumns: CsvColumn<ShapedIncident>[] = [
  { name: 'visibility', value: (incident) => ('visibility' in incident ? incident.visibility : null) },
  { name: 'version', value: (incident) => ('version' in incident ? incident.version : null) },
];

/** Only in the full view: empty on the rows of other organisations' incidents. */
const internalColumns: CsvColumn<ShapedIncident>[] = [
  { name: 'internal_notes', value: (incident) => ('internalNotes' in incident ? incident.internalNotes : null) },
];

/**
 * One set of columns for the whole file, fixed by who asks: a file mixes views (an editor sees
 * their own incidents in full and other organisations' published ones in the public view).
 */
export function incidentCsvColumns(actor: Actor): CsvColumn<ShapedIncident>[] {
  if (actor.kind === 'public' || actor.role === 'admin') return columns;
  if (actor.role === 'researcher') return [...columns, ...stateColumns];
  return [...columns, ...internalColumns, ...stateColumns];
}
