import { sql, type Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { visibleTo } from '../incidents/incident.queries.ts';
import { selectCandidates } from './candidate.queries.ts';
import type { DuplicateReason } from './duplicate-score.ts';
import { duplicatesDb } from './duplicate.tables.ts';
import { victimNameKey } from './name-key.ts';

/**
 * Writes and reads around duplicates other than the candidate search: victim name keys,
 * stored flags, and the merged_into link. Reads filter with visibleTo, like every read.
 */

/** Recomputes victims.name_key of one incident; call after its victims were written. */
export async function refreshVictimNameKeys(trx: Transaction<Database>, incidentId: string) {
  const ddb = duplicatesDb(trx);
  const victims = await ddb.selectFrom('victims').select(['id', 'name', 'name_original', 'name_key']).where('incident_id', '=', incidentId).execute();
  const changed = victims.map((victim) => ({ id: victim.id, key: victimNameKey(victim), old: victim.name_key })).filter((row) => row.key !== row.old);
  if (changed.length === 0) return;
  await sql`update victims set name_key = v.key
    from (values ${sql.join(changed.map((row) => sql`(${row.id}::uuid, ${row.key}::text)`))}) as v (id, key)
    where victims.id = v.id`.execute(trx);
}

/**
 * Merges the pending list of the trigram index on victims.name_key into the index. After a bulk
 * insert (an import batch) the list holds thousands of entries that every lookup through that
 * index scans in full, and the planner still picks it for name-key equality: 40 ms per lookup on
 * 8,000 victims instead of microseconds through the btree. Only the index's owner may do this;
 * for another database user it is skipped (imports are then slower, not wrong).
 */
export async function mergePendingNameKeys(trx: Transaction<Database>) {
  await sql`select gin_clean_pending_list(index.oid) from pg_class as index
    where index.relname = 'victims_name_key_trgm_idx' and pg_has_role(index.relowner, 'usage')`.execute(trx);
}

export interface FlagInput {
  candidateId: string;
  score: number;
  reasons: DuplicateReason[];
}

/** Stores likely duplicates of incidents, in one statement per 10,000 flags; flagging the same pair again updates it. */
export async function saveFlagsOf(trx: Transaction<Database>, incidents: ReadonlyArray<{ incidentId: string; flags: FlagInput[] }>) {
  const rows = incidents.flatMap(({ incidentId, flags }) =>
    flags.map((flag) => ({ incident_id: incidentId, candidate_id: flag.candidateId, score: flag.score, reasons: JSON.stringify(flag.reasons) })));
  for (let start = 0; start < rows.length; start += 10_000) {
    await duplicatesDb(trx)
      .insertInto('duplicate_flags')
      .values(rows.slice(start, start + 10_000))
      .onConflict((oc) => oc.columns(['incident_id', 'candidate_id']).doUpdateSet((eb) => ({ score: eb.ref('excluded.score'), reasons: eb.ref('excluded.reasons') })))
      .execute();
  }
}

/** Open flags of an incident whose candidate the caller may still see, highest score first. */
export async function listOpenFlags(db: DbOrTransaction, actor: Actor, incidentId: string) {
  const flags = await duplicatesDb(db)
    .selectFrom('duplicate_flags')
    .select(['candidate_id', 'score', 'reasons'])
    .where('incident_id', '=', incidentId)
    .where('resolved', '=', false)
    .orderBy('score', 'desc')
    .orderBy('candidate_id')
    .execute();
  if (flags.length === 0) return [];
  const rows = await selectCandidates(db, actor, incidentId).where('incidents.id', 'in', flags.map((flag) => flag.candidate_id)).execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return flags.flatMap((flag) => {
    const row = byId.get(flag.candidate_id);
    return row ? [{ row, score: flag.score, reasons: flag.reasons as DuplicateReason[] }] : [];
  });
}

/** After a merge, flags that involve the merged incident are settled. */
export async function resolveFlagsInvolving(trx: Transaction<Database>, incidentId: string) {
  await duplicatesDb(trx)
    .updateTable('duplicate_flags')
    .set({ resolved: true })
    .where((eb) => eb.or([eb('incident_id', '=', incidentId), eb('candidate_id', '=', incidentId)]))
    .where('resolved', '=', false)
    .execute();
}

/**
 * Where a merged incident lives on (following merges of merges), for a caller who could read
 * the merged incident before and may see the survivor: otherwise a merged draft's id would
 * answer differently from a missing one, and its existence would leak.
 */
export async function findMergeSurvivor(db: DbOrTransaction, actor: Actor, id: string): Promise<string | undefined> {
  const readable = await db.selectFrom('incidents').select('id').where('id', '=', id).where(visibleTo(actor, { evenIfMerged: true })).executeTakeFirst();
  if (!readable) return undefined;
  let current = id;
  for (let hop = 0; hop < 20; hop++) {
    const row = await duplicatesDb(db).selectFrom('incidents').select('merged_into').where('id', '=', current).executeTakeFirst();
    if (!row?.merged_into) break;
    current = row.merged_into;
  }
  if (current === id) return undefined;
  const visible = await db.selectFrom('incidents').select('id').where('id', '=', current).where(visibleTo(actor)).executeTakeFirst();
  return visible?.id;
}

/** Marks the loser of a merge; its version moves on like any other write. */
export async function markMerged(trx: Transaction<Database>, loserId: string, survivorId: string, at: Date) {
  await duplicatesDb(trx)
    .updateTable('incidents')
    .set((eb) => ({ merged_into: survivorId, merged_at: at, version: eb('version', '+', 1), updated_at: at }))
    .where('id', '=', loserId)
    .execute();
}
