import { sql, type Kysely } from 'kysely';

/**
 * Stored documents: each incident's public document (the JSON GET /v1/incidents returns for it
 * to the public, src/incidents/incident-shapes.ts) as text, so that a public or research list
 * page is an index range plus 50 stored documents instead of 50 incidents whose children are
 * gathered and shaped at read time (issue #18, BENCHMARKS.md). The research document is the same
 * text with three of the incident's own columns added at read time (incident-documents.ts).
 *
 * The document is built in JavaScript, from the one function that shapes every answer, never in
 * SQL (a second copy of the redaction rules could drift from the first and leak). This migration
 * keeps only whether a document is current: every write to an incident, its victims, claims or
 * sources, or its organisation's name, sets `public_document` to null (stale) in the writing
 * statement. The writer then stores the new document before it commits
 * (src/incidents/incident-hooks.ts announceChanges); bulk writes and this migration leave
 * documents stale, and src/incidents/incident-documents.ts fills them after commit. A reader
 * that finds a stale document shapes the incident from its rows, as before: a stale document
 * costs time, never correctness.
 */
const STALE = `public_document = null`;

/** The tables whose rows make up a document, and how a statement's rows name their incident. */
const SOURCES = [
  { table: 'incidents', incident: 'id' },
  { table: 'victims', incident: 'incident_id' },
  { table: 'perpetrator_claims', incident: 'incident_id' },
  { table: 'sources', incident: 'incident_id' },
] as const;

// A bulk write that defers the derived tables (migration 0009) is marked stale by refresh_derived_tables.
const DEFERRED = `if current_setting('dateline.defer_derived', true) = 'on' then return null; end if;`;

const statements = [
  sql`create table incident_documents (
    incident_id uuid primary key references incidents (id) on delete cascade,
    public_document text
  )`,
  // The filler's queue: the stale documents, found without reading the current ones.
  sql`create index incident_documents_stale_idx on incident_documents (incident_id) where public_document is null`,
  // Incidents deleted in the same statement are skipped (their row goes by cascade).
  sql`create function mark_incident_documents_stale(ids uuid[]) returns void language sql as $$
    insert into incident_documents (incident_id) select i.id from incidents i where i.id = any(ids)
    on conflict (incident_id) do update set ${sql.raw(STALE)} where incident_documents.public_document is not null;
  $$`,
  // A child moved to another incident (a merge) changes the documents of both.
  ...SOURCES.map(
    ({ table, incident }) => sql`create function ${sql.id(`incident_documents_after_${table}`)}() returns trigger language plpgsql as $$
      begin
        ${sql.raw(DEFERRED)}
        if tg_op = 'INSERT' then
          perform mark_incident_documents_stale(array(select ${sql.id(incident)} from new_rows));
        elsif tg_op = 'DELETE' then
          perform mark_incident_documents_stale(array(select ${sql.id(incident)} from old_rows));
        else
          perform mark_incident_documents_stale(array(select ${sql.id(incident)} from new_rows union select ${sql.id(incident)} from old_rows));
        end if;
        return null;
      end
    $$`,
  ),
  ...SOURCES.flatMap(({ table }) => {
    const run = sql`for each statement execute function ${sql.id(`incident_documents_after_${table}`)}()`;
    return [
      sql`create trigger incident_documents_insert after insert on ${sql.table(table)} referencing new table as new_rows ${run}`,
      sql`create trigger incident_documents_update after update on ${sql.table(table)} referencing old table as old_rows new table as new_rows ${run}`,
      sql`create trigger incident_documents_delete after delete on ${sql.table(table)} referencing old table as old_rows ${run}`,
    ];
  }),
  // The organisation's name is part of every document of its incidents.
  sql`create function incident_documents_after_organisation() returns trigger language plpgsql as $$
    begin
      perform mark_incident_documents_stale(array(select id from incidents where organisation_id = new.id));
      return null;
    end
  $$`,
  sql`create trigger incident_documents_organisation_name after update of name on organisations
    for each row when (old.name is distinct from new.name) execute function incident_documents_after_organisation()`,
  // The deferred refresh of migration 0009, plus the documents.
  sql`alter function refresh_derived_tables(uuid[]) rename to refresh_facts_and_lists`,
  sql`create function refresh_derived_tables(ids uuid[]) returns void language sql as $$
    select refresh_facts_and_lists(ids);
    select mark_incident_documents_stale(ids);
  $$`,
  sql`insert into incident_documents (incident_id) select id from incidents`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function refresh_derived_tables(uuid[])`.execute(db);
  await sql`alter function refresh_facts_and_lists(uuid[]) rename to refresh_derived_tables`.execute(db);
  await sql`drop trigger incident_documents_organisation_name on organisations`.execute(db);
  await sql`drop function incident_documents_after_organisation()`.execute(db);
  for (const { table } of SOURCES) {
    for (const event of ['insert', 'update', 'delete']) {
      await sql`drop trigger ${sql.id(`incident_documents_${event}`)} on ${sql.table(table)}`.execute(db);
    }
    await sql`drop function ${sql.id(`incident_documents_after_${table}`)}()`.execute(db);
  }
  await sql`drop function mark_incident_documents_stale(uuid[])`.execute(db);
  await sql`drop table incident_documents`.execute(db);
}
