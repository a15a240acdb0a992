import { sql, type Kysely } from 'kysely';

/**
 * JSON imports (issue 13): moving incidents between Dateline instances with the owner's JSON
 * export, verification history included (src/imports/README.md, "json").
 *
 * - imports.format takes 'json'.
 * - verification_changes can hold history brought in by an import: `import_id` names the import
 *   that recorded the entry (null for a change made on this instance), `changed_by_name` keeps
 *   who made the change as the original instance named them (there is no key here to point
 *   `changed_by` at). An imported entry is history of the original instance, shown as such
 *   (`imported: true`); it never sets an incident's status by itself.
 */
const statements = [
  sql`alter table imports drop constraint imports_format_check`,
  sql`alter table imports add constraint imports_format_check check (format in ('native', 'cpj', 'mapped', 'json'))`,
  sql`alter table verification_changes add column import_id uuid references imports (id)`,
  sql`alter table verification_changes add column changed_by_name text check (length(changed_by_name) between 1 and 300)`,
  // A change made here names its key; an imported one names no key of this instance.
  sql`alter table verification_changes add constraint verification_changes_imported_check check (import_id is null or changed_by is null)`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from verification_changes where import_id is not null`.execute(db);
  await sql`alter table verification_changes drop column changed_by_name`.execute(db);
  await sql`alter table verification_changes drop column import_id`.execute(db);
  await sql`alter table imports drop constraint imports_format_check`.execute(db);
  await sql`alter table imports add constraint imports_format_check check (format in ('native', 'cpj', 'mapped'))`.execute(db);
}
