import { sql } from 'kysely';
import { PUBLIC_ACTOR } from '../auth/actor.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import type { IncidentFilters } from '../incidents/incident-filters.ts';
import { listIncidentPage } from '../incidents/incident-list.queries.ts';

/**
 * What a feed shows: the published incidents matching the filters, most recently changed first
 * (the list's own query, sort=-updated, as the public sees it), and the tombstones of incidents
 * that left the public view.
 */
export async function latestPublicIncidents(db: DbOrTransaction, filters: IncidentFilters, limit: number) {
  const { rows } = await listIncidentPage(db, PUBLIC_ACTOR, { filters, sort: '-updated', limit });
  return rows;
}

export interface Tombstone {
  incidentId: string;
  reason: 'unpublished' | 'deleted' | 'merged';
  withdrawnAt: Date;
}

/**
 * The latest withdrawal of each incident that is not public now (one published again is an
 * entry once more). Not narrowed by the filters: a withdrawn incident's current record is no
 * longer public (a draft may have been edited since), so matching it against a filter would tell
 * the public something about it. Only `updatedSince` applies, to the withdrawal time.
 */
export async function latestTombstones(db: DbOrTransaction, updatedSince: string | undefined, limit: number): Promise<Tombstone[]> {
  let query = db
    .selectFrom('incident_withdrawals as w')
    .innerJoin('incidents', 'incidents.id', 'w.incident_id')
    .select(['w.incident_id', 'w.reason', 'w.withdrawn_at'])
    .distinctOn('w.incident_id')
    .where(sql<boolean>`not (incidents.visibility = 'published' and incidents.deleted_at is null and incidents.merged_into is null)`)
    .orderBy('w.incident_id')
    .orderBy('w.withdrawn_at', 'desc')
    .orderBy('w.id', 'desc');
  if (updatedSince) query = query.where('w.withdrawn_at', '>=', new Date(updatedSince));
  const latest = await db.selectFrom(query.as('latest')).selectAll().orderBy('latest.withdrawn_at', 'desc').limit(limit).execute();
  return latest.map((row) => ({ incidentId: row.incident_id, reason: row.reason, withdrawnAt: row.withdrawn_at }));
}
