import type { Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import type { AuditContext } from './actor.ts';
import { appendAuditRecords, type AuditEntry } from './audit-chain.ts';
import { readableAuditDocument } from './audit-documents.ts';

export type { AuditContext, WriteContext } from './actor.ts';
export type { AuditEntry, AuditRecord } from './audit-chain.ts';

/** Call inside the write's own transaction: the audit row commits or rolls back with it. */
export async function appendAudit(trx: Transaction<Database>, context: AuditContext, entry: AuditEntry): Promise<void> {
  await appendAuditRecords(trx, [{ context, entry }]);
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
    before: readableAuditDocument(row.before),
    after: readableAuditDocument(row.after),
  }));
}
