import { sql, type Kysely } from 'kysely';

/**
 * Consent-based sharing of drafts and need-to-know access groups (issue 17).
 *
 * organisations.draft_sharing: who outside the organisation sees its drafts (research view).
 * 'none' is the default and what every existing organisation gets: until this migration every
 * researcher read every draft, and keeping that needs an admin's explicit consent (README,
 * "Upgrading"). 'organisations' shares with the researchers of the organisations listed in
 * organisation_draft_shares; 'researchers' with researchers of every organisation.
 *
 * access_groups restrict an incident (incident_access_groups) or a single protected victim
 * (victim_access_groups) to the keys in access_group_members. victim_access_groups has no
 * foreign key to victims: an incident edit deletes and re-inserts its victims with their ids
 * kept (src/incidents/incident-writes.queries.ts), and the restriction must survive that. A
 * group that still restricts something cannot be deleted (no cascade): deleting it would open
 * what it guards to the whole organisation.
 *
 * Restrictions and memberships change what a caller is shown, so they bump the data version like
 * an incident write: cached answers (statistics, 304s) keyed by it are not reused across them.
 */
const BUMPED = ['incident_access_groups', 'victim_access_groups', 'access_group_members', 'organisation_draft_shares'];

const statements = [
  sql`alter table organisations add column draft_sharing text not null default 'none'
    check (draft_sharing in ('none', 'organisations', 'researchers'))`,
  sql`create table organisation_draft_shares (
    organisation_id uuid not null references organisations (id),
    shared_with uuid not null references organisations (id),
    primary key (organisation_id, shared_with),
    check (organisation_id <> shared_with)
  )`,
  sql`create index organisation_draft_shares_with_idx on organisation_draft_shares (shared_with)`,
  sql`create table access_groups (
    id uuid primary key default gen_random_uuid(),
    organisation_id uuid not null references organisations (id),
    name text not null check (length(name) between 1 and 200),
    created_at timestamptz not null default now(),
    unique (organisation_id, name)
  )`,
  sql`create table access_group_members (
    group_id uuid not null references access_groups (id) on delete cascade,
    key_id uuid not null references api_keys (id),
    primary key (group_id, key_id)
  )`,
  sql`create index access_group_members_key_idx on access_group_members (key_id)`,
  sql`create table incident_access_groups (
    incident_id uuid not null references incidents (id),
    group_id uuid not null references access_groups (id),
    primary key (incident_id, group_id)
  )`,
  sql`create index incident_access_groups_group_idx on incident_access_groups (group_id)`,
  sql`create table victim_access_groups (
    victim_id uuid not null,
    incident_id uuid not null references incidents (id),
    group_id uuid not null references access_groups (id),
    primary key (victim_id, group_id)
  )`,
  sql`create index victim_access_groups_group_idx on victim_access_groups (group_id)`,
  sql`create index victim_access_groups_incident_idx on victim_access_groups (incident_id)`,
  ...BUMPED.map(
    (table) => sql`create trigger ${sql.id(`${table}_bump_data_version`)}
      after insert or update or delete on ${sql.table(table)}
      for each statement execute function bump_data_version()`,
  ),
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'victim_access_groups',
    'incident_access_groups',
    'access_group_members',
    'access_groups',
    'organisation_draft_shares',
  ]) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
  await sql`alter table organisations drop column if exists draft_sharing`.execute(db);
}
