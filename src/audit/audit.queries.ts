import type { Kysely, Transaction } from 'kysely';
import type { KeyActor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Who made a write and under which request; every service write takes one. */
export interface WriteContext {
  actor: KeyActor;
  requestId: string;
}

/** Writes made outside the API, such as `npm run keys`, name their tool instead of a key. */
export interface SystemContext {
  actor: { kind: 'system'; tool: string };
  requestId: null;
}

export interface AuditEntry {
  action: string;
  entityType: 'incident' | 'organisation' | 'api_key';
  entityId: string;
  organisationId: string | null;
  before: unknown;
  after: unknown;
}

/** The audit_log columns of an entry other than its `before` and `after` documents. */
export function auditColumns(context: WriteContext | SystemContext, entry: AuditEntry) {
  return {
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    organisation_id: entry.organisationId,
    actor_key_id: context.actor.kind === 'system' ? null : context.actor.keyId,
    actor_role: context.actor.kind === 'system' ? `system:${context.actor.tool}` : context.actor.role,
    request_id: context.requestId,
  };
}

const asJson = (document: unknown) => (document === undefined || document === null ? null : JSON.stringify(document));

/** Call inside the write's own transaction: the audit row commits or rolls back with it. */
export async function appendAudit(trx: Transaction<Database>, context: WriteContext | SystemContext, entry: AuditEntry) {
  await trx.insertInto('audit_log').values({ ...auditColumns(context, entry), before: asJson(entry.before), after: asJson(entry.after) }).execute();
}

export async function listAuditForEntity(db: Db, entityType: string, entityId: string) {
  const rows = await db
    .selectFrom('audit_log')
    .leftJoin('api_keys', 'api_keys.id', 'audit_log.actor_key_id')
    .select([
      'audit_log.id',
      'audit_log.occurred_at',
      'audit_log.action',
      'audit_log.actor_key_id',
      'api_keys.name as actor_key_name',
      'audit_log.actor_role',
      'audit_log.request_id',
      'audit_log.before',
      'audit_log.after',
    ])
    .where('audit_log.entity_type', '=', entityType)
    .where('audit_log.entity_id', '=', entityId)
    .orderBy('audit_log.id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    occurredAt: row.occurred_at.toISOString(),
    action: row.action,
    actor: { keyId: row.actor_key_id, keyName: row.actor_key_name, role: row.actor_role },
    requestId: row.request_id,
    before: row.before,
    after: row.after,
  }));
}
