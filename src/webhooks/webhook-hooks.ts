import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { incidentHooks, type IncidentChange } from '../incidents/incident-hooks.ts';
import type { WebhookEventType } from './webhook.schemas.ts';

/**
 * The transactional outbox: webhooks listen to incident writes (src/incidents/incident-hooks.ts)
 * and write one webhook_events row per change, in the writing transaction. A change that
 * commits has its events; one that rolls back has none. The delivery worker (delivery-worker.ts)
 * fans them out to the endpoints later. Nothing is written while no endpoint is enabled.
 * Called once by src/app.ts; calling it again changes nothing.
 */
const EVENT_TYPES: Partial<Record<IncidentChange['kind'], WebhookEventType>> = {
  published: 'incident.published',
  updated: 'incident.updated',
  unpublished: 'incident.unpublished',
  deleted: 'incident.deleted',
  verification_changed: 'incident.verification_changed',
  merged: 'incident.merged',
};

async function anyEndpointListening(trx: Transaction<Database>) {
  return Boolean(
    await trx
      .selectFrom('webhook_endpoints')
      .select(sql<number>`1`.as('one'))
      .where('enabled', '=', true)
      .where('deleted_at', 'is', null)
      .limit(1)
      .executeTakeFirst(),
  );
}

export function listenForWebhookEvents(): void {
  incidentHooks.changeListeners.set('webhooks', async (trx, _context, changes) => {
    const rows = changes.flatMap((change) => {
      const type = EVENT_TYPES[change.kind];
      return type
        ? [
            {
              type,
              incident_id: change.incidentId,
              organisation_id: change.organisationId,
              was_published: change.wasPublished,
              merged_into: change.mergedInto ?? null,
              order_key: `incident:${change.incidentId}`,
            },
          ]
        : [];
    });
    if (!rows.length) return;
    if (await anyEndpointListening(trx)) await trx.insertInto('webhook_events').values(rows).execute();
  });
  incidentHooks.importListeners.set('webhooks', async (trx, _context, completed) => {
    if (!(await anyEndpointListening(trx))) return;
    await trx
      .insertInto('webhook_events')
      .values({
        type: 'import.completed',
        incident_id: null,
        organisation_id: completed.organisationId,
        order_key: `import:${completed.importId}`,
        detail: JSON.stringify({ importId: completed.importId, format: completed.format, counts: completed.counts }),
      })
      .execute();
  });
}
