import { sql, type Kysely } from 'kysely';

/**
 * Encryption at rest (issue 17, part 3; README "Encryption at rest"). The application encrypts
 * protected victims' identifying fields and incidents' internal notes with AES-256-GCM under
 * data keys; this migration only adds where they are kept. It cannot encrypt the rows already
 * stored, since it has no key: it marks them, and the first start with a key seals them
 * (src/crypto/keyring.ts, "sealLeftovers"), before any request is served.
 *
 * - data_keys: the data keys, each wrapped (AES-256-GCM) by the key-encryption key that comes
 *   from DATA_ENCRYPTION_KEY or its file and never from the database. `purpose` 'data' keys
 *   encrypt values (the newest unretired one seals new values); the one 'blind_index' key keys
 *   the HMACs of names below.
 * - victims.identity_sealed: a protected victim's name, original-script name, aliases, outlet
 *   and nationality, sealed together; the plaintext columns and name_key are then empty.
 * - victims.name_blind: keyed hashes of a protected victim's normalised names and skeleton
 *   words, so its organisation can still find it by exact name and duplicates can pair it.
 * - The checks make the database itself refuse a protected victim or an internal note stored in
 *   clear. They are NOT VALID: rows written before this migration are sealed at the first start
 *   with a key, which then validates them.
 * - audit_log stays append-only, but a rotation re-encrypts its documents: the append-only
 *   trigger lets an UPDATE through in a transaction that sets dateline.resealing_audit, and a
 *   row trigger then refuses any change but to before/after (the hash chain covers their plaintext).
 */
/** The checks that refuse plaintext, NOT VALID; exported for bench/generate.ts, which loads in clear and re-adds them. */
export const SEALED_CHECKS = [
  sql`alter table victims add constraint victims_protected_sealed check (
    not protected or (name is null and name_original is null and aliases = '{}' and outlet is null
      and nationality is null and name_key is null and identity_sealed like 'dlenc1.%')
  ) not valid`,
  sql`alter table incidents add constraint incidents_internal_notes_sealed check (
    internal_notes is null or internal_notes like 'dlenc1.%'
  ) not valid`,
];

/** Set when values stored in clear wait for the first start with a key to seal them. */
export const MARK_LEFTOVERS = sql`insert into app_meta (key, value) values ('encryption_leftovers', 'true')
    on conflict (key) do update set value = excluded.value`;

const statements = [
  sql`create table data_keys (
    id integer primary key check (id >= 0),
    purpose text not null check (purpose in ('data', 'blind_index')),
    wrapped text not null,
    created_at timestamptz not null default now(),
    retired_at timestamptz
  )`,
  sql`alter table victims add column identity_sealed text, add column name_blind text[]`,
  sql`create index victims_name_blind_idx on victims using gin (name_blind)`,
  ...SEALED_CHECKS,
  // The audit log stays append-only, but a rotation must re-encrypt its documents: an UPDATE is let
  // through only inside a transaction that says it is re-sealing, and then only of before/after.
  sql`create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and current_setting('dateline.resealing_audit', true) = 'on' then
        return null;
      end if;
      raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
    end
  $$`,
  sql`create function audit_log_reseal_only() returns trigger language plpgsql as $$
    begin
      if (to_jsonb(new) - 'before' - 'after') is distinct from (to_jsonb(old) - 'before' - 'after') then
        raise exception 'audit_log is append-only: re-sealing may change only before and after' using errcode = 'insufficient_privilege';
      end if;
      return new;
    end
  $$`,
  sql`create trigger audit_log_reseal_only before update on audit_log for each row execute function audit_log_reseal_only()`,
  MARK_LEFTOVERS,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

/** Refuses while anything is sealed: without the key, going back would lose those values. */
export async function down(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ sealed: boolean }>`select exists (select 1 from victims where identity_sealed is not null)
    or exists (select 1 from incidents where internal_notes like 'dlenc1.%') as sealed`.execute(db);
  if (rows[0]?.sealed) throw new Error('Encrypted values are stored; undoing 2026-12-03-0018 would lose them.');
  await sql`drop trigger if exists audit_log_reseal_only on audit_log`.execute(db);
  await sql`drop function if exists audit_log_reseal_only()`.execute(db);
  await sql`create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
    end
  $$`.execute(db);
  await sql`alter table incidents drop constraint if exists incidents_internal_notes_sealed`.execute(db);
  await sql`alter table victims drop constraint if exists victims_protected_sealed`.execute(db);
  await sql`drop index if exists victims_name_blind_idx`.execute(db);
  await sql`alter table victims drop column if exists name_blind, drop column if exists identity_sealed`.execute(db);
  await sql`drop table if exists data_keys`.execute(db);
  await sql`delete from app_meta where key = 'encryption_leftovers'`.execute(db);
}
