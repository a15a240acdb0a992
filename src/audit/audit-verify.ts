import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { readableAuditDocument } from './audit-documents.ts';
import { auditRecordHash, GENESIS_HASH } from './audit-hash.ts';
import { CHAINED_COLUMNS } from './audit-chain.ts';

/** A record that does not fit the chain: the first one found, with what was found and what was expected. */
export interface ChainBreak {
  id: number;
  kind: 'changed' | 'removed' | 'reordered' | 'relinked' | 'head-missing';
  found: string;
  expected: string;
  /** A sentence for the operator. */
  message: string;
}

export interface ChainHead {
  id: number;
  hash: string;
  position: number;
  occurredAt: string;
}

export type VerifyResult = { intact: true; count: number; head: ChainHead | null } | { intact: false; count: number; problem: ChainBreak };

export interface VerifyOptions {
  /** Rows read per query: memory stays flat however long the chain. */
  batchSize?: number;
  /** A head stored elsewhere earlier (GET /v1/audit/head): it must still be in the chain, unchanged. */
  expectHead?: { id: number; hash: string } | undefined;
}

const CHAIN_COLUMNS = ['id', ...CHAINED_COLUMNS] as const;

/**
 * Walks the whole audit log in id order (the order the chain was written in, see audit-chain.ts)
 * and stops at the first record that does not fit: its content no longer matches its hash
 * (changed), records before it are missing (removed), it sits at another place than its
 * position (reordered), or it does not follow the record before it (relinked: one of the two
 * was rewritten with a new hash). Records removed from the end leave an intact, shorter chain:
 * only a head stored elsewhere (expectHead) shows that.
 */
export async function verifyAuditChain(db: Kysely<Database>, { batchSize = 2000, expectHead }: VerifyOptions = {}): Promise<VerifyResult> {
  let prevHash = GENESIS_HASH;
  let previousId: number | null = null;
  let count = 0;
  let head: ChainHead | null = null;
  let sawExpectedHead = false;
  for (let after = 0; ;) {
    const rows = await db.selectFrom('audit_log').select(CHAIN_COLUMNS).where('id', '>', after).orderBy('id').limit(batchSize).execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      const expectedPosition = count + 1;
      const place = previousId === null ? 'at the start of the chain' : `after record ${previousId}`;
      if (row.chain_position !== expectedPosition) {
        return await outOfPlace(db, count, row, expectedPosition, place);
      }
      const recomputed = auditRecordHash(row.prev_hash, {
        ...row,
        occurred_at: row.occurred_at.toISOString(),
        before: readableAuditDocument(row.before),
        after: readableAuditDocument(row.after),
      });
      if (recomputed !== row.hash) {
        return broken(
          count,
          row.id,
          'changed',
          `content hashing to ${recomputed}`,
          `content hashing to ${row.hash}`,
          `Record ${row.id} was changed: its content no longer matches the hash it was written with.`,
        );
      }
      if (row.prev_hash !== prevHash) {
        return broken(
          count,
          row.id,
          'relinked',
          `previous hash ${row.prev_hash}`,
          `previous hash ${prevHash}`,
          `Record ${row.id} does not follow ${previousId === null ? 'the start of the chain' : `record ${previousId}`}: one of them was rewritten with a new hash.`,
        );
      }
      if (expectHead && row.id === expectHead.id && row.hash !== expectHead.hash) {
        return broken(
          count,
          row.id,
          'head-missing',
          `hash ${row.hash}`,
          `hash ${expectHead.hash}`,
          `Record ${row.id}, the head you stored, now has another hash: the chain was rewritten from there or before.`,
        );
      }
      if (expectHead && row.id === expectHead.id) sawExpectedHead = true;
      prevHash = row.hash;
      previousId = row.id;
      count += 1;
      head = { id: row.id, hash: row.hash, position: row.chain_position, occurredAt: row.occurred_at.toISOString() };
    }
    after = rows.at(-1)!.id;
  }
  if (expectHead && !sawExpectedHead) {
    const truncated = head === null || head.id < expectHead.id;
    return broken(
      count,
      expectHead.id,
      'head-missing',
      head ? `a chain ending at record ${head.id}` : 'an empty chain',
      `record ${expectHead.id}`,
      `Record ${expectHead.id}, the head you stored, is no longer in the chain${truncated ? ': records were removed from its end' : ''}.`,
    );
  }
  return { intact: true, count, head };
}

/**
 * A record whose position is not the next one. If the record that belongs here stands further
 * on, records were moved (reordered); if no record holds this position any more, records were
 * removed. A position already passed means the record was moved back, or copied.
 */
async function outOfPlace(
  db: Kysely<Database>,
  count: number,
  row: { id: number; chain_position: number },
  expected: number,
  place: string,
): Promise<VerifyResult> {
  const found = `position ${row.chain_position}`;
  const wanted = `position ${expected}`;
  if (row.chain_position > expected) {
    const missing = await db.selectFrom('audit_log').select('id').where('chain_position', '=', expected).executeTakeFirst();
    if (!missing) {
      const gap = row.chain_position - expected;
      const positions = gap === 1 ? `position ${expected}` : `positions ${expected} to ${row.chain_position - 1}`;
      return broken(
        count,
        row.id,
        'removed',
        found,
        wanted,
        `${gap} record(s) were removed ${place}, before record ${row.id} (${positions}).`,
      );
    }
    return broken(
      count,
      row.id,
      'reordered',
      found,
      wanted,
      `Record ${row.id} stands ${place} but belongs at position ${row.chain_position}; the record of position ${expected} is record ${missing.id}: records were reordered.`,
    );
  }
  return broken(
    count,
    row.id,
    'reordered',
    found,
    wanted,
    `Record ${row.id} stands ${place} but belongs at position ${row.chain_position}, which an earlier record holds: records were reordered or copied.`,
  );
}

function broken(count: number, id: number, kind: ChainBreak['kind'], found: string, expected: string, message: string): VerifyResult {
  return { intact: false, count, problem: { id, kind, found, expected, message } };
}
