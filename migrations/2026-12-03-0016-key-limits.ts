import { sql, type Kysely } from 'kysely';

/**
 * Keys with limits (issue 17, part 5).
 *
 * expires_at: the key stops working then (null: never). Rotation sets it on the old key to the
 * end of the grace period, and replaced_by names the key that took its place.
 * scopes: what the key may be used for (src/auth/scopes.ts); null means the role's full rights,
 * as every key had before this migration, so existing keys keep working unchanged.
 * last_used_at: written at most once a minute per key and process (src/auth/last-used.ts).
 */
const statements = [
  sql`alter table api_keys add column expires_at timestamptz`,
  sql`alter table api_keys add column scopes text[] check (scopes is null or cardinality(scopes) > 0)`,
  sql`alter table api_keys add column last_used_at timestamptz`,
  sql`alter table api_keys add column replaced_by uuid references api_keys (id)`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['replaced_by', 'last_used_at', 'scopes', 'expires_at']) {
    await sql`alter table api_keys drop column if exists ${sql.ref(column)}`.execute(db);
  }
}
