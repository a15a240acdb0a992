import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Actor, MemberActor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { NotFoundError } from '../errors.ts';
import { fromStoredDate, toStoredDate } from '../incidents/incident-date.ts';
import { viewFor } from '../incidents/incident-shapes.ts';
import { findIncidentTree } from '../incidents/incident.queries.ts';
import type { CreateIncidentInput, Incident } from '../incidents/incident.schemas.ts';
import { DUPLICATE_THRESHOLD, scoreDuplicate, type ScoredIncident } from './duplicate-score.ts';
import type { DuplicateCandidate } from './duplicate.schemas.ts';
import {
  findCandidatePairs,
  findCandidatesBySameName,
  findCandidatesBySimilarName,
  findCandidatesNearby,
  type CandidateRow,
  selectCandidates,
  type CandidateSearch,
} from './candidate.queries.ts';
import { mergePendingNameKeys } from '../incidents/victim-name-keys.queries.ts';
import { listOpenFlags, saveFlagsOf } from './duplicate.queries.ts';
import { nameForms } from '../incidents/name-key.ts';
import { openedVictim } from '../incidents/sealed-fields.ts';

/**
 * Duplicate detection: SQL finds a short list (candidate.queries.ts), TypeScript scores it.
 * Scores are per caller: protected victims the caller may not know play no part, so neither a
 * score nor a reason can reveal one.
 */
const CANDIDATE_LIMIT = 100;

/** Whose protected victims the actor may compare: its own organisation's, as an editor or reviewer. */
const protectedVictimsFor = (actor: Actor) => (organisationId: string) => viewFor(actor, organisationId) === 'full';

type VictimRow = {
  name: string | null;
  name_original: string | null;
  aliases: string[];
  protected: boolean;
  id?: string;
  identity_sealed?: string | null;
};
type IncidentLike = Pick<
  CandidateRow,
  'id' | 'organisation_id' | 'date_start' | 'date_end' | 'date_precision' | 'country' | 'city' | 'attack_types'
> & {
  victims: VictimRow[];
};

/** A candidate's victim as selected (candidate.queries.ts), a protected one's sealed names opened (src/incidents/sealed-fields.ts). */
function openedCandidateVictim(victim: VictimRow): VictimRow {
  if (!victim.identity_sealed || !victim.id) return victim;
  return openedVictim({ outlet: null, nationality: null, ...victim, id: victim.id, identity_sealed: victim.identity_sealed });
}

function toScored(row: IncidentLike): ScoredIncident {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    date: fromStoredDate(row),
    country: row.country.trim(),
    city: row.city,
    attackTypes: row.attack_types,
    victims: row.victims.map(openedCandidateVictim).map((victim) => ({
      name: victim.name,
      nameOriginal: victim.name_original,
      aliases: victim.aliases,
      protected: victim.protected,
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

/** What to search for: the subject's victims' name keys, as far as the actor may use them. */
function searchFor(actor: Actor, subject: ScoredIncident): CandidateSearch {
  const usableVictims = subject.victims.filter((victim) => !victim.protected || protectedVictimsFor(actor)(subject.organisationId));
  return {
    id: subject.id,
    country: subject.country,
    dateStart: subject.date.start,
    dateEnd: subject.date.end,
    attackTypes: subject.attackTypes,
    nameKeys: usableVictims.flatMap((victim) => nameForms(victim).map((form) => form.key)),
  };
}

/** Scores the rows the prefilters found, best first. */
function scoreCandidates(actor: Actor, subject: ScoredIncident, rows: Iterable<CandidateRow>): DuplicateCandidate[] {
  const mayUseProtected = protectedVictimsFor(actor);
  return [...rows]
    .map((row) => {
      const { score, reasons } = scoreDuplicate(subject, toScored(row), mayUseProtected);
      return toCandidate(row, score, reasons);
    })
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}

async function rankCandidates(db: DbOrTransaction, actor: Actor, subjectRow: IncidentLike, purpose: keyof typeof STRATEGIES) {
  const subject = toScored(subjectRow);
  const search = searchFor(actor, subject);
  const rows = new Map<string, CandidateRow>();
  for (const find of STRATEGIES[purpose]) {
    for (const row of await find(db, actor, search, CANDIDATE_LIMIT)) rows.set(row.id, row);
  }
  return scoreCandidates(actor, subject, rows.values());
}

/** GET /v1/incidents/:id/duplicates: candidates the actor may see, computed now, best first. */
export async function findDuplicates(db: DbOrTransaction, actor: Actor, incidentId: string, options: { limit: number; minScore: number }) {
  const row = await findIncidentTree(db, incidentId, actor);
  if (!row) throw new NotFoundError('Incident not found.');
  // Victims an access group closes to the caller play no part (src/incidents/access.queries.ts).
  const subject = { ...row, victims: row.victims.filter((victim) => !victim.sealed && !(row.sealed && victim.protected)) };
  const candidates = await rankCandidates(db, actor, subject, 'list');
  return candidates.filter((candidate) => candidate.score >= options.minScore).slice(0, options.limit);
}

/**
 * The per-incident check of a create (incident-hooks.ts afterCreate): finds likely duplicates (score >= 0.6) among incidents `actor` may see and stores them in
 * duplicate_flags. Run it inside the write's transaction, after the victims are written.
 * Incidents created earlier in the same transaction are candidates too.
 */
export async function flagDuplicates(trx: Transaction<Database>, actor: Actor, incidentId: string): Promise<DuplicateCandidate[]> {
  const subject = await findIncidentTree(trx, incidentId);
  if (!subject) throw new NotFoundError('Incident not found.');
  const likely = (await rankCandidates(trx, actor, subject, 'flag')).filter((candidate) => candidate.score >= DUPLICATE_THRESHOLD);
  await saveFlagsOf(trx, [{ incidentId, flags: likely.map(flagOf) }]);
  return likely;
}

/** The stored, unresolved flags of an incident, as far as the actor may still see the candidates. */
export async function possibleDuplicates(db: DbOrTransaction, actor: Actor, incidentId: string): Promise<DuplicateCandidate[]> {
  const flags = await listOpenFlags(db, actor, incidentId);
  return flags.map((flag) => toCandidate(flag.row, flag.score, flag.reasons));
}

/**
 * flagDuplicates for a batch of incidents just written together (an import chunk), set-based:
 * the same prefilters as for one create, each run once for the whole batch
 * (findCandidatePairs), one read of the candidates, the same scoring, one insert of the flags.
 * A subject's candidates include incidents of earlier batches and those before it in this one,
 * so the flags are those that creating the incidents one by one would store. Returns the
 * likely duplicates of each incident, by id, for the import report.
 */
export async function flagBatchDuplicates(trx: Transaction<Database>, actor: Actor, incidents: readonly Incident[]) {
  await mergePendingNameKeys(trx);
  const likely = await likelyDuplicatesOf(
    trx,
    actor,
    incidents.map((incident) => scoredFromIncident(incident)),
  );
  await saveFlagsOf(
    trx,
    [...likely].map(([incidentId, candidates]) => ({ incidentId, flags: candidates.map(flagOf) })),
  );
  return likely;
}

/**
 * Likely duplicates, among the incidents stored now, of inputs not written yet (an import's
 * rows, before any is created), set-based like flagBatchDuplicates: index i holds input i's
 * candidates, best first. Nothing is stored.
 */
export async function findStoredDuplicates(
  trx: Transaction<Database>,
  actor: MemberActor,
  inputs: readonly CreateIncidentInput[],
): Promise<DuplicateCandidate[][]> {
  const subjects = inputs.map((input) => toScored(subjectFromInput(randomUUID(), actor.organisationId, input)));
  const likely = await likelyDuplicatesOf(trx, actor, subjects);
  return subjects.map((subject) => likely.get(subject.id) ?? []);
}

/** The batch lookup: both flagging prefilters once for all subjects, one read of the candidates, then scoring. */
async function likelyDuplicatesOf(trx: Transaction<Database>, actor: Actor, subjects: readonly ScoredIncident[]) {
  const searches = subjects.map((subject, ord) => ({ ...searchFor(actor, subject), ord }));
  const pairs = [
    ...(await findCandidatePairs(trx, actor, searches, 'sameName', CANDIDATE_LIMIT)),
    ...(await findCandidatePairs(trx, actor, searches, 'nearbyName', CANDIDATE_LIMIT)),
  ];
  const candidateIds = [...new Set(pairs.map((pair) => pair.candidate_id))];
  const rows = new Map(
    (candidateIds.length
      ? await selectCandidates(trx, actor)
          .where('incidents.id', '=', sql<string>`any(${candidateIds}::uuid[])`)
          .execute()
      : []
    ).map((row) => [row.id, row]),
  );
  const found = new Map<string, Map<string, CandidateRow>>();
  for (const { subject_id, candidate_id } of pairs) {
    const row = rows.get(candidate_id);
    if (row) found.set(subject_id, (found.get(subject_id) ?? new Map()).set(candidate_id, row));
  }
  const likely = new Map<string, DuplicateCandidate[]>();
  for (const subject of subjects) {
    const candidates = scoreCandidates(actor, subject, found.get(subject.id)?.values() ?? []).filter(
      (candidate) => candidate.score >= DUPLICATE_THRESHOLD,
    );
    if (candidates.length) likely.set(subject.id, candidates);
  }
  return likely;
}

function scoredFromIncident(incident: Incident): ScoredIncident {
  return {
    id: incident.id,
    organisationId: incident.organisation.id,
    date: incident.date,
    country: incident.location.country,
    city: incident.location.city ?? null,
    attackTypes: incident.attackTypes,
    victims: incident.victims.map(({ name, nameOriginal, aliases, protected: isProtected }) => ({
      name,
      nameOriginal,
      aliases,
      protected: isProtected,
    })),
  };
}

const flagOf = (candidate: DuplicateCandidate) => ({ candidateId: candidate.id, score: candidate.score, reasons: candidate.reasons });

/** An input as the organisation's incident `id` would store it, as far as scoring reads it. */
function subjectFromInput(id: string, organisationId: string, input: CreateIncidentInput): IncidentLike {
  return {
    id,
    organisation_id: organisationId,
    ...toStoredDate(input.date),
    country: input.location.country,
    city: input.location.city ?? null,
    attack_types: input.attackTypes,
    victims: input.victims.map((victim) => ({
      name: victim.name ?? null,
      name_original: victim.nameOriginal ?? null,
      aliases: victim.aliases,
      protected: victim.protected,
    })),
  };
}
