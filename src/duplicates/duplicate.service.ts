import type { Transaction } from 'kysely';
import type { Actor, KeyActor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { NotFoundError } from '../errors.ts';
import { fromStoredDate, toStoredDate } from '../incidents/incident-date.ts';
import { viewFor } from '../incidents/incident-shapes.ts';
import { findIncidentTree } from '../incidents/incident.queries.ts';
import type { CreateIncidentInput } from '../incidents/incident.schemas.ts';
import { DUPLICATE_THRESHOLD, scoreDuplicate, type ScoredIncident } from './duplicate-score.ts';
import type { DuplicateCandidate } from './duplicate.schemas.ts';
import {
  findCandidatesBySameName,
  findCandidatesBySimilarName,
  findCandidatesNearby,
  type CandidateRow,
  type CandidateSearch,
} from './candidate.queries.ts';
import { listOpenFlags, refreshVictimNameKeys, saveFlags } from './duplicate.queries.ts';
import { nameForms } from './name-key.ts';

/**
 * Duplicate detection: SQL finds a short list (candidate.queries.ts), TypeScript scores it.
 * Scores are per caller: protected victims the caller may not know play no part, so neither a
 * score nor a reason can reveal one.
 */
const CANDIDATE_LIMIT = 100;

/** Whose protected victims the actor may compare: its own organisation's, as an editor or reviewer. */
const protectedVictimsFor = (actor: Actor) => (organisationId: string) => viewFor(actor, organisationId) === 'full';

type VictimRow = { name: string | null; name_original: string | null; aliases: string[]; protected: boolean };
type IncidentLike = Pick<CandidateRow, 'id' | 'organisation_id' | 'date_start' | 'date_end' | 'date_precision' | 'country' | 'city' | 'attack_types'> & {
  victims: VictimRow[];
};

function toScored(row: IncidentLike): ScoredIncident {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    date: fromStoredDate(row),
    country: row.country.trim(),
    city: row.city,
    attackTypes: row.attack_types,
    victims: row.victims.map((victim) => ({
      name: victim.name, nameOriginal: victim.name_original, aliases: victim.aliases, protected: victim.protected,
    })),
  };
}

function toCandidate(row: CandidateRow, score: number, reasons: DuplicateCandidate['reasons']): DuplicateCandidate {
  return {
    id: row.id,
    score,
    reasons,
    incident: {
      title: row.title,
      date: fromStoredDate(row),
      location: { country: row.country.trim(), city: row.city },
      organisation: { name: row.organisation_name },
    },
  };
}

/**
 * Create and import look up, cheaply, what can reach the threshold: the same name in the same
 * country or at overlapping dates, and similar names in the same country at overlapping dates.
 * The ranked list searches similar names in the same country or at overlapping dates (trigram
 * index), and incidents at the same place and time with a shared attack type, whatever the names.
 */
const STRATEGIES = {
  flag: [findCandidatesBySameName, (db, actor, search, limit) => findCandidatesNearby(db, actor, search, 'names', limit)],
  list: [findCandidatesBySimilarName, (db, actor, search, limit) => findCandidatesNearby(db, actor, search, 'attackType', limit)],
} satisfies Record<string, Array<(db: DbOrTransaction, actor: Actor, search: CandidateSearch, limit: number) => Promise<CandidateRow[]>>>;

async function rankCandidates(db: DbOrTransaction, actor: Actor, subjectRow: IncidentLike, purpose: keyof typeof STRATEGIES) {
  const mayUseProtected = protectedVictimsFor(actor);
  const subject = toScored(subjectRow);
  const usableVictims = subject.victims.filter((victim) => !victim.protected || mayUseProtected(subject.organisationId));
  const search: CandidateSearch = {
    id: subject.id,
    country: subject.country,
    dateStart: subject.date.start,
    dateEnd: subject.date.end,
    attackTypes: subject.attackTypes,
    nameKeys: usableVictims.flatMap((victim) => nameForms(victim).map((form) => form.key)),
  };
  const rows = new Map<string, CandidateRow>();
  for (const find of STRATEGIES[purpose]) {
    for (const row of await find(db, actor, search, CANDIDATE_LIMIT)) rows.set(row.id, row);
  }
  return [...rows.values()]
    .map((row) => {
      const { score, reasons } = scoreDuplicate(subject, toScored(row), mayUseProtected);
      return toCandidate(row, score, reasons);
    })
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}

/** GET /v1/incidents/:id/duplicates: candidates the actor may see, computed now, best first. */
export async function findDuplicates(db: DbOrTransaction, actor: Actor, incidentId: string, options: { limit: number; minScore: number }) {
  const subject = await findIncidentTree(db, incidentId, actor);
  if (!subject) throw new NotFoundError('Incident not found.');
  const candidates = await rankCandidates(db, actor, subject, 'list');
  return candidates.filter((candidate) => candidate.score >= options.minScore).slice(0, options.limit);
}

/**
 * The per-incident hook for create and import: refreshes the incident's victim name keys,
 * finds likely duplicates (score >= 0.6) among incidents `actor` may see and stores them in
 * duplicate_flags. Run it inside the write's transaction, after the victims are written.
 * Incidents created earlier in the same transaction are candidates too.
 */
export async function flagDuplicates(trx: Transaction<Database>, actor: Actor, incidentId: string): Promise<DuplicateCandidate[]> {
  await refreshVictimNameKeys(trx, incidentId);
  const subject = await findIncidentTree(trx, incidentId);
  if (!subject) throw new NotFoundError('Incident not found.');
  const likely = (await rankCandidates(trx, actor, subject, 'flag')).filter((candidate) => candidate.score >= DUPLICATE_THRESHOLD);
  await saveFlags(trx, incidentId, likely.map((candidate) => ({ candidateId: candidate.id, score: candidate.score, reasons: candidate.reasons })));
  return likely;
}

/** The stored, unresolved flags of an incident, as far as the actor may still see the candidates. */
export async function possibleDuplicates(db: DbOrTransaction, actor: Actor, incidentId: string): Promise<DuplicateCandidate[]> {
  const flags = await listOpenFlags(db, actor, incidentId);
  return flags.map((flag) => toCandidate(flag.row, flag.score, flag.reasons));
}

/**
 * For src/imports/import-hooks.ts (`importHooks.flagDuplicates`): an import creates each incident
 * with createIncident, which has already flagged it; this reads back what was stored, for the
 * import report. An importer that writes rows without createIncident calls flagDuplicates instead.
 */
export async function importDuplicatesHook(trx: Transaction<Database>, incidentId: string, context: { actor: Actor }) {
  const flagged = await possibleDuplicates(trx, context.actor, incidentId);
  return flagged.map(({ id, score, reasons }) => ({ incidentId: id, score, reasons }));
}

/**
 * Likely duplicates of an incident not written yet, e.g. an import row, so the caller can
 * decide not to create it twice. Same candidates and scores as flagDuplicates would give.
 */
export async function findLikelyDuplicates(db: DbOrTransaction, actor: KeyActor, input: CreateIncidentInput): Promise<DuplicateCandidate[]> {
  const subject: IncidentLike = {
    id: '00000000-0000-0000-0000-000000000000',
    organisation_id: actor.organisationId,
    ...toStoredDate(input.date),
    country: input.location.country,
    city: input.location.city ?? null,
    attack_types: input.attackTypes,
    victims: input.victims.map((victim) => ({
      name: victim.name ?? null, name_original: victim.nameOriginal ?? null, aliases: victim.aliases, protected: victim.protected,
    })),
  };
  return (await rankCandidates(db, actor, subject, 'flag')).filter((candidate) => candidate.score >= DUPLICATE_THRESHOLD);
}
