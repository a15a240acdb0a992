import { sql, type Kysely } from 'kysely';

/**
 * The data version (migration 0002, once per transaction since 0004) was bumped by the first
 * write of a transaction, which then held the lock on the one data_version row until it
 * committed: every writing transaction waited for every other one, for its whole length, and an
 * import held all writers up for its whole run (npm run reliability -- mixed-load: PostgreSQL
 * managed fewer writes than the one-connection embedded database).
 *
 * Now the first write of a transaction only inserts a row into data_version_pending (inserts do
 * not wait on each other), and a deferred constraint trigger on that row bumps the version when
 * the transaction commits. The row lock is held from then until the commit ends: writers queue
 * only for that moment. Readers see the same thing as before: a new version exactly when the
 * data it names is committed.
 */
const statements = [
  sql`create table data_version_pending (id bigint generated always as identity primary key)`,
  sql`create or replace function bump_data_version() returns trigger language plpgsql as $$
    begin
      if current_setting('dateline.data_version_bumped', true) = 'yes' then
        return null;
      end if;
      perform set_config('dateline.data_version_bumped', 'yes', true);
      insert into data_version_pending default values;
      return null;
    end
  $$`,
  sql`create function bump_data_version_at_commit() returns trigger language plpgsql as $$
    begin
      update data_version set version = version + 1, changed_at = now();
      delete from data_version_pending where id = new.id;
      return null;
    end
  $$`,
  sql`create constraint trigger data_version_pending_bump after insert on data_version_pending
    deferrable initially deferred for each row execute function bump_data_version_at_commit()`,
];

/** Migration 0004's function: the bump at the first write. */
const bumpAtFirstWrite = sql`create or replace function bump_data_version() returns trigger language plpgsql as $$
  begin
    if current_setting('dateline.data_version_bumped', true) = 'yes' then
      return null;
    end if;
    perform set_config('dateline.data_version_bumped', 'yes', true);
    update data_version set version = version + 1, changed_at = now();
    return null;
  end
$$`;

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await bumpAtFirstWrite.execute(db);
  await sql`drop table if exists data_version_pending`.execute(db);
  await sql`drop function if exists bump_data_version_at_commit()`.execute(db);
}
