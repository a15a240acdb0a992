import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../db/create-db.ts';
import { lockDataDir } from '../db/data-dir-lock.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { MODE_NAMES, openBackupFile, type OpenedBackup } from './backup-file.ts';
import { assertRestorableHere } from './migration-level.ts';
import { libpqConnection, runTool, toolMajorVersion } from './postgres-tools.ts';

const usage = `Restore a backup made by \`npm run backup\`, then apply any newer migrations:

  npm run restore -- FILE [--force] [--pg-restore /path/to/pg_restore]

With DATABASE_URL: into that PostgreSQL database, which should be new and empty
(createdb dateline_restored). Without it: into DATA_DIR, which must be empty or absent, with the
server stopped. --force restores over an existing Dateline database: on PostgreSQL it drops the
backup's tables first (pg_restore --clean); for DATA_DIR it moves the old folder aside.
`;

/** Tables whose presence means the target already holds a Dateline database. */
const DATELINE_TABLES = ['kysely_migration', 'incidents', 'audit_log', 'organisations'];

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { force: { type: 'boolean' }, 'pg-restore': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const file = positionals[0];
if (!file || positionals.length > 1) {
  console.error(`Give the backup file to restore.\n\n${usage}`);
  process.exit(1);
}

try {
  const config = loadConfig();
  const backup = await openBackupFile(file);
  const target = config.DATABASE_URL ? 'postgres' : 'embedded';
  if (backup.header.mode !== target)
    throw new Error(
      `${file} is a backup of the ${MODE_NAMES[backup.header.mode]} database, but this restore would write to the ${MODE_NAMES[target]} one. ` +
        (target === 'postgres'
          ? 'Unset DATABASE_URL to restore it into DATA_DIR.'
          : 'Set DATABASE_URL to the (empty) PostgreSQL database to restore it into.'),
    );
  await assertRestorableHere(backup.header.migration);
  const { where, applied } = config.DATABASE_URL
    ? await restorePostgres(backup, config.DATABASE_URL, values['pg-restore'] ?? 'pg_restore')
    : await restoreEmbedded(backup, config.DATA_DIR);
  console.log(
    `Restored ${file} (made ${backup.header.createdAt}, migrated up to ${backup.header.migration ?? 'no migration'}) into ${where}` +
      (applied.length ? `, then applied ${applied.length} newer migration(s): ${applied.join(', ')}.` : '; it is up to date.'),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}

/** Where the backup went, and the migrations applied after it (an older backup is brought up to this code). */
interface Restored {
  where: string;
  applied: string[];
}

async function restorePostgres(backup: OpenedBackup, databaseUrl: string, pgRestore: string): Promise<Restored> {
  const pgRestoreMajor = await toolMajorVersion('pg_restore', pgRestore);
  const { pgDumpMajor } = backup.header;
  if (pgDumpMajor && pgRestoreMajor < pgDumpMajor)
    throw new Error(
      `pg_restore is version ${pgRestoreMajor}, but the backup was written by pg_dump ${pgDumpMajor}, whose archives older ` +
        `versions cannot read. Install the client tools of version ${pgDumpMajor} or newer, or pass --pg-restore /path/to/pg_restore.`,
    );
  const connection = libpqConnection(databaseUrl);
  const { db } = await createDb({ databaseUrl, poolMax: 1 });
  try {
    const { rows } = await sql<{ tablename: string }>`
      select tablename from pg_tables where schemaname = 'public' and tablename in (${sql.join(DATELINE_TABLES)})`
      .execute(db)
      .catch((error: { code?: string }) => {
        if (error.code !== '3D000') throw error; // invalid_catalog_name
        throw new Error(
          `The database ${connection.display} does not exist. Create it first (createdb), empty, then run the restore again.`,
        );
      });
    if (rows.length && !values.force)
      throw new Error(
        `The database ${connection.display} already holds Dateline tables (${rows.map((row) => row.tablename).join(', ')}); ` +
          'restoring over them would mix two databases. Restore into a new, empty database (createdb dateline_restored, ' +
          'then point DATABASE_URL at it), or pass --force to drop and replace the tables the backup holds.',
      );
  } finally {
    await db.destroy();
  }
  // One transaction: a restore that fails half-way leaves the database as it was.
  const args = ['--dbname', connection.dbname, '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error'];
  if (values.force) args.push('--clean', '--if-exists');
  await runTool('pg_restore', pgRestore, args, connection.env, { stdin: backup.payload() });
  const migrated = await createDb({ databaseUrl, poolMax: 1 });
  try {
    return { where: `the PostgreSQL database ${connection.display}`, applied: await migrate(migrated.db) };
  } finally {
    await migrated.db.destroy();
  }
}

async function restoreEmbedded(backup: OpenedBackup, dataDir: string): Promise<Restored> {
  const folder = path.resolve(dataDir);
  const existing = existsSync(folder) ? await readdir(folder) : [];
  let movedAside: string | undefined;
  if (existing.length) {
    if (!values.force)
      throw new Error(
        `${folder} (DATA_DIR) is not empty${existing.includes('PG_VERSION') ? ': it holds an embedded database' : ''}. ` +
          'Restore into a new folder (DATA_DIR=./data/restored npm run restore -- FILE), or pass --force to move this one aside.',
      );
    // Taking the lock proves no server has the folder open; moving it aside keeps it, in case the backup was the wrong one.
    lockDataDir(folder)();
    movedAside = `${folder}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(folder, movedAside);
  }
  // Loaded into a sibling folder, then renamed: a restore that fails leaves no half-written DATA_DIR.
  const loading = `${folder}.restoring-${process.pid}`;
  await mkdir(path.dirname(folder), { recursive: true });
  let applied: string[];
  try {
    const dump = new Blob([await backup.payloadBytes()], { type: 'application/gzip' });
    const { db } = await createDb({ dataDir: loading, loadDataDir: dump });
    try {
      applied = await migrate(db);
      await sql`checkpoint`.execute(db);
    } finally {
      await db.destroy();
    }
    if (existsSync(folder)) await rmdir(folder); // empty (checked above)
    await rename(loading, folder);
  } catch (error) {
    await rm(loading, { recursive: true, force: true });
    throw error;
  }
  return { where: movedAside ? `${folder} (the previous folder is now ${movedAside})` : folder, applied };
}

async function migrate(db: Db): Promise<string[]> {
  return (await migrateToLatest(db)).map((result) => result.migrationName);
}
