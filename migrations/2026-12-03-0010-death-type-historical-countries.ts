import { sql, type Kysely } from 'kysely';
import { CHILDREN, emptyFor } from './2026-11-26-0008-incident-lists.ts';

/**
 * Real data in (issue 13): CPJ's export and the press-freedom field's own distinctions.
 *
 * - incidents.death_type: how a killed victim died (murder, crossfire, dangerous_assignment,
 *   unknown, unclassified), a field statistics and filters group by rather than a line in the
 *   description. Kept in incident_facts as an enum like the other codes.
 * - judicial_outcome 'no_conviction': CPJ's "complete impunity" (nobody convicted), which says
 *   nothing of an investigation and so is none of the other codes.
 * - Countries that no longer exist: incidents.country and victims.nationality take ISO 3166-3
 *   four-letter codes (YUCS Yugoslavia, SUHH USSR...) besides alpha-2 codes, so they become
 *   text (char(2) cannot hold them). PostgreSQL cannot change the type of a column a view reads,
 *   so the views over them (incident_fact_rows, incident_victim_lists, incident_list_rows) are
 *   dropped and created again as they were, incident_fact_rows with the death type added. The
 *   functions that read the views are SQL text, looked up when called; only
 *   refresh_incident_facts, which lists the fact columns, is replaced.
 */
const DEATH_TYPES = ['murder', 'crossfire', 'dangerous_assignment', 'unknown', 'unclassified'];
const JUDICIAL_OUTCOMES = [
  'no_investigation',
  'investigation_open',
  'suspects_charged',
  'partial_justice',
  'full_justice',
  'unknown',
  'no_conviction',
];
const COUNTRY = `'^([A-Z]{2}|[A-Z]{4})$'`;

const list = (values: readonly string[]) => sql.raw(values.map((value) => `'${value}'`).join(', '));

const FACT_COLUMNS = [
  'incident_id',
  'organisation_id',
  'date_start',
  'date_end',
  'attack_mask',
  'victims',
  'victims_killed',
  'verification_status',
  'published',
  'year',
  'month',
  'motive',
  'judicial_outcome',
  'country',
  'death_type',
];
const factColumns = sql.join(FACT_COLUMNS.map((column) => sql.id(column)));

const victimLists = CHILDREN.find((child) => child.table === 'victims')!;
const allListColumns = CHILDREN.flatMap((child) => Object.keys(child.columns));

const statements = [
  sql`drop view incident_list_rows`,
  sql`drop view incident_victim_lists`,
  sql`drop view incident_fact_rows`,

  sql`alter table incidents drop constraint incidents_country_check`,
  sql`alter table incidents alter column country type text`,
  sql`alter table incidents add constraint incidents_country_check check (country ~ ${sql.raw(COUNTRY)})`,
  sql`alter table victims drop constraint victims_nationality_check`,
  sql`alter table victims alter column nationality type text`,
  sql`alter table victims add constraint victims_nationality_check check (nationality ~ ${sql.raw(COUNTRY)})`,
  sql`alter table incident_facts alter column country type text`,

  sql`alter table incidents drop constraint incidents_judicial_outcome_check`,
  sql`alter table incidents add constraint incidents_judicial_outcome_check check (judicial_outcome in (${list(JUDICIAL_OUTCOMES)}))`,
  sql`alter type fact_judicial_outcome add value 'no_conviction'`,

  sql`alter table incidents add column death_type text constraint incidents_death_type_check check (death_type in (${list(DEATH_TYPES)}))`,
  sql`create type fact_death_type as enum (${list(DEATH_TYPES)})`,
  sql`alter table incident_facts add column death_type fact_death_type`,

  sql`create view incident_fact_rows (${factColumns}) as
    select i.id, i.organisation_id, i.date_start, i.date_end, fact_attack_mask(i.attack_types), v.victims::int, v.killed::int,
      i.verification_status::fact_verification_status, i.visibility = 'published',
      case when date_part('year', i.date_start) = date_part('year', i.date_end) then date_part('year', i.date_start)::smallint end,
      case when date_trunc('month', i.date_start) = date_trunc('month', i.date_end) then date_trunc('month', i.date_start)::date end,
      i.motive::fact_motive, i.judicial_outcome::fact_judicial_outcome, i.country, i.death_type::fact_death_type
    from incidents i
    cross join lateral (
      select count(*) as victims, count(*) filter (where outcome = 'killed') as killed from victims where incident_id = i.id
    ) v
    where i.deleted_at is null and i.merged_into is null`,
  sql`create or replace function refresh_incident_facts(ids uuid[]) returns void language sql as $$
    delete from incident_facts f where f.incident_id = any(ids)
      and not exists (select 1 from incident_fact_rows r where r.incident_id = f.incident_id);
    insert into incident_facts (${factColumns}) select * from incident_fact_rows where incident_id = any(ids)
    on conflict (incident_id) do update set (${sql.join(FACT_COLUMNS.slice(1).map((column) => sql.id(column)))})
      = (${sql.join(FACT_COLUMNS.slice(1).map((column) => sql`excluded.${sql.id(column)}`))});
  $$`,

  sql`create view incident_victim_lists (incident_id, ${sql.join(Object.keys(victimLists.columns).map((name) => sql.id(name)))}) as
    select incident_id, ${sql.join(Object.values(victimLists.columns).map((value) => sql.raw(value)))}
    from (select * from victims order by incident_id, position) as child
    group by incident_id`,
  sql`create view incident_list_rows (incident_id, ${sql.join(allListColumns.map((name) => sql.id(name)))}) as
    select i.id, ${sql.join(CHILDREN.flatMap(({ view, columns }) => Object.keys(columns).map((name) => sql.raw(`coalesce(${view}.${name}, ${emptyFor(name)})`))))}
    from incidents i
    ${sql.join(
      CHILDREN.map(({ view }) => sql`left join ${sql.id(view)} on ${sql.id(view)}.incident_id = i.id`),
      sql` `,
    )}`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

/** Not reversible once a four-letter code or a new code is stored; refuses rather than losing data. */
export async function down(): Promise<void> {
  throw new Error('migration 0010 (death type, historical countries) cannot be undone without losing data; restore a backup instead');
}
