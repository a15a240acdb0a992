import type { Transaction } from 'kysely';
import { requireRole } from '../auth/actor.ts';
import { appendAudit, type AuditEntry, type WriteContext } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';
import { announceChanges, type IncidentChange } from '../incidents/incident-hooks.ts';
import type { Incident } from '../incidents/incident.schemas.ts';
import type { PlannedRow } from './import-plan.ts';

/**
 * What a json import brings besides the incident itself (json-format.ts): its verification
 * history, status and visibility where it was exported. Runs in the import's transaction, right
 * after a batch is written, for that batch.
 *
 * - **History, always**: each change of the file's `verificationHistory` is stored as it was
 *   (from, to, note, time, who by name) and marked as imported (`import_id`, migration 0011), so
 *   it reads as history of the original instance, never as a decision taken here. It does not
 *   change the incident's status.
 * - **Status and visibility, only with a reviewer's authority** (`reviewer`: npm run import
 *   --visibility keep). An editor cannot set a status or publish; an editor's import (any import
 *   over the API) thus makes unverified drafts, whatever the file says, and a reviewer decides
 *   here. With a reviewer, an incident gets the file's status (audited as `incident.verification`
 *   by the reviewer) and, if published there, is published (`incident.publish`), as if the
 *   reviewer had made both changes right after the import.
 */
const INSERT_CHUNK = 1000;

export async function recordImportedState(
  trx: Transaction<Database>,
  importId: string,
  created: readonly Incident[],
  rows: readonly PlannedRow[],
  reviewer: WriteContext | undefined,
): Promise<void> {
  const history = created.flatMap((incident, index) =>
    (rows[index]?.state?.history ?? []).map((change) => ({
      incident_id: incident.id,
      from_status: change.from,
      to_status: change.to,
      note: change.note,
      changed_at: new Date(change.changedAt),
      changed_by: null,
      changed_by_name: change.changedBy,
      import_id: importId,
    })),
  );
  for (let start = 0; start < history.length; start += INSERT_CHUNK) {
    await trx
      .insertInto('verification_changes')
      .values(history.slice(start, start + INSERT_CHUNK))
      .execute();
  }
  if (!reviewer) return;
  requireRole(reviewer.actor, 'reviewer');

  for (const [index, incident] of created.entries()) {
    const state = rows[index]?.state;
    if (!state) continue;
    let view = incident;
    const audit: AuditEntry[] = [];
    const change = (action: string, fields: Partial<Incident>) => {
      const after = { ...view, ...fields, version: view.version + 1 } as Incident;
      audit.push({
        action,
        entityType: 'incident',
        entityId: incident.id,
        organisationId: reviewer.actor.organisationId,
        before: view,
        after,
      });
      view = after;
    };
    const now = new Date().toISOString();
    if (state.verificationStatus !== view.verificationStatus)
      change('incident.verification', { verificationStatus: state.verificationStatus as Incident['verificationStatus'], updatedAt: now });
    if (state.visibility === 'published' && view.visibility !== 'published')
      change('incident.publish', { visibility: 'published', publishedAt: now, updatedAt: now });
    if (view === incident) continue;
    await trx
      .updateTable('incidents')
      .set({
        verification_status: view.verificationStatus,
        visibility: view.visibility,
        published_at: view.publishedAt ? new Date(view.publishedAt) : null,
        version: view.version,
        updated_at: new Date(view.updatedAt),
      })
      .where('id', '=', incident.id)
      .execute();
    for (const entry of audit) await appendAudit(trx, reviewer, entry);
    // The same announcements as changeVerification and setVisibility make (feeds, webhooks).
    const changes: IncidentChange[] = audit.map((entry) => ({
      kind: entry.action === 'incident.publish' ? 'published' : 'verification_changed',
      incidentId: incident.id,
      organisationId: reviewer.actor.organisationId,
      wasPublished: false,
    }));
    await announceChanges(trx, reviewer, changes);
  }
}
