import { type Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { selectCandidates } from './candidate.queries.ts';
import type { DuplicateReason } from './duplicate-score.ts';

/**
 * Writes and reads around duplicates other than the candidate search: stored flags and the
 * merged_into link. Reads filter with visibleTo, like every read. (Victim name keys are kept by
 * incidents: src/incidents/victim-name-keys.queries.ts.)
 */

export interface FlagInput {
  candidateId: string;
  score: number;
  reasons: DuplicateReason[];
}

/** Stores likely duplicates of incidents, in one statement per 10,000 flags; flagging the same pair again updates it. */
export async function saveFlagsOf(trx: Transaction<Database>, incidents: ReadonlyArray<{ incidentId: string; flags: FlagInput[] }>) {
  const rows = incidents.flatMap(({ incidentId, flags }) =>
    flags.map((flag) => ({
      incident_id: incidentId,
      candidate_id: flag.candidateId,
      score: flag.score,
      reasons: JSON.stringify(flag.reasons),
    })),
  );
  for (let start = 0; start < rows.length; start += 10_000) {
    await trx
      .insertInto('duplicate_flags')
      .values(rows.slice(start, start + 10_000))
      .onConflict((oc) =>
        oc
          .columns(['incident_id', 'candidate_id'])
          .doUpdateSet((eb) => ({ score: eb.ref('excluded.score'), reasons: eb.ref('excluded.reasons') })),
      )
      .execute();
  }
}

/** Open flags of an incident whose candidate the caller may still see, highest score first. */
export async function listOpenFlags(db: DbOrTransaction, actor: Actor, incidentId: string) {
  const flags = await db
    .selectFrom('duplicate_flags')
    .select(['candidate_id', 'score', 'reasons'])
    .where('incident_id', '=', incidentId)
    .where('resolved', '=', false)
    .orderBy('score', 'desc')
    .orderBy('candidate_id')
    .execute();
  if (flags.length === 0) return [];
  const rows = await selectCandidates(db, actor, incidentId)
    .where(
      'incidents.id',
      'in',
      flags.map((flag) => flag.candidate_id),
    )
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return flags.flatMap((flag) => {
    const row = byId.get(flag.candidate_id);
    return row ? [{ row, score: flag.score, reasons: flag.reasons as DuplicateReason[] }] : [];
  });
}

/** After a merge, flags that involve the merged incident are settled. */
export async function resolveFlagsInvolving(trx: Transaction<Database>, incidentId: string) {
  await trx
    .updateTable('duplicate_flags')
    .set({ resolved: true })
    .where((eb) => eb.or([eb('incident_id', '=', incidentId), eb('candidate_id', '=', incidentId)]))
    .where('resolved', '=', false)
    .execute();
}

/** Marks the loser of a merge; its version moves on like any other write. */
export async function markMerged(trx: Transaction<Database>, loserId: string, survivorId: string, at: Date) {
  await trx
    .updateTable('incidents')
    .set((eb) => ({ merged_into: survivorId, merged_at: at, version: eb('version', '+', 1), updated_at: at }))
    .where('id', '=', loserId)
    .execute();
}
