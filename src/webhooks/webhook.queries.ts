import { sql, type Selectable } from 'kysely';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from '../db/push-tables.ts';
import type { WebhookEventType } from './webhook.schemas.ts';

/** Webhook endpoints, secrets and deliveries: plain queries; ownership (the key) is in every WHERE. */
export type EndpointRow = Selectable<WebhookEndpointsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** A live endpoint of this key, or undefined (another key's endpoint answers like a missing one). */
export function findOwnEndpoint(db: DbOrTransaction, keyId: string, id: string, { lock = false } = {}) {
  let query = db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('key_id', '=', keyId)
    .where('deleted_at', 'is', null);
  if (lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export function listOwnEndpoints(db: DbOrTransaction, keyId: string) {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('key_id', '=', keyId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** The secrets that sign now: not expired, newest first. */
export function activeSecrets(db: DbOrTransaction, endpointIds: readonly string[]) {
  if (!endpointIds.length) return Promise.resolve([]);
  return db
    .selectFrom('webhook_secrets')
    .select(['endpoint_id', 'secret', 'created_at', 'expires_at'])
    .where('endpoint_id', 'in', endpointIds)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export function endpointView(row: EndpointRow, secrets: readonly { created_at: Date; expires_at: Date | null }[]) {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types as WebhookEventType[],
    filter: row.filter,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at?.toISOString() ?? null,
    lastSuccessAt: row.last_success_at?.toISOString() ?? null,
    secrets: secrets.map((secret) => ({ createdAt: secret.created_at.toISOString(), expiresAt: secret.expires_at?.toISOString() ?? null })),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function deliveryView(row: DeliveryRow) {
  return {
    id: `msg_${row.id}`,
    eventType: row.event_type as WebhookEventType,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastLatencyMs: row.last_latency_ms,
    committedAt: row.committed_at.toISOString(),
    deliveredAt: row.delivered_at?.toISOString() ?? null,
  };
}
