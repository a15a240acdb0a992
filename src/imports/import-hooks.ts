import type { Transaction } from 'kysely';
import type { MemberActor } from '../auth/actor.ts';
import type { WriteContext } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';
import { findStoredDuplicates, flagBatchDuplicates } from '../duplicates/duplicate.service.ts';
import type { CreateIncidentInput, Incident } from '../incidents/incident.schemas.ts';

/**
 * Duplicate detection as the import uses it (src/duplicates/, set-based: a few statements per
 * batch of rows). With onDuplicate=skip, `findSameIncidents` runs first, over batches of the
 * file's rows before any is written, so only incidents stored before the import count (the
 * dry run runs it too). Then, for each batch of incidents it creates, inside the import's
 * transaction and after the batch is written, `flagDuplicates` stores the likely duplicates in
 * duplicate_flags and lists them with the created rows in the import report. Both POST
 * /v1/imports and `npm run import` use `importHooks`; a caller can pass other hooks (the
 * benchmark measures an import without detection: no hook, nothing skipped or flagged).
 */
/** A likely duplicate as an import report lists it (src/duplicates/ has the full candidate). */
export interface ReportedDuplicate {
  incidentId: string;
  score: number;
  [detail: string]: unknown;
}

export type FlagDuplicates = (
  trx: Transaction<Database>,
  created: readonly Incident[],
  context: WriteContext,
) => Promise<ReadonlyMap<string, readonly ReportedDuplicate[]> | void>;

/** For each input, the stored incident it is the same as (see SAME_INCIDENT_THRESHOLD), or undefined. */
export type FindSameIncidents = (
  trx: Transaction<Database>,
  inputs: readonly CreateIncidentInput[],
  actor: MemberActor,
) => Promise<Array<ReportedDuplicate | undefined>>;

export interface ImportHooks {
  flagDuplicates?: FlagDuplicates | undefined;
  findSameIncidents?: FindSameIncidents | undefined;
}

/**
 * The score from which an import row counts as an incident already stored and is not created
 * (onDuplicate=skip). Stricter than DUPLICATE_THRESHOLD (0.6, flagging): a wrong flag costs a
 * reviewer a look, a wrong skip silently loses an incident. With the weights of
 * duplicate-score.ts (name 0.5, date 0.25, country 0.1, city 0.05, attack type 0.1), 0.95
 * needs all of: a victim name matching at 0.9 or more (the same name once spelling and word
 * order are set aside, or nearly the same spelling), overlapping dates, the same country and a
 * shared attack type. So the same journalist detained in two different years, threatened and later
 * killed in the same city and year, or attacked a few days apart, is created and flagged,
 * never skipped.
 */
export const SAME_INCIDENT_THRESHOLD = 0.95;

/** A candidate as the report lists it: the incident's id, the score and the reasons. */
const reported = (candidate: { id: string; score: number; reasons: unknown }): ReportedDuplicate => ({
  incidentId: candidate.id,
  score: candidate.score,
  reasons: candidate.reasons,
});

export const flagImportedDuplicates: FlagDuplicates = async (trx, created, context) => {
  const likely = await flagBatchDuplicates(trx, context.actor, created);
  return new Map([...likely].map(([id, candidates]) => [id, candidates.map(reported)]));
};

/**
 * Candidates come only from what the importing editor may read (visibleTo: its organisation's
 * incidents and others' published ones), so another organisation's draft is never a reason to
 * skip, never named in the report, and its row is created as if it did not exist.
 */
export const findSameStoredIncidents: FindSameIncidents = async (trx, inputs, actor) =>
  (await findStoredDuplicates(trx, actor, inputs)).map(([best]) =>
    best && best.score >= SAME_INCIDENT_THRESHOLD ? reported(best) : undefined,
  );

export const importHooks: ImportHooks = { flagDuplicates: flagImportedDuplicates, findSameIncidents: findSameStoredIncidents };
