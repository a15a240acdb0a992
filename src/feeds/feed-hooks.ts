import { incidentHooks, type IncidentChange } from '../incidents/incident-hooks.ts';

/**
 * The Atom feed listens to incident writes (src/incidents/incident-hooks.ts): when a published
 * incident leaves the public view (unpublished, deleted, merged away), a row in
 * incident_withdrawals records it, in the same transaction, so the feed can send a tombstone.
 * Called once by src/app.ts; calling it again changes nothing.
 */
const WITHDRAWALS: Partial<Record<IncidentChange['kind'], 'unpublished' | 'deleted' | 'merged'>> = {
  unpublished: 'unpublished',
  deleted: 'deleted',
  merged: 'merged',
};

export function listenForWithdrawals(): void {
  incidentHooks.changeListeners.set('feeds', async (trx, _context, changes) => {
    const rows = changes.flatMap((change) => {
      const reason = WITHDRAWALS[change.kind];
      return reason && change.wasPublished ? [{ incident_id: change.incidentId, reason }] : [];
    });
    if (rows.length) await trx.insertInto('incident_withdrawals').values(rows).execute();
  });
}
