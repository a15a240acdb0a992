import { sql, type Kysely } from 'kysely';
import { CHILDREN, emptyFor } from './2026-11-26-0008-incident-lists.ts';

/**
 * Lets a bulk write (an import) defer the derived tables, incident_facts (0006) and
 * incident_lists (0008), to one set-based refresh at its end. Their triggers refresh the rows
 * of the incidents each statement touched; an import writes each batch of incidents in four
 * statements (incidents, victims, claims, sources), so the facts were refreshed twice and the
 * lists written three times per incident: a third of an import's database time
 * (BENCHMARKS.md).
 *
 * With `dateline.defer_derived` set to 'on' in the transaction (`set local`), the triggers do
 * nothing; the writer then calls refresh_derived_tables(ids) for every incident it touched
 * before it commits (src/db/derived-tables.ts). The setting is transaction-local, so a write that
 * forgets it, or fails, leaves no other transaction affected.
 */
const DEFERRED = `if current_setting('dateline.defer_derived', true) = 'on' then return null; end if;`;

const statements = [
  sql`create or replace function incident_facts_after_incidents() returns trigger language plpgsql as $$
    begin
      ${sql.raw(DEFERRED)}
      perform refresh_incident_facts(array(select id from changed_incidents));
      return null;
    end
  $$`,
  sql`create or replace function incident_facts_after_victims() returns trigger language plpgsql as $$
    begin
      ${sql.raw(DEFERRED)}
      if tg_op = 'INSERT' then
        perform refresh_incident_facts(array(select distinct incident_id from new_victims));
      elsif tg_op = 'DELETE' then
        perform refresh_incident_facts(array(select distinct incident_id from old_victims));
      else
        perform refresh_incident_facts(array(select incident_id from new_victims union select incident_id from old_victims));
      end if;
      return null;
    end
  $$`,
  ...['incident_victim_lists', 'incident_claim_lists', 'incident_source_lists'].map(
    (view) => sql`create or replace function ${sql.id(`${view}_after_change`)}() returns trigger language plpgsql as $$
      begin
        ${sql.raw(DEFERRED)}
        if tg_op = 'INSERT' then
          perform ${sql.id(`refresh_${view}`)}(array(select distinct incident_id from new_rows));
        elsif tg_op = 'DELETE' then
          perform ${sql.id(`refresh_${view}`)}(array(select distinct incident_id from old_rows));
        else
          perform ${sql.id(`refresh_${view}`)}(array(select incident_id from new_rows union select incident_id from old_rows));
        end if;
        return null;
      end
    $$`,
  ),
  // All lists of each incident in one insert: the per-table refreshes would write each row three times.
  sql`create function refresh_derived_tables(ids uuid[]) returns void language sql as $$
    select refresh_incident_facts(ids);
    delete from incident_lists where incident_id = any(ids);
    insert into incident_lists (incident_id, ${sql.join(CHILDREN.flatMap(({ columns }) => Object.keys(columns)).map((name) => sql.id(name)))})
    select i.id, ${sql.join(CHILDREN.flatMap(({ view, columns }) => Object.keys(columns).map((name) => sql.raw(`coalesce(${view}.${name}, ${emptyFor(name)})`))))}
    from incidents i
    ${sql.join(
      CHILDREN.map(
        ({ view }) =>
          sql`left join (select * from ${sql.id(view)} where incident_id = any(ids)) as ${sql.id(view)} on ${sql.id(view)}.incident_id = i.id`,
      ),
      sql` `,
    )}
    where i.id = any(ids);
  $$`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

/** The trigger functions keep the check, which is inert unless a transaction sets the flag. */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists refresh_derived_tables(uuid[])`.execute(db);
}
