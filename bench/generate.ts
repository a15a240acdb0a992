import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../src/db/create-db.ts';
import { victimNameKey } from '../src/incidents/name-key.ts';
import { nameSkeletonText, publicSearchText } from '../src/incidents/search-text.ts';
import { dictionary, ORGANISATIONS } from './dictionary.ts';
import { MARK_LEFTOVERS, SEALED_CHECKS } from '../migrations/2026-12-03-0018-encryption-at-rest.ts';

/**
 * The synthetic dataset, generated inside the database with generate_series. Every random draw
 * happens once, when the staging table `plan` (one row per incident) or `pv`/`pc` (victims,
 * claims) is filled; the INSERTs into the real tables only derive values from stored draws, so
 * a value used twice (a victim's name in its row and in search_text) is the same both times.
 * setseed makes the dataset the same on every run.
 */
const TABLES = ['incidents', 'victims', 'perpetrator_claims', 'sources'];

/** One element of a dictionary list, chosen uniformly: `list[1 + floor(random() * length)]`. */
const pick = (list: keyof typeof dictionary | 'org_pick') => sql.raw(`d.${list}[1 + floor(random() * cardinality(d.${list}))::int]`);
/** A 1-based index into a dictionary list. */
const index = (list: keyof typeof dictionary) => sql.raw(`1 + floor(random() * cardinality(d.${list}))::int`);

export async function generateDataset(db: Db, incidents: number, log: (message: string) => void): Promise<void> {
  const organisations = await db
    .insertInto('organisations')
    .values(ORGANISATIONS.map(([name]) => ({ name })))
    .returning(['id', 'name'])
    .execute();
  const orgPick = ORGANISATIONS.flatMap(([name, weight]) => Array<string>(weight).fill(organisations.find((org) => org.name === name)!.id));

  // Secondary indexes are cheaper to build once than to maintain row by row.
  const indexes = await sql<{ indexname: string; indexdef: string }>`
    select indexname, indexdef from pg_indexes
    where schemaname = 'public' and tablename in (${sql.join(TABLES)})
      and indexname not in (select conname from pg_constraint)`.execute(db);
  for (const { indexname } of indexes.rows) await sql`drop index ${sql.id(indexname)}`.execute(db);

  // Generated in clear, then encrypted as an upgrade would be: the first startEncryption seals what
  // the flag says is left (src/incidents/encryption-start.ts); bench/run.ts calls it next.
  await sql`alter table victims drop constraint victims_protected_sealed`.execute(db);
  await sql`alter table incidents drop constraint incidents_internal_notes_sealed`.execute(db);

  await db.connection().execute(async (conn) => {
    const step = async (label: string, statement: RawBuilder<unknown>) => {
      const started = performance.now();
      await statement.execute(conn);
      log(`  ${label.padEnd(28)} ${((performance.now() - started) / 1000).toFixed(1)} s`);
    };
    // Replica mode skips triggers: the statement-level data_version bumps and the FK checks.
    await sql`set session_replication_role = replica`.execute(conn);
    await sql`select setseed(0.2026)`.execute(conn);
    // victims.name_key (migration 0005, when present) is the app's victimNameKey: the name's skeleton key.
    const nameKey = await sql`select 1 from information_schema.columns where table_name = 'victims' and column_name = 'name_key'`.execute(
      conn,
    );
    for (const [label, statement] of statements(incidents, dictionarySql(orgPick), nameKey.rows.length > 0)) await step(label, statement);
    await sql`set session_replication_role = origin`.execute(conn);
    await sql`set maintenance_work_mem = '512MB'`.execute(conn);
    for (const { indexname, indexdef } of indexes.rows) await step(`index ${indexname}`, sql.raw(indexdef));
    // The statistics facts (migration 0006, when present) are kept by triggers, which were off
    // for the load: fill them from the view that defines them, as the migration does (after the
    // indexes: the view counts each incident's victims through victims_incident_idx).
    const facts = await sql`select 1 from information_schema.views where table_name = 'incident_fact_rows'`.execute(conn);
    if (facts.rows.length) await step('incident_facts', sql`insert into incident_facts select * from incident_fact_rows`);
    // Likewise the CSV export's child lists (migration 0008).
    const lists = await sql`select 1 from information_schema.views where table_name = 'incident_list_rows'`.execute(conn);
    if (lists.rows.length) await step('incident_lists', sql`insert into incident_lists select * from incident_list_rows`);
    // The stored documents (migration 0019) start stale; the app fills them (src/incidents/incident-documents.ts).
    const documents = await sql`select 1 from information_schema.tables where table_name = 'incident_documents'`.execute(conn);
    if (documents.rows.length) await step('incident_documents', sql`insert into incident_documents (incident_id) select id from incidents`);
    for (const table of ['plan', 'pv', 'pc', 'victim_text', 'claim_text']) await sql`drop table ${sql.id(table)}`.execute(conn);
  });
  for (const table of [...TABLES, 'incident_facts', 'incident_lists']) await sql`vacuum analyze ${sql.table(table)}`.execute(db);
  await sql`update data_version set version = version + 1, changed_at = now()`.execute(db);
  for (const statement of [...SEALED_CHECKS, MARK_LEFTOVERS]) await statement.execute(db);
  await db
    .insertInto('app_meta')
    .values({ key: 'bench_dataset', value: JSON.stringify({ incidents }) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify({ incidents }) }))
    .execute();
}

/** How many incidents a previous run generated, if any. */
export async function existingDataset(db: Db): Promise<number | undefined> {
  const row = await db.selectFrom('app_meta').select('value').where('key', '=', 'bench_dataset').executeTakeFirst();
  return (row?.value as { incidents?: number } | undefined)?.incidents;
}

/**
 * The dictionary as a one-row subquery `d` of array literals. Literals (not a table, nor bind
 * parameters, which CREATE TABLE AS does not take) are constants to the planner: each array is
 * read once per statement instead of being detoasted again for every generated row.
 */
/**
 * Name skeletons, computed here with the app's own functions (search-text.ts, name-key.ts):
 * each part's marked skeleton words for search_text (word by word, so first || ' ' || last is
 * the whole name's), and victims.name_key for every first x last name, at (f - 1) * |last| + l
 * (its words are sorted, so it is not the join of two parts).
 */
const skeletonText = (values: readonly (string | null)[]) => values.map((value) => (value === null ? null : nameSkeletonText(value)));
const names = {
  first_skel: skeletonText(dictionary.first),
  first_original_skel: skeletonText(dictionary.first_original),
  last_skel: skeletonText(dictionary.last),
  last_original_skel: skeletonText(dictionary.last_original),
  name_key: dictionary.first.flatMap((first) => dictionary.last.map((last) => victimNameKey({ name: `${first} ${last}` }))),
};

function dictionarySql(orgPick: string[]): RawBuilder<unknown> {
  const columns = Object.entries({ ...dictionary, ...names, org_pick: orgPick }).map(([name, values]) => {
    const type =
      name === 'org_pick'
        ? 'uuid[]'
        : name.endsWith('_lat') || name.endsWith('_lon')
          ? 'float8[]'
          : values.every((value) => typeof value === 'number')
            ? 'int[]'
            : 'text[]';
    const text = `{${values.map((value) => (value === null ? 'NULL' : `"${String(value).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
    return sql`${sql.lit(text)}::${sql.raw(type)} as ${sql.id(name)}`;
  });
  return sql`(select ${sql.join(columns)}) d`;
}

function statements(incidents: number, d: RawBuilder<unknown>, withNameKey: boolean): Array<[string, RawBuilder<unknown>]> {
  const nameKey = withNameKey ? [sql`, name_key`, sql`, d.name_key[(v.f - 1) * ${sql.lit(dictionary.last.length)} + v.l]`] : [sql``, sql``];
  return [
    [
      'plan (incident draws)',
      sql`create temp table plan as
      select g, gen_random_uuid() as id, ${pick('org_pick')} as organisation_id, ${pick('place_pick')} as place,
        ${pick('attack_pick')} as a1, case when random() < 0.3 then ${pick('attack_pick')} end as a2,
        1992 + floor(34.99 * sqrt(random()))::int as year, random() as day_r,
        (array['day','day','day','day','day','day','month','month','year','range'])[1 + floor(random() * 10)::int] as precision,
        1 + floor(random() * 45)::int as span,
        ${pick('status_pick')} as status, ${pick('motive_pick')} as motive, ${pick('judicial_pick')} as judicial,
        random() < 0.9 as published, random() < 0.003 as deleted, random() < 0.1 as has_notes,
        case when random() < 0.7 then ${index('description')} end as description,
        random() as coord_r, random() - 0.5 as jitter_lat, random() - 0.5 as jitter_lon,
        (array[1,1,1,1,1,1,2,2,2,3])[1 + floor(random() * 10)::int] as victims,
        (array[0,0,0,0,0,0,0,1,1,1,1,1,1,1,1,1,1,2,2,2])[1 + floor(random() * 20)::int] as claims,
        case when random() < 0.65 then 1 else 2 end as sources,
        random() * 400 as lag_days, random() as edit_r, 1 + floor(random() * 3)::int as version
      from generate_series(1, ${sql.lit(incidents)}) g cross join ${d}`,
    ],
    [
      'pv (victim draws)',
      sql`create temp table pv as
      select gen_random_uuid() as id, p.id as incident_id, k - 1 as position, ${index('first')} as f, ${index('last')} as l,
        ${pick('role_pick')} as role, random() as gender_r,
        coalesce(case when k = 1 then d.attack_outcome[p.a1] end, ${pick('outcome_pick')}) as outcome,
        random() < 0.05 as protected, random() < 0.85 as national, ${index('outlet')} as outlet, random() as outlet_r,
        random() as locality_r, random() as employment_r, d.place_country[p.place] as country
      from plan p cross join ${d} cross join generate_series(1, p.victims) k`,
    ],
    [
      'pc (claim draws)',
      sql`create temp table pc as
      select gen_random_uuid() as id, p.id as incident_id, k - 1 as position, ${index('actor')} as actor,
        ${pick('attribution_pick')} as attribution
      from plan p cross join ${d} cross join generate_series(1, p.claims) k`,
    ],
    // publicSearchText: title, description, then each unprotected victim's name, original name,
    // aliases (none here) and outlet, then the claimed actors; all normalised; then the
    // skeletons of each unprotected victim's name and original name.
    [
      'victim_text',
      sql`create temp table victim_text as
      select v.incident_id, string_agg(concat_ws(' ',
          d.first_norm[v.f] || ' ' || d.last_norm[v.l],
          d.first_original_norm[v.f] || ' ' || d.last_original_norm[v.l],
          case when v.outlet_r < 0.7 then d.outlet_norm[v.outlet] end), ' ' order by v.position) as text,
        string_agg(concat_ws(' ',
          d.first_skel[v.f] || ' ' || d.last_skel[v.l],
          d.first_original_skel[v.f] || ' ' || d.last_original_skel[v.l]), ' ' order by v.position) as skel
      from pv v cross join ${d} where not v.protected group by v.incident_id`,
    ],
    [
      'claim_text',
      sql`create temp table claim_text as
      select c.incident_id, string_agg(d.actor_norm[c.actor], ' ' order by c.position) as text
      from pc c cross join ${d} group by c.incident_id`,
    ],
    [
      'incidents',
      sql`insert into incidents (id, organisation_id, title, description, internal_notes, date_start, date_end,
        date_precision, country, region, city, latitude, longitude, coordinate_precision, attack_types, verification_status,
        motive, judicial_outcome, visibility, version, created_at, updated_at, published_at, deleted_at, deleted_reason, search_text)
      select p.id, p.organisation_id, d.attack_title[p.a1] || ' in ' || d.place_label[p.place], d.description[p.description],
        case when p.has_notes then 'Source asked not to be named.' end,
        dates.date_start, dates.date_end, p.precision, d.place_country[p.place], d.place_region[p.place], d.place_city[p.place],
        case when p.coord_r < 0.45 and d.place_lat[p.place] is not null then d.place_lat[p.place] + case when p.coord_r >= 0.3 then p.jitter_lat * 0.2 else 0 end end,
        case when p.coord_r < 0.45 and d.place_lat[p.place] is not null then d.place_lon[p.place] + case when p.coord_r >= 0.3 then p.jitter_lon * 0.2 else 0 end end,
        case when p.coord_r < 0.45 and d.place_lat[p.place] is not null then case when p.coord_r < 0.3 then 'city' else 'exact' end end,
        case when p.a2 is null or p.a2 = p.a1 then array[d.attack[p.a1]] else array[d.attack[p.a1], d.attack[p.a2]] end,
        p.status, p.motive, p.judicial, case when p.published then 'published' else 'draft' end, p.version,
        times.created_at, times.updated_at, case when p.published then times.updated_at end,
        case when p.deleted then times.updated_at end, case when p.deleted then 'Duplicate of another record.' end,
        concat_ws(' ', d.attack_norm[p.a1] || ' in ' || d.place_norm[p.place], d.description_norm[p.description], vt.text, ct.text, vt.skel)
      from plan p cross join ${d}
      cross join lateral (select make_date(p.year, 1, 1) + floor(p.day_r * least(365, current_date - 1 - make_date(p.year, 1, 1)))::int as day) draw
      cross join lateral (select
          case p.precision when 'month' then date_trunc('month', draw.day)::date when 'year' then make_date(p.year, 1, 1) else draw.day end as date_start,
          case p.precision when 'day' then draw.day when 'month' then (date_trunc('month', draw.day) + interval '1 month - 1 day')::date
            when 'year' then make_date(p.year, 12, 31) else least(draw.day + p.span, current_date) end as date_end) dates
      cross join lateral (select date_trunc('milliseconds', least(now() - interval '1 hour',
          greatest(dates.date_end::timestamptz, timestamptz '2012-01-01') + p.lag_days * interval '1 day')) as created_at) created
      cross join lateral (select created.created_at,
          date_trunc('milliseconds', created.created_at + (now() - created.created_at) * p.edit_r * 0.3) as updated_at) times
      left join victim_text vt on vt.incident_id = p.id
      left join claim_text ct on ct.incident_id = p.id`,
    ],
    [
      'victims',
      sql`insert into victims (id, incident_id, position, name, name_original, role, gender, nationality, outlet,
        locality, employment, outcome, protected${nameKey[0]})
      select v.id, v.incident_id, v.position, d.first[v.f] || ' ' || d.last[v.l], d.first_original[v.f] || ' ' || d.last_original[v.l],
        v.role, case when v.gender_r < 0.9 then d.first_gender[v.f] when v.gender_r < 0.92 then 'non_binary' end,
        case when v.national then v.country end, case when v.outlet_r < 0.7 then d.outlet[v.outlet] end,
        case when v.locality_r < 0.8 then 'local' when v.locality_r < 0.9 then 'foreign' else 'exile' end,
        case when v.employment_r < 0.5 then 'staff' when v.employment_r < 0.85 then 'freelance' end,
        v.outcome, v.protected${nameKey[1]}
      from pv v cross join ${d}`,
    ],
    [
      'perpetrator_claims',
      sql`insert into perpetrator_claims (id, incident_id, position, actor_name, actor_type, attribution)
      select c.id, c.incident_id, c.position, d.actor[c.actor], d.actor_type[c.actor], c.attribution
      from pc c cross join ${d}`,
    ],
    [
      'sources',
      sql`insert into sources (incident_id, position, url, publisher, title, published_on, kind, public)
      select p.id, k - 1, case when random() < 0.9 then 'https://news.example.org/' || p.g || '/' || k end,
        ${pick('publisher')}, 'Report on incident ' || p.g,
        least(make_date(p.year, 1, 1) + floor(p.day_r * 365)::int + floor(random() * 60)::int, current_date),
        ${pick('source_kind_pick')}, random() < 0.8
      from plan p cross join ${d} cross join generate_series(1, p.sources) k`,
    ],
  ];
}

/** Checks a sample against the app's own publicSearchText: searches must find what the app would. */
export async function checkSearchText(db: Db, sample = 200): Promise<number> {
  const rows = await sql<{
    title: string;
    description: string | null;
    search_text: string;
    victims: Array<{ name: string | null; name_original: string | null; aliases: string[]; outlet: string | null; protected: boolean }>;
    claims: Array<{ actor_name: string }>;
  }>`select i.title, i.description, i.search_text,
      coalesce((select json_agg(v order by v.position) from victims v where v.incident_id = i.id), '[]') as victims,
      coalesce((select json_agg(c order by c.position) from perpetrator_claims c where c.incident_id = i.id), '[]') as claims
    from incidents i tablesample system (1) limit ${sample}`.execute(db);
  return rows.rows.filter(
    (row) =>
      publicSearchText({
        title: row.title,
        description: row.description,
        victims: row.victims.map((victim) => ({ ...victim, nameOriginal: victim.name_original })),
        perpetratorClaims: row.claims.map((claim) => ({ actorName: claim.actor_name })),
      }) !== row.search_text,
  ).length;
}
