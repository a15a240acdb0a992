import { sql, type Kysely } from 'kysely';

/**
 * The incident registry. Migrations are frozen: they spell out their taxonomy lists instead
 * of importing them from src/, so a later change to the code cannot rewrite history. A change
 * to a taxonomy is a new migration that replaces the CHECK constraint.
 */
const list = (values: readonly string[]) => sql.raw(values.map((value) => `'${value}'`).join(', '));

const ATTACK_TYPES = [
  'killing',
  'attempted_killing',
  'physical_assault',
  'abduction',
  'enforced_disappearance',
  'arrest_detention',
  'threat_harassment',
  'online_harassment',
  'legal_action',
  'surveillance_hacking',
  'equipment_damage_seizure',
  'denial_of_access',
  'expulsion_travel_ban',
  'fabricated_claim',
  'other',
];

const statements = [
  sql`create table organisations (
    id uuid primary key default gen_random_uuid(),
    name text not null unique check (length(trim(name)) between 1 and 200),
    created_at timestamptz not null default now()
  )`,
  sql`create table api_keys (
    id uuid primary key default gen_random_uuid(),
    organisation_id uuid not null references organisations (id),
    name text not null,
    role text not null check (role in ('admin', 'editor', 'reviewer', 'researcher')),
    prefix text not null unique,
    key_hash text not null unique,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
  )`,
  sql`create table incidents (
    id uuid primary key default gen_random_uuid(),
    organisation_id uuid not null references organisations (id),
    title text not null check (length(trim(title)) between 1 and 500),
    description text,
    internal_notes text,
    date_start date not null,
    date_end date not null,
    date_precision text not null check (date_precision in ('day', 'month', 'year', 'range')),
    country char(2) not null check (country ~ '^[A-Z]{2}$'),
    region text,
    city text,
    latitude double precision check (latitude between -90 and 90),
    longitude double precision check (longitude between -180 and 180),
    coordinate_precision text check (coordinate_precision in ('exact', 'approximate', 'city', 'region', 'country')),
    attack_types text[] not null check (
      cardinality(attack_types) between 1 and 20 and attack_types <@ array[${list(ATTACK_TYPES)}]::text[]
    ),
    verification_status text not null default 'unverified' check (
      verification_status in ('unverified', 'under_review', 'verified', 'disputed', 'debunked')
    ),
    motive text check (motive in ('work_related_confirmed', 'work_related_unconfirmed', 'unrelated')),
    judicial_outcome text check (judicial_outcome in (
      'no_investigation', 'investigation_open', 'suspects_charged', 'partial_justice', 'full_justice', 'unknown'
    )),
    visibility text not null default 'draft' check (visibility in ('draft', 'published')),
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    published_at timestamptz,
    deleted_at timestamptz,
    deleted_reason text,
    check (date_end >= date_start),
    check ((latitude is null) = (longitude is null)),
    check ((deleted_at is null) = (deleted_reason is null))
  )`,
  sql`create index incidents_org_idx on incidents (organisation_id)`,
  sql`create index incidents_list_idx on incidents (date_start desc, id) where deleted_at is null`,
  sql`create table victims (
    id uuid primary key default gen_random_uuid(),
    incident_id uuid not null references incidents (id) on delete cascade,
    position integer not null,
    name text,
    name_original text,
    aliases text[] not null default '{}',
    role text check (role in (
      'journalist', 'media_worker', 'citizen_journalist', 'activist', 'human_rights_defender', 'filmmaker', 'other'
    )),
    gender text check (gender in ('female', 'male', 'non_binary', 'other')),
    nationality char(2) check (nationality ~ '^[A-Z]{2}$'),
    outlet text,
    locality text check (locality in ('local', 'foreign', 'exile')),
    employment text check (employment in ('staff', 'freelance')),
    outcome text check (outcome in (
      'killed', 'injured', 'detained', 'abducted', 'missing', 'threatened', 'unharmed', 'other'
    )),
    protected boolean not null default false
  )`,
  sql`create index victims_incident_idx on victims (incident_id, position)`,
  sql`create table perpetrator_claims (
    id uuid primary key default gen_random_uuid(),
    incident_id uuid not null references incidents (id) on delete cascade,
    position integer not null,
    actor_name text not null,
    actor_type text not null check (actor_type in (
      'state_security', 'military', 'police', 'government_official', 'non_state_armed_group',
      'political_group', 'criminal_group', 'private_individual', 'unknown'
    )),
    attribution text not null check (attribution in (
      'claimed_by_perpetrator', 'alleged_by_victim', 'alleged_by_authorities', 'alleged_by_others',
      'suspected_by_documenter', 'established_by_court'
    )),
    attributed_by text,
    statement text
  )`,
  sql`create index perpetrator_claims_incident_idx on perpetrator_claims (incident_id, position)`,
  sql`create table sources (
    id uuid primary key default gen_random_uuid(),
    incident_id uuid not null references incidents (id) on delete cascade,
    position integer not null,
    url text,
    publisher text,
    title text,
    published_on date,
    kind text not null check (kind in (
      'media_report', 'ngo_report', 'official_statement', 'court_record', 'witness_statement',
      'video', 'social_media', 'other'
    )),
    public boolean not null default false,
    check (url is not null or title is not null)
  )`,
  sql`create index sources_incident_idx on sources (incident_id, position)`,
  sql`create table verification_changes (
    id uuid primary key default gen_random_uuid(),
    incident_id uuid not null references incidents (id),
    from_status text not null,
    to_status text not null,
    note text not null,
    changed_by uuid references api_keys (id),
    changed_at timestamptz not null default now()
  )`,
  sql`create index verification_changes_incident_idx on verification_changes (incident_id, changed_at)`,
  sql`create table audit_log (
    id bigint generated always as identity primary key,
    occurred_at timestamptz not null default now(),
    action text not null,
    entity_type text not null,
    entity_id uuid not null,
    organisation_id uuid references organisations (id),
    actor_key_id uuid references api_keys (id),
    actor_role text,
    request_id text,
    before jsonb,
    after jsonb
  )`,
  sql`create index audit_log_entity_idx on audit_log (entity_type, entity_id, id)`,
  // The API never changes history; this makes the database refuse it too.
  sql`create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
    end
  $$`,
  sql`create trigger audit_log_append_only before update or delete or truncate on audit_log
    for each statement execute function audit_log_append_only()`,
  sql`create table app_meta (key text primary key, value jsonb not null)`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'app_meta',
    'audit_log',
    'verification_changes',
    'sources',
    'perpetrator_claims',
    'victims',
    'incidents',
    'api_keys',
    'organisations',
  ]) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
  await sql`drop function if exists audit_log_append_only()`.execute(db);
}
