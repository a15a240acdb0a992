import { readdir } from 'node:fs/promises';
import { sql, type Kysely } from 'kysely';
import { migrationFolder } from '../db/migrate.ts';

/**
 * A backup records how far its database was migrated, so a restore can tell an older backup
 * (restore, then migrate forward) from one made by a newer Dateline (refuse: these migrations
 * would not know its tables).
 */
export async function latestAppliedMigration(db: Kysely<any>): Promise<string | null> {
  const { rows } = await sql<{ present: boolean }>`select to_regclass('public.kysely_migration') is not null as present`.execute(db);
  if (!rows[0]?.present) return null;
  const latest = await sql<{ name: string | null }>`select max(name) as name from kysely_migration`.execute(db);
  return latest.rows[0]?.name ?? null;
}

/** The newest migration this code ships (Kysely names a migration by its file name, without the extension). */
export async function latestKnownMigration(): Promise<string | null> {
  const names = (await readdir(migrationFolder)).filter((name) => /\.(ts|js|mjs)$/.test(name)).map((name) => name.replace(/\.[^.]+$/, ''));
  return names.sort().at(-1) ?? null;
}

/** Throws when the backup is newer than this code's migrations. */
export async function assertRestorableHere(backupMigration: string | null): Promise<void> {
  const known = await latestKnownMigration();
  if (backupMigration && known && backupMigration > known)
    throw new Error(
      `This backup was made by a newer Dateline (its database is migrated up to ${backupMigration}; this code knows up to ${known}). ` +
        'Restore it with that version or a later one.',
    );
}
