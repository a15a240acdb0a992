import { sql, type Kysely } from 'kysely';

/**
 * Statistics by perpetrator type or attribution from the facts (issue #18, and the site's
 * statistics page, #14): each incident's fact row gets a bit mask of the distinct actor types
 * and one of the distinct attributions of its claims, kept like the attack-type mask (migration
 * 0006). GET /v1/stats?groupBy=actorType then groups the narrow facts instead of joining 800k
 * claims to 1M incidents (1.6-2 s at a million). An incident without claims has mask 0: the
 * null group, as on the incident path. Claim filters ("this actor type, with this
 * attribution, on the same claim") and the pair actorType x attribution still need the claims.
 *
 * The claims now refresh the facts too: statement-level triggers on perpetrator_claims as on
 * victims, inert while a bulk write defers the derived tables (migration 0009).
 */
const list = (values: readonly string[]) => sql.raw(values.map((value) => `'${value}'`).join(', '));

const ACTOR_TYPES = [
  'state_security',
  'military',
  'police',
  'government_official',
  'non_state_armed_group',
  'political_group',
  'criminal_group',
  'private_individual',
  'unknown',
];
const ATTRIBUTIONS = [
  'claimed_by_perpetrator',
  'alleged_by_victim',
  'alleged_by_authorities',
  'alleged_by_others',
  'suspected_by_documenter',
  'established_by_court',
];

const COLUMNS = [
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
  'actor_mask',
  'attribution_mask',
];
const columns = sql.join(COLUMNS.map((column) => sql.id(column)));
const DEFERRED = `if current_setting('dateline.defer_derived', true) = 'on' then return null; end if;`;

/** A mask over an enum's values, and its values back, as fact_attack_mask / fact_attack_types. */
const maskFunctions = (enumType: string, mask: string, values: string) => [
  sql`create function ${sql.id(mask)}(codes text[]) returns integer language sql stable parallel safe as $$
    select coalesce(bit_or(1 << (array_position(enum_range(null::${sql.raw(enumType)}), code::${sql.raw(enumType)}) - 1)), 0)
    from unnest(codes) as code
  $$`,
  sql`create function ${sql.id(values)}(mask integer) returns setof text language sql stable parallel safe as $$
    select code::text from unnest(enum_range(null::${sql.raw(enumType)})) with ordinality as t (code, position)
    where mask & (1 << (position::int - 1)) <> 0
  $$`,
];

const statements = [
  sql`create type fact_actor_type as enum (${list(ACTOR_TYPES)})`,
  sql`create type fact_attribution as enum (${list(ATTRIBUTIONS)})`,
  ...maskFunctions('fact_actor_type', 'fact_actor_mask', 'fact_actor_types'),
  ...maskFunctions('fact_attribution', 'fact_attribution_mask', 'fact_attributions'),
  sql`alter table incident_facts add column actor_mask integer not null default 0, add column attribution_mask integer not null default 0`,

  sql`create or replace view incident_fact_rows (${columns}) as
    select i.id, i.organisation_id, i.date_start, i.date_end, fact_attack_mask(i.attack_types), v.victims::int, v.killed::int,
      i.verification_status::fact_verification_status, i.visibility = 'published',
      case when date_part('year', i.date_start) = date_part('year', i.date_end) then date_part('year', i.date_start)::smallint end,
      case when date_trunc('month', i.date_start) = date_trunc('month', i.date_end) then date_trunc('month', i.date_start)::date end,
      i.motive::fact_motive, i.judicial_outcome::fact_judicial_outcome, i.country, i.death_type::fact_death_type,
      c.actor_mask, c.attribution_mask
    from incidents i
    cross join lateral (
      select count(*) as victims, count(*) filter (where outcome = 'killed') as killed from victims where incident_id = i.id
    ) v
    cross join lateral (
      select fact_actor_mask(array_agg(actor_type)) as actor_mask, fact_attribution_mask(array_agg(attribution)) as attribution_mask
      from perpetrator_claims where incident_id = i.id
    ) c
    where i.deleted_at is null and i.merged_into is null`,
  sql`create or replace function refresh_incident_facts(ids uuid[]) returns void language sql as $$
    delete from incident_facts f where f.incident_id = any(ids)
      and not exists (select 1 from incident_fact_rows r where r.incident_id = f.incident_id);
    insert into incident_facts (${columns}) select * from incident_fact_rows where incident_id = any(ids)
    on conflict (incident_id) do update set (${sql.join(COLUMNS.slice(1).map((column) => sql.id(column)))})
      = (${sql.join(COLUMNS.slice(1).map((column) => sql`excluded.${sql.id(column)}`))});
  $$`,

  // A claim moved to another incident (a merge) changes the facts of both.
  sql`create function incident_facts_after_claims() returns trigger language plpgsql as $$
    begin
      ${sql.raw(DEFERRED)}
      if tg_op = 'INSERT' then
        perform refresh_incident_facts(array(select distinct incident_id from new_claims));
      elsif tg_op = 'DELETE' then
        perform refresh_incident_facts(array(select distinct incident_id from old_claims));
      else
        perform refresh_incident_facts(array(select incident_id from new_claims union select incident_id from old_claims));
      end if;
      return null;
    end
  $$`,
  sql`create trigger incident_facts_insert after insert on perpetrator_claims referencing new table as new_claims
    for each statement execute function incident_facts_after_claims()`,
  sql`create trigger incident_facts_update after update on perpetrator_claims referencing old table as old_claims new table as new_claims
    for each statement execute function incident_facts_after_claims()`,
  sql`create trigger incident_facts_delete after delete on perpetrator_claims referencing old table as old_claims
    for each statement execute function incident_facts_after_claims()`,

  // The facts of incidents with claims, from the claims alone (the rest of each row is unchanged).
  sql`update incident_facts f set actor_mask = c.actor_mask, attribution_mask = c.attribution_mask
    from (
      select incident_id, fact_actor_mask(array_agg(actor_type)) as actor_mask, fact_attribution_mask(array_agg(attribution)) as attribution_mask
      from perpetrator_claims group by incident_id
    ) c
    where c.incident_id = f.incident_id`,
  sql`analyze incident_facts`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const trigger of ['incident_facts_insert', 'incident_facts_update', 'incident_facts_delete']) {
    await sql`drop trigger if exists ${sql.id(trigger)} on perpetrator_claims`.execute(db);
  }
  await sql`drop function if exists incident_facts_after_claims()`.execute(db);
  throw new Error('migration 0014 (claim facts) cannot restore the previous fact view; restore a backup instead');
}
