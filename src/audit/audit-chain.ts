import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { AuditContext } from './actor.ts';
import { storedAuditDocument } from './audit-documents.ts';
import { auditRecordHash, GENESIS_HASH } from './audit-hash.ts';

/** What an audit record can be about; the feed's entityType filter takes these. */
export const AUDIT_ENTITY_TYPES = ['incident', 'organisation', 'api_key', 'webhook'] as const;

export interface AuditEntry {
  action: string;
  entityType: (typeof AUDIT_ENTITY_TYPES)[number];
  entityId: string;
  organisationId: string | null;
  before: unknown;
  after: unknown;
}

/** One audit record to append: what happened, and who did it under which request. */
export interface AuditRecord {
  context: AuditContext;
  entry: AuditEntry;
}

/**
 * A transaction-scoped advisory lock that every chained insert takes first ('audit' in ASCII).
 * Held to commit, it makes writers of audit records take turns: each reads the head the last
 * one committed, so the chain never forks, and ids, positions and commit order agree.
 */
const AUDIT_CHAIN_LOCK = 0x6175646974;

/** Columns inserted, in this order; `id` comes from the identity. Verification reads them back (audit-verify.ts). */
export const CHAINED_COLUMNS = [
  'occurred_at',
  'action',
  'entity_type',
  'entity_id',
  'organisation_id',
  'actor_key_id',
  'actor_role',
  'request_id',
  'before',
  'after',
  'chain_position',
  'prev_hash',
  'hash',
] as const;

/** The chain's last record: where the next record links to. */
export interface ChainHead {
  position: number;
  hash: string;
}

/** A record as stored: its columns, hashed and linked (CHAINED_COLUMNS). */
export type ChainedRow = ReturnType<typeof chainAuditRows>['rows'][number];

/**
 * Appends audit records to the hash chain, in the caller's transaction (they commit or roll
 * back with the write they record). Every audit record goes through here: one record from a
 * service (appendAudit) or a whole batch from an import. The lock is then held until the
 * transaction ends, so call this as late in a write as is natural; a long transaction (an
 * import) holds up other audited writes until it commits.
 */
export async function appendAuditRecords(trx: Transaction<Database>, records: readonly AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  await insertChainedRows(trx, chainAuditRows(await lockAuditChain(trx), records).rows);
}

/**
 * Takes the chain's lock (held to the end of the transaction) and reads its head. A bulk writer
 * (an import) does this once, then links its batches in JavaScript (chainAuditRows) while the
 * database writes the previous one; appendAuditRecords does all three steps at once.
 */
export async function lockAuditChain(trx: Transaction<Database>): Promise<ChainHead> {
  await sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK}::bigint)`.execute(trx);
  // A statement after the lock: under READ COMMITTED (every audited write) it sees the head the
  // last holder committed. A REPEATABLE READ snapshot taken before the lock would see an older
  // head; the unique chain_position then refuses the insert rather than fork the chain.
  const head = await trx
    .selectFrom('audit_log')
    .select(['chain_position', 'hash'])
    .orderBy('chain_position', 'desc')
    .limit(1)
    .executeTakeFirst();
  return { position: head?.chain_position ?? 0, hash: head?.hash ?? GENESIS_HASH };
}

/** The records as rows linked after `head`, and the new head. No database: the caller holds the lock. */
export function chainAuditRows(head: ChainHead, records: readonly AuditRecord[]) {
  let prevHash = head.hash;
  let position = head.position;
  // Set here rather than by the column default: the hash covers it, to the millisecond a Date holds.
  const occurredAt = new Date().toISOString();
  const rows = records.map(({ context, entry }) => {
    const content = {
      ...contextColumns(context),
      occurred_at: occurredAt,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      organisation_id: entry.organisationId,
      chain_position: (position += 1),
      before: entry.before ?? null,
      after: entry.after ?? null,
    };
    const hash = auditRecordHash(prevHash, content);
    const row = {
      ...content,
      before: storedAuditDocument(entry.before),
      after: storedAuditDocument(entry.after),
      prev_hash: prevHash,
      hash,
    };
    prevHash = hash;
    return row;
  });
  return { rows, head: { position, hash: prevHash } };
}

/** Inserts rows chainAuditRows linked, in order, so the identity numbers them in chain order. */
export async function insertChainedRows(trx: Transaction<Database>, rows: readonly ChainedRow[]): Promise<void> {
  if (rows.length === 0) return;
  // One statement for any number of records: the rows travel as one JSON document, in order.
  const columns = sql.join(CHAINED_COLUMNS.map((column) => sql.id(column)));
  await sql`insert into audit_log (${columns})
    select ${columns} from jsonb_populate_recordset(null::audit_log, ${JSON.stringify(rows)}::jsonb) with ordinality
    order by ordinality`.execute(trx);
}

function contextColumns(context: AuditContext) {
  return {
    actor_key_id: context.actor.keyId,
    // A tool is recorded by its name, whatever role it acted in: `system:import-cli`.
    actor_role: context.actor.kind === 'system' ? `system:${context.actor.name}` : context.actor.role,
    request_id: context.requestId,
  };
}
