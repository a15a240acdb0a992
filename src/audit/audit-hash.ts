import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The hash of one audit record: SHA-256 over the previous record's hash and the record's own
 * content as canonical JSON (RFC 8785: sorted keys, one spelling of each number and string), hex.
 * The content is everything the record says except its id (an identity the database assigns),
 * plus its position in the chain, so a record moved elsewhere no longer matches its hash.
 *
 * This is the stored format: a change to it (a field added to the content, another spelling)
 * breaks every stored chain, so it needs a version and a migration that says why.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedContent {
  chain_position: number;
  /** ISO 8601 in UTC with milliseconds, as Date#toISOString() writes it. */
  occurred_at: string;
  action: string;
  entity_type: string;
  entity_id: string;
  organisation_id: string | null;
  actor_key_id: string | null;
  actor_role: string | null;
  request_id: string | null;
  /** The documents in plaintext (src/audit/audit-documents.ts). */
  before: unknown;
  after: unknown;
}

export function auditRecordHash(prevHash: string, content: ChainedContent): string {
  // Only the listed fields: a row read with more columns (id, hash) hashes the same.
  const canonical = canonicalize({
    chain_position: content.chain_position,
    occurred_at: content.occurred_at,
    action: content.action,
    entity_type: content.entity_type,
    entity_id: content.entity_id,
    organisation_id: content.organisation_id,
    actor_key_id: content.actor_key_id,
    actor_role: content.actor_role,
    request_id: content.request_id,
    before: content.before ?? null,
    after: content.after ?? null,
  })!;
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}
