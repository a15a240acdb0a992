import { randomUUID } from 'node:crypto';
import type { Role } from '../../src/auth/actor.ts';
import { insertApiKey } from '../../src/auth/api-key.queries.ts';
import type { Db } from '../../src/db/create-db.ts';
import { insertOrganisation } from '../../src/organisations/organisation.queries.ts';

/** Factories make unique data, so tests in one file never trip over each other. */
export async function createOrganisation(db: Db, name = `Org ${randomUUID().slice(0, 8)}`) {
  return insertOrganisation(db, name);
}

export async function createKey(db: Db, organisationId: string, role: Role): Promise<string> {
  const { key } = await insertApiKey(db, { organisationId, name: `${role} ${randomUUID().slice(0, 8)}`, role });
  return key;
}

/** Keys for every role: two organisations, so "another organisation" cases are easy to write. */
export async function createActors(db: Db) {
  const own = await createOrganisation(db);
  const other = await createOrganisation(db);
  return {
    ownOrganisation: own,
    otherOrganisation: other,
    admin: await createKey(db, own.id, 'admin'),
    editor: await createKey(db, own.id, 'editor'),
    reviewer: await createKey(db, own.id, 'reviewer'),
    researcher: await createKey(db, other.id, 'researcher'),
    otherEditor: await createKey(db, other.id, 'editor'),
    otherReviewer: await createKey(db, other.id, 'reviewer'),
  };
}

export type Actors = Awaited<ReturnType<typeof createActors>>;

/** A valid create-incident body; override any field. */
export function incidentBody(overrides: Record<string, unknown> = {}) {
  return {
    title: `Reporter attacked ${randomUUID().slice(0, 8)}`,
    description: 'Attacked outside the newsroom.',
    internalNotes: 'Family asked us not to contact the outlet.',
    date: { precision: 'day', value: '2024-03-15' },
    location: { country: 'TR', city: 'Istanbul' },
    attackTypes: ['physical_assault'],
    victims: [
      { name: 'Public Person', role: 'journalist', outcome: 'injured' },
      { name: 'Secret Witness Name', role: 'activist', outcome: 'threatened', protected: true },
    ],
    perpetratorClaims: [{ actorName: 'Unknown assailants', actorType: 'unknown', attribution: 'suspected_by_documenter' }],
    sources: [
      { url: 'https://example.org/public-report', title: 'Public report', kind: 'media_report', public: true },
      { url: 'https://example.org/private-tip', title: 'Private tip', kind: 'witness_statement', public: false },
    ],
    ...overrides,
  };
}

// ---------------------------------------------------------------- read-side datasets and a reference model
// Helpers for the filter, search, statistics and pagination tests: incidents written through the
// service layer (fast, same code path as the API minus HTTP), a seeded generator so a "random"
// dataset is identical on every run, and a plain-JS model of the documented filter semantics that
// the tests compare the API against. The model never calls SQL or the src filter code.

// Imports for this section sit here so the section is one appended block (ES imports are hoisted).
import type { WriteContext } from '../../src/audit/audit.queries.ts';
import { createIncidentSchema, type CreateIncidentInput } from '../../src/incidents/incident.schemas.ts';
import { changeVerification, createIncident, deleteIncident, setVisibility } from '../../src/incidents/incident.service.ts';
import { deathTypes, judicialOutcomes, motives } from '../../src/incidents/taxonomies.ts';
import { mergeIncident } from '../../src/duplicates/merge.service.ts';
import { request as httpRequest } from 'node:http';
import type { ApiResponse, TestApp } from './test-app.ts';

/** mulberry32: a tiny deterministic generator. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  const chance = (probability: number) => next() < probability;
  /** Between min and max distinct items, in random order. */
  const some = <T>(items: readonly T[], min: number, max: number): T[] => {
    const pool = [...items];
    for (let index = pool.length - 1; index > 0; index--) {
      const other = int(0, index);
      [pool[index], pool[other]] = [pool[other]!, pool[index]!];
    }
    return pool.slice(0, int(min, Math.min(max, pool.length)));
  };
  return { next, int, pick, chance, some };
}
export type SeededRandom = ReturnType<typeof seededRandom>;

/** What the model knows about an incident: its create input plus the state the writer gave it. */
export interface ModelIncident {
  key: string;
  id: string;
  organisationId: string;
  visibility: 'draft' | 'published';
  verificationStatus: string;
  deleted: boolean;
  updatedAt: string;
  version: number;
  input: CreateIncidentInput;
}

/**
 * Writes incidents for one organisation through src/incidents/incident.service.ts with a real
 * editor and reviewer key of that organisation. `body` is an API create body (parsed by the
 * same zod schema as a request); `key` is a name the test uses to refer to the incident.
 */
export async function serviceWriter(db: Db, organisationId: string) {
  const context = async (role: 'editor' | 'reviewer'): Promise<WriteContext> => {
    const { id } = await insertApiKey(db, { organisationId, name: `seed ${role} ${randomUUID().slice(0, 8)}`, role });
    return { actor: { kind: 'key', keyId: id, organisationId, role }, requestId: `seed-${randomUUID()}` };
  };
  const editor = await context('editor');
  const reviewer = await context('reviewer');
  return {
    organisationId,
    async create(
      body: Record<string, unknown>,
      options: { key?: string; publish?: boolean; verification?: string } = {},
    ): Promise<ModelIncident> {
      const input = createIncidentSchema.parse(body);
      let incident = await createIncident(db, editor, input);
      if (options.verification && options.verification !== incident.verificationStatus) {
        incident = await changeVerification(db, reviewer, incident.id, { status: options.verification, note: 'seeded' }, undefined);
      }
      if (options.publish) incident = await setVisibility(db, reviewer, incident.id, 'published', undefined);
      return {
        key: options.key ?? incident.id,
        id: incident.id,
        organisationId,
        visibility: incident.visibility as ModelIncident['visibility'],
        verificationStatus: incident.verificationStatus,
        deleted: false,
        updatedAt: incident.updatedAt,
        version: incident.version,
        input,
      };
    },
    async remove(record: ModelIncident) {
      await deleteIncident(db, editor, record.id, 'seeded removal', undefined);
      record.deleted = true;
    },
    /** Merges `loser` into `survivor` (both of this organisation), as the merge route does. */
    async merge(loser: ModelIncident, survivor: ModelIncident) {
      await mergeIncident(db, reviewer, loser.id, { into: survivor.id }, undefined);
    },
  };
}
export type ServiceWriter = Awaited<ReturnType<typeof serviceWriter>>;

/** Places with coordinates on both sides of the antimeridian. */
export const PLACES = [
  { country: 'TR', region: 'Marmara', city: 'Istanbul', latitude: 41.01, longitude: 28.97 },
  { country: 'TR', region: 'Southeastern Anatolia', city: 'Diyarbakır', latitude: 37.91, longitude: 40.24 },
  { country: 'SY', region: 'Aleppo', city: 'Aleppo', latitude: 36.2, longitude: 37.13 },
  { country: 'SY', region: 'Idlib', city: 'Idlib', latitude: 35.93, longitude: 36.63 },
  { country: 'IQ', region: 'Nineveh', city: 'Mosul', latitude: 36.34, longitude: 43.13 },
  { country: 'MX', region: 'Veracruz', city: 'Xalapa', latitude: 19.54, longitude: -96.91 },
  { country: 'FJ', region: 'Northern', city: 'Labasa', latitude: -16.43, longitude: 179.38 },
  { country: 'FJ', region: 'Eastern', city: 'Lakeba', latitude: -18.2, longitude: -178.8 },
  { country: 'RU', region: 'Chukotka', city: 'Anadyr', latitude: 64.73, longitude: 177.51 },
  { country: 'US', region: 'Alaska', city: 'Nome', latitude: 64.5, longitude: -165.41 },
] as const;

const ACTORS = [
  ['Islamic State', 'non_state_armed_group'],
  ['Police of Veracruz', 'police'],
  ['Unknown gunmen', 'unknown'],
  ['Cartel del Golfo', 'criminal_group'],
  ['Military intelligence', 'state_security'],
  ['Ministry of Interior', 'government_official'],
] as const;

/** A varied, valid create body; every choice comes from `random`. Years 2010-2023, never 2015 (kept for hand-made cases). */
export function randomIncidentBody(random: SeededRandom, index: number, overrides: Record<string, unknown> = {}) {
  const place = random.pick(PLACES);
  const year = random.pick([2010, 2011, 2012, 2013, 2014, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023]);
  const month = String(random.int(1, 12)).padStart(2, '0');
  const day = String(random.int(1, 28)).padStart(2, '0');
  const date = random.pick([
    { precision: 'day', value: `${year}-${month}-${day}` },
    { precision: 'month', value: `${year}-${month}` },
    { precision: 'year', value: String(year) },
    { precision: 'range', from: `${year}-${month}-${day}`, to: `${year + random.int(0, 1)}-${random.pick(['01', '06', '12'])}-28` },
  ]);
  if (date.precision === 'range' && date.to! < date.from!) date.to = `${year}-12-31`;
  const maybe = <T>(items: readonly T[]) => (random.chance(0.75) ? random.pick(items) : null);
  const body = {
    title: `Incident ${index} in ${place.city}`,
    description: random.chance(0.8) ? `Generated incident number ${index}.` : null,
    date,
    location: {
      country: place.country,
      region: place.region,
      city: place.city,
      coordinates: random.chance(0.8) ? { latitude: place.latitude, longitude: place.longitude, precision: 'city' } : null,
    },
    attackTypes: random.some(['killing', 'abduction', 'arrest_detention', 'threat_harassment', 'physical_assault', 'legal_action'], 1, 3),
    motive: maybe(motives.codes),
    judicialOutcome: maybe(judicialOutcomes.codes),
    victims: Array.from({ length: random.int(0, 3) }, (_, victim) => ({
      name: `Victim ${index}-${victim}`,
      role: maybe(['journalist', 'media_worker', 'activist', 'citizen_journalist'] as const),
      gender: maybe(['female', 'male', 'non_binary'] as const),
      outcome: maybe(['killed', 'injured', 'detained', 'threatened'] as const),
      protected: random.chance(0.2),
    })),
    perpetratorClaims: Array.from({ length: random.int(0, 2) }, () => {
      const [actorName, actorType] = random.pick(ACTORS);
      return {
        actorName,
        actorType,
        attribution: random.pick(['claimed_by_perpetrator', 'alleged_by_victim', 'suspected_by_documenter'] as const),
      };
    }),
    sources: [],
    ...overrides,
  };
  // The type of death follows from the index, not from `random`, so the other choices stay as they were.
  const deathType = body.attackTypes.includes('killing') ? [...deathTypes.codes, null][index % (deathTypes.codes.length + 1)] : null;
  return { deathType, ...body };
}

/** Who is looking, as the model sees it. */
export type Viewer = { role: 'public' } | { role: Role; organisationId: string };

/** The organisation whose protected victims (and protected-victim filter) the viewer may use. */
export function ownOrganisationOf(viewer: Viewer): string | undefined {
  return viewer.role === 'editor' || viewer.role === 'reviewer' ? (viewer as { organisationId: string }).organisationId : undefined;
}

/**
 * Drafts: the owning organisation's editors, reviewers and researchers, and researchers of the
 * organisations in `sharingWithResearchers` (those that share drafts with all researchers,
 * PUT /v1/organisations/{id}/sharing; by default no organisation shares).
 */
export function modelVisible(record: ModelIncident, viewer: Viewer, sharingWithResearchers: ReadonlySet<string> = new Set()): boolean {
  if (record.deleted) return false;
  if (record.visibility === 'published') return true;
  if (viewer.role === 'researcher')
    return viewer.organisationId === record.organisationId || sharingWithResearchers.has(record.organisationId);
  return ownOrganisationOf(viewer) === record.organisationId;
}

/** [first, last] day the incident may have happened on, from the create input. */
export function modelDateSpan(date: CreateIncidentInput['date'] | { precision: string; value: string }): [string, string] {
  const lastDay = (yearMonth: string) => {
    const [year, month] = yearMonth.split('-').map(Number) as [number, number];
    const days = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
      month - 1
    ]!;
    return `${yearMonth}-${days}`;
  };
  if (date.precision === 'range') return [(date as { from: string }).from, (date as { to: string }).to];
  const value = (date as { value: string }).value;
  if (value.length === 4) return [`${value}-01-01`, `${value}-12-31`];
  if (value.length === 7) return [`${value}-01`, lastDay(value)];
  return [value, value];
}

type ModelVictim = CreateIncidentInput['victims'][number];

/** Whether one victim satisfies all victim filters (protected genders only inside the owner). */
export function modelVictimMatches(victim: ModelVictim, record: ModelIncident, params: Record<string, string>, viewer: Viewer) {
  const list = (name: string) =>
    params[name]
      ?.split(',')
      .map((part) => part.trim())
      .filter(Boolean);
  const [roles, outcomes, genders] = [list('victimRole'), list('victimOutcome'), list('victimGender')];
  if (roles && !roles.includes(victim.role ?? '')) return false;
  if (outcomes && !outcomes.includes(victim.outcome ?? '')) return false;
  if (genders && !genders.includes(victim.gender ?? '')) return false;
  if (genders && victim.protected && ownOrganisationOf(viewer) !== record.organisationId) return false;
  return true;
}

/** The documented filter semantics, in plain JS: AND across parameters, OR within a comma list. */
export function modelMatches(record: ModelIncident, params: Record<string, string>, viewer: Viewer): boolean {
  const list = (name: string) =>
    params[name]
      ?.split(',')
      .map((part) => part.trim())
      .filter(Boolean);
  const inList = (name: string, value: string | null | undefined) => !list(name) || list(name)!.includes(value ?? '');
  // Case-insensitive, with the Turkish dotted capital I equal to i (JS alone would give i + U+0307).
  const lower = (values: string[] | undefined) => values?.map((value) => value.toLowerCase().replace(/i\u0307/g, 'i'));
  const { input } = record;
  if (params.q !== undefined) throw new Error('the model does not do text search; list expected ids by hand');
  if (!inList('country', input.location.country) || !inList('verificationStatus', record.verificationStatus)) return false;
  if (
    !inList('motive', input.motive) ||
    !inList('judicialOutcome', input.judicialOutcome) ||
    !inList('organisation', record.organisationId)
  )
    return false;
  if (!inList('deathType', input.deathType)) return false;
  if (params.region && !lower(list('region'))!.includes(lower([input.location.region ?? ''])![0]!)) return false;
  if (params.city && !lower(list('city'))!.includes(lower([input.location.city ?? ''])![0]!)) return false;
  if (params.attackType && !input.attackTypes.some((type) => list('attackType')!.includes(type))) return false;
  if (params.updatedSince && Date.parse(record.updatedAt) < Date.parse(params.updatedSince)) return false;

  const [start, end] = modelDateSpan(input.date);
  const from = params.dateFrom ? modelDateSpan({ precision: 'bound', value: params.dateFrom })[0] : undefined;
  const to = params.dateTo ? modelDateSpan({ precision: 'bound', value: params.dateTo })[1] : undefined;
  if (params.dateMatch === 'within' ? (from && start < from) || (to && end > to) : (from && end < from) || (to && start > to)) return false;

  if (params.bbox) {
    const [west, south, east, north] = params.bbox.split(',').map(Number) as [number, number, number, number];
    const point = input.location.coordinates;
    if (!point || point.latitude < south || point.latitude > north) return false;
    const inLongitude =
      west <= east ? point.longitude >= west && point.longitude <= east : point.longitude >= west || point.longitude <= east;
    if (!inLongitude) return false;
  }
  if (
    (params.victimRole || params.victimOutcome || params.victimGender) &&
    !input.victims.some((victim) => modelVictimMatches(victim, record, params, viewer))
  ) {
    return false;
  }
  if (params.actorType || params.attribution || params.actorName) {
    const name = params.actorName?.toLowerCase();
    const claimMatches = input.perpetratorClaims.some(
      (claim) =>
        inList('actorType', claim.actorType) &&
        inList('attribution', claim.attribution) &&
        (!name || claim.actorName.toLowerCase().includes(name)),
    );
    if (!claimMatches) return false;
  }
  if (params.hasProtectedVictims !== undefined) {
    if (record.organisationId !== ownOrganisationOf(viewer)) return false;
    if (input.victims.some((victim) => victim.protected) !== (params.hasProtectedVictims === 'true')) return false;
  }
  return true;
}

/** Ids of every incident a list request returns, following nextCursor; fails on a repeated id. */
export async function listAllIds(app: TestApp, params: Record<string, string>, key?: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '200', ...params, ...(cursor ? { cursor } : {}) });
    const response = await freshGet(app, `/v1/incidents?${query}`, key);
    if (response.status !== 200) throw new Error(`GET /v1/incidents?${query} answered ${response.status}: ${response.text}`);
    ids.push(...response.body.data.map((incident: { id: string }) => incident.id));
    cursor = response.body.nextCursor;
  } while (cursor);
  if (new Set(ids).size !== ids.length) throw new Error(`an incident was listed twice for ${JSON.stringify(params)}`);
  return ids;
}

/**
 * GET over a new connection each time. The tests above pause for seconds between requests
 * while they write through the service layer (PGlite runs on this same event loop), and a
 * kept-alive fetch socket can then be closed by the server just as fetch reuses it (ECONNRESET).
 */
export function freshGet(app: TestApp, path: string, key?: string, extraHeaders: Record<string, string> = {}): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...extraHeaders, ...(key ? { authorization: `Bearer ${key}` } : {}) };
    const outgoing = httpRequest(`${app.url}${path}`, { method: 'GET', headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
        const json = /json/.test(incoming.headers['content-type'] ?? '') && text ? JSON.parse(text) : undefined;
        resolve({ status: incoming.statusCode ?? 0, headers: responseHeaders, body: json, text });
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
