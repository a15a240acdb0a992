import { sql, type Kysely } from 'kysely';

/**
 * Read side: trigram search over a normalised, public-safe search text, a data version that
 * every write bumps (so list and statistics responses can be cited and cached), and the
 * indexes the filters use.
 */
const statements = [
  sql`create extension if not exists pg_trgm`,
  // Filled by the application (src/incidents/search-text.ts) on every write. It never holds a
  // protected victim's identity, internal notes or private sources: anyone may search it.
  sql`alter table incidents add column search_text text not null default ''`,
  sql`create index incidents_search_trgm_idx on incidents using gin (search_text gin_trgm_ops)`,
  sql`create index incidents_attack_types_idx on incidents using gin (attack_types)`,
  sql`create index incidents_country_date_idx on incidents (country, date_start)`,
  sql`create index incidents_updated_idx on incidents (updated_at desc, id desc) where deleted_at is null`,
  sql`create index victims_role_idx on victims (role, incident_id)`,
  sql`create index perpetrator_claims_actor_type_idx on perpetrator_claims (actor_type, incident_id)`,
  sql`create table data_version (
    id boolean primary key default true check (id),
    version bigint not null,
    changed_at timestamptz not null
  )`,
  sql`insert into data_version (version, changed_at) values (1, now())`,
  sql`create function bump_data_version() returns trigger language plpgsql as $$
    begin
      update data_version set version = version + 1, changed_at = now();
      return null;
    end
  $$`,
  ...['incidents', 'victims', 'perpetrator_claims', 'sources'].map(
    (table) => sql`create trigger ${sql.id(`${table}_bump_data_version`)}
      after insert or update or delete on ${sql.table(table)}
      for each statement execute function bump_data_version()`,
  ),
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['incidents', 'victims', 'perpetrator_claims', 'sources']) {
    await sql`drop trigger if exists ${sql.id(`${table}_bump_data_version`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function if exists bump_data_version()`.execute(db);
  await sql`drop table if exists data_version`.execute(db);
  for (const index of [
    'perpetrator_claims_actor_type_idx',
    'victims_role_idx',
    'incidents_updated_idx',
    'incidents_country_date_idx',
    'incidents_attack_types_idx',
    'incidents_search_trgm_idx',
  ]) {
    await sql`drop index if exists ${sql.id(index)}`.execute(db);
  }
  await sql`alter table incidents drop column if exists search_text`.execute(db);
}
