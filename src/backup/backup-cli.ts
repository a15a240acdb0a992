import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../config.ts';
import { createDb } from '../db/create-db.ts';
import { assertWritableTarget, writeBackupFile, type BackupHeader } from './backup-file.ts';
import { dumpEmbedded, requestLiveBackup, type EmbeddedDump } from './embedded-backup.ts';
import { latestAppliedMigration } from './migration-level.ts';
import { libpqConnection, runTool, toolMajorVersion } from './postgres-tools.ts';

const usage = `Back up the database to one file (safe while the API runs):

  npm run backup -- FILE [--pg-dump /path/to/pg_dump]

With DATABASE_URL: pg_dump's custom format, one consistent snapshot. Without it: the embedded
database in DATA_DIR, dumped by the running server (asked over the socket DATA_DIR.backup.sock),
or by this command when the server is stopped. Restore with \`npm run restore -- FILE\`.
`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'pg-dump': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const file = positionals[0];
if (!file || positionals.length > 1) {
  console.error(`Give one file to write the backup to.\n\n${usage}`);
  process.exit(1);
}

try {
  const config = loadConfig();
  await assertWritableTarget(file);
  const { header, size } = config.DATABASE_URL
    ? await backUpPostgres(config.DATABASE_URL, values['pg-dump'] ?? 'pg_dump')
    : await backUpEmbedded(config.DATA_DIR);
  const migration = header.migration
    ? `migrated up to ${header.migration}`
    : 'which holds no Dateline migrations (is it the right database?)';
  console.log(`Wrote ${file} (${formatBytes(size)}): a backup of the ${header.mode} database as of ${header.createdAt}, ${migration}.`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}

async function backUpPostgres(databaseUrl: string, pgDump: string) {
  const pgDumpMajor = await toolMajorVersion('pg_dump', pgDump);
  const { db } = await createDb({ databaseUrl, poolMax: 1 });
  let serverMajor: number;
  let migration: string | null;
  try {
    const { rows } = await sql<{ version: number }>`select current_setting('server_version_num')::int as version`.execute(db);
    serverMajor = Math.floor(rows[0]!.version / 10_000);
    migration = await latestAppliedMigration(db);
  } finally {
    await db.destroy();
  }
  if (pgDumpMajor < serverMajor)
    throw new Error(
      `pg_dump is version ${pgDumpMajor}, older than the server (PostgreSQL ${serverMajor}); pg_dump cannot dump a newer server. ` +
        `Install the client tools of version ${serverMajor} or newer (postgresql-client-${serverMajor}) and pass --pg-dump /path/to/pg_dump if it is not first on PATH.`,
    );
  const connection = libpqConnection(databaseUrl);
  const header: BackupHeader = {
    format: 1,
    mode: 'postgres',
    createdAt: new Date().toISOString(),
    migration,
    payload: 'pg_dump-custom',
    serverMajor,
    pgDumpMajor,
  };
  // pg_dump reads the whole database in one snapshot, so writes during the backup are either all in it or not at all.
  const size = await writeBackupFile(file!, header, (out) =>
    runTool('pg_dump', pgDump, ['--format=custom', '--dbname', connection.dbname], connection.env, {
      onStdout: (stdout) => pipeline(stdout, out),
    }),
  );
  return { header, size };
}

async function backUpEmbedded(dataDir: string) {
  let source: BackupHeader['source'] = 'live-server';
  let dumped: EmbeddedDump | undefined = await requestLiveBackup(dataDir);
  if (!dumped) {
    if (!existsSync(path.join(dataDir, 'PG_VERSION')))
      throw new Error(
        `There is no embedded database in ${path.resolve(dataDir)} (DATA_DIR) to back up. Set DATA_DIR, or DATABASE_URL for PostgreSQL.`,
      );
    source = 'data-folder';
    // No server answers: open the folder as every CLI does (it takes the lock, or says who holds it).
    const { db, pglite } = await createDb({ dataDir });
    try {
      dumped = await dumpEmbedded(db, pglite!);
    } finally {
      await db.destroy();
    }
  }
  const header: BackupHeader = {
    format: 1,
    mode: 'embedded',
    createdAt: new Date().toISOString(),
    migration: dumped.migration,
    payload: 'pglite-datadir-gzip',
    source,
  };
  const dump = dumped.dump;
  const size = await writeBackupFile(file!, header, (out) => pipeline(Readable.from([dump]), out));
  return { header, size };
}

function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
