import { sql, type Kysely } from 'kysely';
import { auditRecordHash, GENESIS_HASH } from '../src/audit/audit-hash.ts';

/**
 * A tamper-evident audit log (issue 17): every audit record carries a hash chain, the SHA-256
 * of the previous record's hash and the record's own canonical content, and its position in the
 * chain (src/audit/audit-hash.ts; `npm run audit -- verify` walks it).
 *
 * The records already stored are chained here, in id order, so an upgraded instance has one
 * chain from its first record. Like 0012, this calls the application's hash function rather
 * than a copy: the chain it writes must be exactly the one verify checks. Their occurred_at is
 * cut to the millisecond first: the hash covers the time as a JavaScript Date holds it, which
 * new records are written with (the column default, with microseconds, is no longer used).
 *
 * The append-only trigger refuses the UPDATE this needs, so it is switched off for this
 * migration's transaction and on again before it commits. The rows stored before the chain
 * existed are as trustworthy as they were then: the chain protects them from this point on.
 * On a large instance this rewrites every audit row once (the 1M-incident bench: minutes).
 */
const BATCH = 2000;

interface StoredRow {
  id: number;
  occurred_at: Date;
  action: string;
  entity_type: string;
  entity_id: string;
  organisation_id: string | null;
  actor_key_id: string | null;
  actor_role: string | null;
  request_id: string | null;
  before: unknown;
  after: unknown;
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table audit_log add column chain_position bigint, add column prev_hash text, add column hash text`.execute(db);
  await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
  try {
    await chainStoredRecords(db);
  } finally {
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);
  }
  for (const statement of [
    sql`alter table audit_log alter column chain_position set not null, alter column prev_hash set not null, alter column hash set not null`,
    // The head is the highest position; verify and the feeds walk by id.
    sql`create unique index audit_log_chain_position_idx on audit_log (chain_position)`,
    sql`create index audit_log_organisation_idx on audit_log (organisation_id, id)`,
  ]) {
    await statement.execute(db);
  }
}

async function chainStoredRecords(db: Kysely<any>) {
  let prevHash = GENESIS_HASH;
  let position = 0;
  for (let after = 0; ;) {
    const { rows } =
      await sql<StoredRow>`select id, date_trunc('milliseconds', occurred_at) as occurred_at, action, entity_type, entity_id, organisation_id,
        actor_key_id, actor_role, request_id, before, after
      from audit_log where id > ${after} order by id limit ${BATCH}`.execute(db);
    if (rows.length === 0) break;
    const chained = rows.map((row) => {
      // No document is sealed yet (encryption at rest comes later), so stored is plaintext.
      const hash = auditRecordHash(prevHash, { ...row, occurred_at: row.occurred_at.toISOString(), chain_position: (position += 1) });
      const link = { id: Number(row.id), occurred_at: row.occurred_at.toISOString(), position, prev_hash: prevHash, hash };
      prevHash = hash;
      return link;
    });
    // Each row rewritten once: its time to the millisecond and its place in the chain.
    await sql`update audit_log set occurred_at = v.occurred_at, chain_position = v.position, prev_hash = v.prev_hash, hash = v.hash
      from jsonb_to_recordset(${JSON.stringify(chained)}::jsonb)
        as v (id bigint, occurred_at timestamptz, position bigint, prev_hash text, hash text)
      where audit_log.id = v.id`.execute(db);
    after = Number(rows.at(-1)!.id);
  }
}

/** The chain columns go; the records themselves (with occurred_at to the millisecond) stay. */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists audit_log_organisation_idx`.execute(db);
  await sql`drop index if exists audit_log_chain_position_idx`.execute(db);
  await sql`alter table audit_log drop column if exists hash, drop column if exists prev_hash, drop column if exists chain_position`.execute(
    db,
  );
}
