import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Incident lists: a row per incident (one without children may have none), holding the ';'-joined
 * lists its CSV record shows (src/exports/incident-csv.ts), in `position` order, whole and as the
 * public sees them (a protected victim withheld, private sources left out).
 *
 * A CSV export of 1M incidents aggregated 3.8M child rows on every request: 15-20 s of
 * PostgreSQL, and the first line could only be sent once the whole result was sorted. With the
 * lists kept here, the export reads the incidents in order with one primary-key lookup each and
 * streams from the first row (BENCHMARKS.md).
 *
 * Kept like the statistics facts (migration 0006): a view per child table defines its columns,
 * statement-level triggers with transition tables refresh the columns of the incidents a
 * statement touched, set-based, in the writing transaction. Each child table refreshes only its
 * own columns. bench/generate.ts, which loads with triggers off, fills the table from
 * incident_list_rows as below.
 */
const item = (value: string) => `coalesce(${value}::text, '')`;
/** A ';' list; the aggregate reads rows already sorted by (incident_id, position), so it needs no ORDER BY of its own. */
const list = (value: string, filter?: string) => `string_agg(${item(value)}, ';')${filter ? ` filter (where ${filter})` : ''}`;
const withheld = (value: string) => `case when protected then null else ${value} end`;

export interface ChildLists {
  table: 'victims' | 'perpetrator_claims' | 'sources';
  view: string;
  /** Column name -> aggregate over the child rows of one incident. */
  columns: Record<string, string>;
}

/** Exported for migration 0009, which refreshes all lists of many incidents in one insert. */
export const CHILDREN: ChildLists[] = [
  {
    table: 'victims',
    view: 'incident_victim_lists',
    columns: {
      victim_count: 'count(*)::int',
      victims_killed: `(count(*) filter (where outcome = 'killed'))::int`,
      victim_roles: list('role'),
      victim_outcomes: list('outcome'),
      victim_protected: list('protected'),
      victim_names: list('name'),
      victim_genders: list('gender'),
      victim_nationalities: list('nationality'),
      victim_outlets: list('outlet'),
      // The name must match WITHHELD_NAME in src/incidents/incident.schemas.ts.
      public_victim_names: list(`case when protected then 'name withheld' else name end`),
      public_victim_genders: list(withheld('gender')),
      public_victim_nationalities: list(withheld('nationality')),
      public_victim_outlets: list(withheld('outlet')),
    },
  },
  {
    table: 'perpetrator_claims',
    view: 'incident_claim_lists',
    columns: { perpetrators: list(`actor_name || ' (' || actor_type || ', ' || attribution || ')'`) },
  },
  {
    table: 'sources',
    view: 'incident_source_lists',
    columns: {
      source_titles: list('title'),
      source_urls: list('url'),
      source_kinds: list('kind'),
      source_public: list('public'),
      public_source_titles: list('title', 'public'),
      public_source_urls: list('url', 'public'),
      public_source_kinds: list('kind', 'public'),
      public_source_public: list('public', 'public'),
    },
  },
];

const ids = (names: string[]) => sql.join(names.map((name) => sql.id(name)));
const raw = (text: string) => sql.raw(text);
/** A missing list is '' and a missing count 0, as for an incident without such children. */
export const emptyFor = (column: string) => (column === 'victim_count' || column === 'victims_killed' ? '0' : `''`);

function childStatements({ table, view, columns }: ChildLists): RawBuilder<unknown>[] {
  const names = Object.keys(columns);
  const refresh = `refresh_${view}`;
  const trigger = `${view}_after_change`;
  return [
    sql`create view ${sql.id(view)} (incident_id, ${ids(names)}) as
      select incident_id, ${sql.join(Object.values(columns).map(raw))}
      from (select * from ${sql.table(table)} order by incident_id, position) as child
      group by incident_id`,
    // Incidents deleted in the same statement (their children go by cascade) are skipped.
    sql`create function ${sql.id(refresh)}(ids uuid[]) returns void language sql as $$
      insert into incident_lists (incident_id, ${ids(names)})
      select i.id, ${sql.join(names.map((name) => raw(`coalesce(l.${name}, ${emptyFor(name)})`)))}
      from incidents i left join (select * from ${sql.id(view)} where incident_id = any(ids)) l on l.incident_id = i.id
      where i.id = any(ids)
      on conflict (incident_id) do update set ${sql.join(names.map((name) => sql`${sql.id(name)} = excluded.${sql.id(name)}`))};
    $$`,
    // A child moved to another incident (a merge) changes the lists of both.
    sql`create function ${sql.id(trigger)}() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then
          perform ${sql.id(refresh)}(array(select distinct incident_id from new_rows));
        elsif tg_op = 'DELETE' then
          perform ${sql.id(refresh)}(array(select distinct incident_id from old_rows));
        else
          perform ${sql.id(refresh)}(array(select incident_id from new_rows union select incident_id from old_rows));
        end if;
        return null;
      end
    $$`,
    sql`create trigger incident_lists_insert after insert on ${sql.table(table)} referencing new table as new_rows
      for each statement execute function ${sql.id(trigger)}()`,
    sql`create trigger incident_lists_update after update on ${sql.table(table)} referencing old table as old_rows new table as new_rows
      for each statement execute function ${sql.id(trigger)}()`,
    sql`create trigger incident_lists_delete after delete on ${sql.table(table)} referencing old table as old_rows
      for each statement execute function ${sql.id(trigger)}()`,
  ];
}

const ALL_COLUMNS = CHILDREN.flatMap((child) => Object.keys(child.columns));

const statements = [
  sql`create table incident_lists (
    incident_id uuid primary key references incidents (id) on delete cascade,
    ${sql.join(ALL_COLUMNS.map((name) => raw(`${name} ${emptyFor(name) === '0' ? 'integer' : 'text'} not null default ${emptyFor(name)}`)))}
  )`,
  ...CHILDREN.flatMap(childStatements),
  // The whole table as it should be, a row for every incident: the backfill below, bench/generate.ts and the tests use it.
  sql`create view incident_list_rows (incident_id, ${ids(ALL_COLUMNS)}) as
    select i.id, ${sql.join(CHILDREN.flatMap(({ view, columns }) => Object.keys(columns).map((name) => raw(`coalesce(${view}.${name}, ${emptyFor(name)})`))))}
    from incidents i
    ${sql.join(
      CHILDREN.map(({ view }) => sql`left join ${sql.id(view)} on ${sql.id(view)}.incident_id = i.id`),
      sql` `,
    )}`,
  sql`insert into incident_lists select * from incident_list_rows`,
  sql`analyze incident_lists`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop view if exists incident_list_rows`.execute(db);
  for (const { table, view } of CHILDREN) {
    for (const trigger of ['incident_lists_insert', 'incident_lists_update', 'incident_lists_delete']) {
      await sql`drop trigger if exists ${sql.id(trigger)} on ${sql.table(table)}`.execute(db);
    }
    await sql`drop function if exists ${sql.id(`${view}_after_change`)}(), ${sql.id(`refresh_${view}`)}(uuid[])`.execute(db);
    await sql`drop view if exists ${sql.id(view)}`.execute(db);
  }
  await sql`drop table if exists incident_lists`.execute(db);
}
