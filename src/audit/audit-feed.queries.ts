import type { Selectable } from 'kysely';
import type { AuditLogTable } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import type { AUDIT_ENTITY_TYPES } from './audit-chain.ts';
import { readableAuditDocument } from './audit-documents.ts';

export interface AuditFeedFilters {
  action?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  actorKeyId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/**
 * One page of an organisation's audit records, newest first, with keyset pagination on the id
 * (the order they were written in): a page after `beforeId` holds the records older than it.
 * Only records of that organisation: the WHERE clause says whose they are.
 */
export async function listOrganisationAudit(
  db: DbOrTransaction,
  organisationId: string,
  { filters, limit, beforeId }: { filters: AuditFeedFilters; limit: number; beforeId?: number | undefined },
) {
  let query = db
    .selectFrom('audit_log')
    .leftJoin('api_keys', 'api_keys.id', 'audit_log.actor_key_id')
    .selectAll('audit_log')
    .select('api_keys.name as actor_key_name')
    .where('audit_log.organisation_id', '=', organisationId)
    .orderBy('audit_log.id', 'desc')
    .limit(limit + 1);
  if (filters.action) query = query.where('audit_log.action', '=', filters.action);
  if (filters.entityType) query = query.where('audit_log.entity_type', '=', filters.entityType);
  if (filters.entityId) query = query.where('audit_log.entity_id', '=', filters.entityId);
  if (filters.actorKeyId) query = query.where('audit_log.actor_key_id', '=', filters.actorKeyId);
  if (filters.from) query = query.where('audit_log.occurred_at', '>=', new Date(filters.from));
  if (filters.to) query = query.where('audit_log.occurred_at', '<', new Date(filters.to));
  if (beforeId !== undefined) query = query.where('audit_log.id', '<', beforeId);
  const rows = await query.execute();
  const page = rows.slice(0, limit);
  return { records: page.map(toAuditRecord), lastId: rows.length > limit ? page.at(-1)!.id : undefined };
}

/** The last record of the chain and the chain's length (its position: positions have no gaps). */
export async function findAuditHead(db: DbOrTransaction) {
  const head = await db
    .selectFrom('audit_log')
    .select(['id', 'hash', 'occurred_at', 'chain_position'])
    .orderBy('chain_position', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    id: head?.id ?? null,
    hash: head?.hash ?? null,
    occurredAt: head?.occurred_at.toISOString() ?? null,
    count: head?.chain_position ?? 0,
  };
}

/**
 * The record types whose documents an admin sees in the feed: what an admin manages anyway
 * (keys, the organisation). An incident's documents hold drafts, internal notes and protected
 * victims, which the admin role may not read (GET /v1/incidents/{id} gives it the public view);
 * they stay with the roles that may, at GET /v1/incidents/{id}/audit. A webhook is its
 * registering key's. Every record still shows its place in the chain and its hash.
 */
const DOCUMENTS_FOR_ADMINS: ReadonlySet<string> = new Set(['api_key', 'organisation']);

function toAuditRecord(row: Selectable<AuditLogTable> & { actor_key_name: string | null }) {
  return {
    id: row.id,
    position: row.chain_position,
    occurredAt: row.occurred_at.toISOString(),
    action: row.action,
    entityType: row.entity_type as (typeof AUDIT_ENTITY_TYPES)[number],
    entityId: row.entity_id,
    organisationId: row.organisation_id,
    actor: { keyId: row.actor_key_id, keyName: row.actor_key_name, role: row.actor_role },
    requestId: row.request_id,
    ...(DOCUMENTS_FOR_ADMINS.has(row.entity_type)
      ? { before: readableAuditDocument(row.before), after: readableAuditDocument(row.after) }
      : {}),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
