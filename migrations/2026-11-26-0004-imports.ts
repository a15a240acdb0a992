import { sql, type Kysely } from 'kysely';

/**
 * CSV imports. One row per import that created something, holding the report the caller got.
 * The unique constraints make imports idempotent: the same file (fingerprint) or the same
 * Idempotency-Key within an organisation names the same import, and a second insert of either
 * waits for the first transaction and then fails, so two concurrent uploads cannot both import.
 */
const importsTable = sql`create table imports (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations (id),
  fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
  idempotency_key text check (length(idempotency_key) between 1 and 200),
  format text not null check (format in ('native', 'cpj', 'mapped')),
  file_name text not null check (length(file_name) between 1 and 300),
  row_count integer not null default 0,
  created_count integer not null default 0,
  rejected_count integer not null default 0,
  report jsonb,
  created_by uuid references api_keys (id),
  created_at timestamptz not null default now(),
  constraint imports_fingerprint_unique unique (organisation_id, fingerprint),
  constraint imports_idempotency_key_unique unique (organisation_id, idempotency_key)
)`;

/**
 * The data version (migration 0002) is bumped by a statement trigger on every write. An import
 * writes thousands of incidents in one transaction, and PostgreSQL cannot prune the versions of
 * a row that the open transaction itself updated, so each bump of the one data_version row got
 * slower than the last: 8 bumps per incident made an import quadratic (about 40 s of bumps alone
 * for 5,000 rows, hours for 100,000). Once per transaction is all the version needs: it names the
 * state of the data after a commit, and readers only see it then.
 */
const bumpOncePerTransaction = sql`create or replace function bump_data_version() returns trigger language plpgsql as $$
  begin
    if current_setting('dateline.data_version_bumped', true) = 'yes' then
      return null;
    end if;
    perform set_config('dateline.data_version_bumped', 'yes', true);
    update data_version set version = version + 1, changed_at = now();
    return null;
  end
$$`;

const bumpEveryStatement = sql`create or replace function bump_data_version() returns trigger language plpgsql as $$
  begin
    update data_version set version = version + 1, changed_at = now();
    return null;
  end
$$`;

export async function up(db: Kysely<any>): Promise<void> {
  await importsTable.execute(db);
  await bumpOncePerTransaction.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await bumpEveryStatement.execute(db);
  await sql`drop table if exists imports`.execute(db);
}
