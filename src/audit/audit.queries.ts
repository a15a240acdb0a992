import type { Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import type { AuditContext } from './actor.ts';

export type { AuditContext, WriteContext } from './actor.ts';

export interface AuditEntry {
  action: string;
  entityType: 'incident' | 'organisation' | 'api_key' | 'webhook';
  entityId: string;
  organisationId: string | null;
  before: unknown;
  after: unknown;
}

/** The audit_log columns of an entry other than its `before` and `after` documents. */
export function auditColumns(context: AuditContext, entry: AuditEntry) {
  return {
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    organisation_id: entry.organisationId,
    actor_key_id: context.actor.keyId,
    // A tool is recorded by its name, whatever role it acted in: `system:import-cli`.
    actor_role: context.actor.kind === 'system' ? `system:${context.actor.name}` : context.actor.role,
    request_id: context.requestId,
  };
}

const asJson = (document: unknown) => (document === undefined || document === null ? null : JSON.stringify(document));

/** Call inside the write's own transaction: the audit row commits or rolls back with it. */
export async function appendAudit(trx: Transaction<Database>, context: AuditContext, entry: AuditEntry) {
  await trx
    .insertInto('audit_log')
    .values({ ...auditColumns(context, entry), before: asJson(entry.before), after: asJson(entry.after) })
    .execute();
}

export async function listAuditForEntity(db: DbOrTransaction, entityType: string, entityId: string) {
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
