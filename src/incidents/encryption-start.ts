import { sql } from 'kysely';
import { openKeyring } from '../crypto/keyring.ts';
import { seal, sealedPlace } from '../crypto/sealed-value.ts';
import { resolveKeyEncryptionKey, type KeyEncryptionKey, type KeySourceOptions } from '../crypto/key-encryption-key.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import type { Db } from '../db/create-db.ts';
import { readableAuditDocument, storedAuditDocument } from '../audit/audit-documents.ts';
import { sealedNotes, storedVictim, type VictimIdentity } from './sealed-fields.ts';

/**
 * Every process that reads or writes incidents opens the keyring first, after the migrations
 * (the server, the seed, import and keys commands, the tests): without a key nothing starts, and
 * a key that does not open the stored data keys stops it with a message saying so.
 *
 * The first start after migration 0018 also seals what was stored in clear before it (a flag the
 * migration leaves in app_meta), in batches, then validates the checks that forbid plaintext.
 */
export interface EncryptionStart {
  /** Where the key came from (never the key), and whether this start created the embedded key file. */
  source: string;
  created?: string;
  sealed: number;
}

/** `options`: where the key comes from (resolveKeyEncryptionKey), or the key already resolved. */
export async function startEncryption(db: Db, options: KeySourceOptions | KeyEncryptionKey): Promise<EncryptionStart> {
  const kek = 'source' in options ? options : resolveKeyEncryptionKey(options);
  await openKeyring(db, kek.key);
  const sealed = await sealLeftovers(db);
  return { source: kek.source, ...(kek.created ? { created: kek.created } : {}), sealed };
}

const BATCH = 500;

async function sealLeftovers(db: Db): Promise<number> {
  const flag = await db.selectFrom('app_meta').select('value').where('key', '=', 'encryption_leftovers').executeTakeFirst();
  if (!flag) return 0;
  let sealed = 0;
  for (;;) {
    const count = await db.transaction().execute(sealVictimBatch);
    if (count === 0) break;
    sealed += count;
  }
  for (;;) {
    const count = await db.transaction().execute(sealNotesBatch);
    if (count === 0) break;
    sealed += count;
  }
  sealed += await sealAuditLeftovers(db);
  for (;;) {
    const count = await db.transaction().execute(sealPayloadBatch);
    if (count === 0) break;
    sealed += count;
  }
  await sql`alter table victims validate constraint victims_protected_sealed`.execute(db);
  await sql`alter table incidents validate constraint incidents_internal_notes_sealed`.execute(db);
  await db.deleteFrom('app_meta').where('key', '=', 'encryption_leftovers').execute();
  return sealed;
}

type VictimLeftover = VictimIdentity & { id: string; protected: boolean };

/** Protected victims still in clear. The derived tables need no refresh: their plaintext lists are rewritten by the victims' update triggers. */
async function sealVictimBatch(trx: DbOrTransaction): Promise<number> {
  const { rows } = await sql<VictimLeftover>`select id, name, name_original, aliases, outlet, nationality, protected from victims
    where protected and identity_sealed is null order by id limit ${BATCH} for update`.execute(trx);
  if (rows.length === 0) return 0;
  const values = rows.map((row) => {
    const stored = storedVictim(row);
    return sql`(${row.id}::uuid, ${stored.identity_sealed}, ${stored.name_blind}::text[])`;
  });
  await sql`update victims set name = null, name_original = null, aliases = '{}', outlet = null, nationality = null,
      name_key = null, identity_sealed = v.sealed, name_blind = v.blind
    from (values ${sql.join(values)}) as v (id, sealed, blind) where victims.id = v.id`.execute(trx);
  return rows.length;
}

async function sealNotesBatch(trx: DbOrTransaction): Promise<number> {
  const { rows } = await sql<{ id: string; internal_notes: string }>`select id, internal_notes from incidents
    where internal_notes is not null and internal_notes not like 'dlenc1.%' order by id limit ${BATCH} for update`.execute(trx);
  if (rows.length === 0) return 0;
  const values = rows.map((row) => sql`(${row.id}::uuid, ${sealedNotes(row.id, row.internal_notes)})`);
  await sql`update incidents set internal_notes = v.notes from (values ${sql.join(values)}) as v (id, notes)
    where incidents.id = v.id`.execute(trx);
  return rows.length;
}

/**
 * Audit documents written before encryption (an incident's full view holds its internal notes and
 * protected victims): stored again as storedAuditDocument now stores them. The chain hashes the
 * plaintext, which does not change, so it keeps verifying.
 */
async function sealAuditLeftovers(db: Db): Promise<number> {
  let sealed = 0;
  for (let after = 0; ;) {
    const batch = await db.transaction().execute(async (trx) => {
      await sql`select set_config('dateline.resealing_audit', 'on', true)`.execute(trx);
      const { rows } = await sql<{ id: number; before: unknown; after: unknown }>`select id, before, after from audit_log
        where entity_type = 'incident' and id > ${after} order by id limit ${BATCH} for update`.execute(trx);
      const changed = rows
        .map((row) => ({
          id: row.id,
          before: JSON.stringify(storedAuditDocument(readableAuditDocument(row.before))),
          after: JSON.stringify(storedAuditDocument(readableAuditDocument(row.after))),
          old: JSON.stringify([row.before, row.after]),
        }))
        .filter((row) => row.old !== `[${row.before},${row.after}]`);
      if (changed.length) {
        await sql`update audit_log as a set before = v.before, after = v.after
          from (values ${sql.join(changed.map((row) => sql`(${row.id}::bigint, ${row.before}::jsonb, ${row.after}::jsonb)`))}) as v (id, before, after)
          where a.id = v.id`.execute(trx);
      }
      return { count: rows.length, changed: changed.length, last: rows.at(-1)?.id };
    });
    sealed += batch.changed;
    if (batch.last === undefined) return sealed;
    after = batch.last;
  }
}

/** Webhook payloads fanned out before encryption (an editor's holds the full view); bound as src/webhooks/delivery-worker.ts binds them. */
async function sealPayloadBatch(trx: DbOrTransaction): Promise<number> {
  const { rows } = await sql<{ id: string; place: string; payload: string }>`select id, endpoint_id::text || '/' || event_id::text as place,
      payload from webhook_deliveries where payload not like 'dlenc1.%' order by id limit ${BATCH} for update`.execute(trx);
  if (rows.length === 0) return 0;
  const values = rows.map((row) => sql`(${row.id}::uuid, ${seal(row.payload, sealedPlace('webhook_deliveries', 'payload', row.place))})`);
  await sql`update webhook_deliveries set payload = v.payload from (values ${sql.join(values)}) as v (id, payload)
    where webhook_deliveries.id = v.id`.execute(trx);
  return rows.length;
}
