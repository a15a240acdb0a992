import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { serveLiveBackups } from '../src/backup/embedded-backup.ts';
import { loadConfig } from '../src/config.ts';
import { createDb, type Db, type DbHandle } from '../src/db/create-db.ts';
import { startEncryption } from '../src/incidents/encryption-start.ts';
import { createLogger } from '../src/logger.ts';
import { createActors, incidentBody, serviceWriter, type Actors } from './support/factories.ts';
import { withDatabase } from './support/global-setup.ts';
import { request, serveApp, type TestApp } from './support/test-app.ts';

/**
 * `npm run backup` and `npm run restore` as an operator runs them: the real commands as child
 * processes, while the API serves and writes. The restored database must equal the source at
 * one moment: its audit log is a prefix of the source's, and its audit head and its owner's
 * JSON export are the ones the source gave at exactly that point. The test records the source's
 * state after each of its writes, so whichever moment the backup caught, there is a recorded
 * state to compare with (and none to compare with if the backup mixed two moments).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const postgresUrl = process.env.DATABASE_URL;
/** As test/support/test-app.ts starts the app: quiet, no rate limits in the way, no background statistics loads. */
const silent = {
  LOG_LEVEL: 'silent',
  STATISTICS_IN_MEMORY: 'false',
  RATE_LIMIT_ANONYMOUS: '100000',
  RATE_LIMIT_AUTHENTICATED: '100000',
  RATE_LIMIT_FAILED_AUTH: '100000',
};

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command npm runs for `npm run backup|restore -- ...args`, with `env` replacing the database settings. */
function runCli(command: 'backup' | 'restore', args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...silent, DATABASE_URL: undefined, DATA_DIR: undefined, ...env };
  for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
  const script = path.join(root, 'src/backup', `${command}-cli.ts`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', script, ...args],
      { cwd: root, env: childEnv, timeout: 240_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The real app over a given database, on a free port. */
async function serve(db: Db): Promise<TestApp> {
  return { ...(await serveApp(db, loadConfig(silent))), mode: postgresUrl ? 'postgres' : 'embedded' };
}

/**
 * Sealed fields need this process's keyring, opened as test/support/test-database.ts does. The
 * restored database holds the source's wrapped data keys, so the one keyring reads both: a
 * backup carries ciphertext and wrapped keys, never the key-encryption key.
 */
const openKeyring = (db: Db) => startEncryption(db, { key: process.env.DATA_ENCRYPTION_KEY });

interface SourceState {
  /** The owner's JSON export without its `exportedAt`, which is the time of the request. */
  exported: unknown;
  /** The whole audit_log table, ordered by id. */
  auditLog: unknown[];
  /** GET /v1/audit/head: the hash chain's head, as an organisation would have stored it. */
  auditHead: unknown;
}

async function stateOf(app: TestApp, actors: Actors): Promise<SourceState> {
  const exported = await request(app, 'GET', '/v1/incidents/export?format=json', { key: actors.editor });
  expect(exported.status).toBe(200);
  const { exportedAt: _exportedAt, ...meta } = exported.body.meta;
  const head = await request(app, 'GET', '/v1/audit/head', { key: actors.admin });
  expect(head.status).toBe(200);
  const auditLog = await app.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
  // Through JSON, so dates and jsonb compare by value whichever driver read them.
  return { exported: { ...exported.body, meta }, auditLog: JSON.parse(JSON.stringify(auditLog)), auditHead: head.body };
}

/**
 * Seeds incidents, then backs up while PATCHing them one after another, recording the source's
 * state after each write, until the backup command has finished (and at least three writes).
 */
async function backUpWhileWriting(app: TestApp, actors: Actors, file: string, env: Record<string, string | undefined>) {
  const writer = await serviceWriter(app.db, actors.ownOrganisation.id);
  const incidents = [];
  for (let index = 0; index < 12; index++)
    incidents.push(
      await writer.create(incidentBody(), { publish: index % 2 === 0, verification: index % 3 === 0 ? 'verified' : undefined }),
    );
  const states = new Map<number, SourceState>();
  const record = async () => {
    const state = await stateOf(app, actors);
    states.set(state.auditLog.length, state);
  };
  await record();

  let finished = false;
  const backup = runCli('backup', [file], env).finally(() => (finished = true));
  let writes = 0;
  while (!finished || writes < 3) {
    const incident = incidents[writes % incidents.length]!;
    const response = await request(app, 'PATCH', `/v1/incidents/${incident.id}`, {
      key: actors.editor,
      headers: { 'if-match': `"${incident.version}"` },
      body: { title: `Edited during the backup ${writes}` },
    });
    expect(response.status).toBe(200);
    incident.version = response.body.version;
    writes++;
    await record();
  }
  return { backup: await backup, states, writes };
}

/** The restored database equals the source at the moment the backup caught. */
async function expectRestoredAsCaught(restored: TestApp, actors: Actors, states: Map<number, SourceState>) {
  const state = await stateOf(restored, actors);
  const atThatMoment = states.get(state.auditLog.length);
  expect(atThatMoment, `no recorded source state has ${state.auditLog.length} audit records`).toBeDefined();
  expect(state.auditLog).toEqual(atThatMoment!.auditLog);
  expect(state.auditHead).toEqual(atThatMoment!.auditHead);
  expect(state.exported).toEqual(atThatMoment!.exported);
  expect((state.exported as { data: unknown[] }).data).toHaveLength(12);
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'dateline-backup-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** A data folder holding the run's migrated template (test/support/global-setup.ts), faster than migrating one. */
async function migratedDataDir(dataDir: string) {
  return createDb({ dataDir, loadDataDir: new Blob([await readFile(inject('pgliteTemplatePath')!)]) });
}

describe.skipIf(postgresUrl)('backup and restore of the embedded database', { timeout: 60_000 }, () => {
  let source: DbHandle;
  let app: TestApp;
  let actors: Actors;
  let stopLiveBackups: () => Promise<void>;
  let sourceDir: string;

  beforeAll(async () => {
    sourceDir = path.join(scratch, 'source');
    source = await migratedDataDir(sourceDir);
    // What src/server.ts does in embedded mode: the CLI finds the folder locked and asks the server.
    stopLiveBackups = await serveLiveBackups(source.db, source.pglite!, sourceDir, createLogger('silent'));
    await openKeyring(source.db);
    app = await serve(source.db);
    actors = await createActors(source.db);
  });
  afterAll(async () => {
    await app?.close();
    await stopLiveBackups?.();
    await source?.db.destroy();
  });

  it('backs up the running server while it writes, and the restore equals the source at that moment', async () => {
    const file = path.join(scratch, 'embedded.backup');
    const { backup, states, writes } = await backUpWhileWriting(app, actors, file, { DATA_DIR: sourceDir });
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/^Wrote .*embedded\.backup \(.+\): a backup of the embedded database/);
    expect(writes).toBeGreaterThanOrEqual(3);
    const header = JSON.parse((await readFile(file, 'utf8')).split('\n', 1)[0]!.replace('DATELINE-BACKUP ', ''));
    expect(header).toMatchObject({ format: 1, mode: 'embedded', payload: 'pglite-datadir-gzip', source: 'live-server' });

    const restoredDir = path.join(scratch, 'restored');
    const restore = await runCli('restore', [file], { DATA_DIR: restoredDir });
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('it is up to date');

    const restoredDb = await createDb({ dataDir: restoredDir });
    const restored = await serve(restoredDb.db);
    try {
      await expectRestoredAsCaught(restored, actors, states);
    } finally {
      await restored.close();
      await restoredDb.db.destroy();
    }

    const again = await runCli('restore', [file], { DATA_DIR: restoredDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/restored \(DATA_DIR\) is not empty: it holds an embedded database\. Restore into a new folder/);

    const forced = await runCli('restore', [file, '--force'], { DATA_DIR: restoredDir });
    expect(forced.stderr).toBe('');
    expect(forced.stdout).toMatch(/restored \(the previous folder is now .*restored\.before-restore-[0-9TZ-]+\)/);
  }, 300_000);

  it('backs up a stopped server by opening its folder, and refuses a folder another process has open', async () => {
    const stopped = path.join(scratch, 'stopped');
    const { db } = await migratedDataDir(stopped);
    await sql`checkpoint`.execute(db); // Kysely opens the pool on first use; destroy then closes it and frees the lock
    await db.destroy();
    const file = path.join(scratch, 'stopped.backup');
    const backup = await runCli('backup', [file], { DATA_DIR: stopped });
    expect(backup.stderr).toBe('');
    expect(JSON.parse((await readFile(file, 'utf8')).split('\n', 1)[0]!.replace('DATELINE-BACKUP ', ''))).toMatchObject({
      source: 'data-folder',
    });

    // --force moves a folder aside only when no server holds it; this test process holds the source.
    const forced = await runCli('restore', [file, '--force'], { DATA_DIR: path.join(scratch, 'source') });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/is in use by process \d+\. Stop that process first/);
  }, 180_000);

  it('says when there is no database to back up, and refuses a PostgreSQL backup', async () => {
    const empty = await runCli('backup', [path.join(scratch, 'x.backup')], { DATA_DIR: path.join(scratch, 'nothing-here') });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/There is no embedded database in .*nothing-here \(DATA_DIR\) to back up/);

    const file = await fakeBackup('postgres');
    const wrongMode = await runCli('restore', [file], { DATA_DIR: path.join(scratch, 'never') });
    expect(wrongMode.code).toBe(1);
    expect(wrongMode.stderr).toContain(
      'is a backup of the PostgreSQL (DATABASE_URL) database, but this restore would write to the embedded (PGlite, DATA_DIR) one. ' +
        'Set DATABASE_URL to the (empty) PostgreSQL database to restore it into.',
    );
  });
});

describe.skipIf(!postgresUrl)('backup and restore of a PostgreSQL database', { timeout: 60_000 }, () => {
  const created: string[] = [];
  let admin: Db;
  let source: DbHandle;
  let sourceUrl: string;
  let app: TestApp;
  let actors: Actors;

  /** A database of this test's own: a copy of the migrated template, or empty. */
  async function createDatabase(from: 'template' | 'empty') {
    const name = `dateline_backup_${randomBytes(5).toString('hex')}`;
    const template = from === 'template' ? sql` template ${sql.id(inject('postgresTemplate')!)}` : sql``;
    await sql`create database ${sql.id(name)}${template}`.execute(admin);
    created.push(name);
    return withDatabase(postgresUrl!, name);
  }

  beforeAll(async () => {
    admin = (await createDb({ databaseUrl: postgresUrl })).db;
    sourceUrl = await createDatabase('template');
    source = await createDb({ databaseUrl: sourceUrl, poolMax: 5 });
    await openKeyring(source.db);
    app = await serve(source.db);
    actors = await createActors(source.db);
  });
  afterAll(async () => {
    await app?.close();
    await source?.db.destroy();
    for (const name of created) await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
    await admin?.destroy();
  });

  it('backs up with pg_dump while the API writes, and the restore into an empty database equals the source at that moment', async () => {
    const file = path.join(scratch, 'postgres.backup');
    const { backup, states } = await backUpWhileWriting(app, actors, file, { DATABASE_URL: sourceUrl });
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/^Wrote .*postgres\.backup \(.+\): a backup of the postgres database/);
    const header = JSON.parse((await readFile(file, 'latin1')).split('\n', 1)[0]!.replace('DATELINE-BACKUP ', ''));
    expect(header).toMatchObject({ format: 1, mode: 'postgres', payload: 'pg_dump-custom' });

    const targetUrl = await createDatabase('empty');
    const restore = await runCli('restore', [file], { DATABASE_URL: targetUrl });
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);

    const restoredDb = await createDb({ databaseUrl: targetUrl, poolMax: 5 });
    const restored = await serve(restoredDb.db);
    try {
      await expectRestoredAsCaught(restored, actors, states);
    } finally {
      await restored.close();
      await restoredDb.db.destroy();
    }

    const again = await runCli('restore', [file], { DATABASE_URL: targetUrl });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds Dateline tables \(.*\); restoring over them would mix two databases/);

    // --force: pg_restore --clean replaces the tables, in one transaction; the result is the same database.
    const forced = await runCli('restore', [file, '--force'], { DATABASE_URL: targetUrl });
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    const again2 = await createDb({ databaseUrl: targetUrl, poolMax: 5 });
    const reserved = await serve(again2.db);
    try {
      await expectRestoredAsCaught(reserved, actors, states);
    } finally {
      await reserved.close();
      await again2.db.destroy();
    }
  }, 180_000);

  it('refuses a pg_dump older than the server, naming both versions', async () => {
    const oldPgDump = path.join(scratch, 'old-pg_dump');
    await writeFile(oldPgDump, '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n');
    await chmod(oldPgDump, 0o755);
    const result = await runCli('backup', [path.join(scratch, 'old.backup'), '--pg-dump', oldPgDump], { DATABASE_URL: sourceUrl });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pg_dump is version 9, older than the server \(PostgreSQL \d+\)/);
  });

  it('refuses an embedded backup', async () => {
    const result = await runCli('restore', [await fakeBackup('embedded')], { DATABASE_URL: sourceUrl });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'is a backup of the embedded (PGlite, DATA_DIR) database, but this restore would write to the PostgreSQL',
    );
  });
});

/** A file with a valid header for `mode` and no usable dump: enough for the refusals, which come first. */
async function fakeBackup(mode: 'postgres' | 'embedded', migration = '2026-01-01-0001-initial'): Promise<string> {
  const file = path.join(scratch, `fake-${mode}-${randomBytes(3).toString('hex')}.backup`);
  const header = {
    format: 1,
    mode,
    createdAt: new Date().toISOString(),
    migration,
    payload: mode === 'postgres' ? 'pg_dump-custom' : 'pglite-datadir-gzip',
  };
  await writeFile(file, `DATELINE-BACKUP ${JSON.stringify(header)}\nnot a dump`);
  return file;
}

describe('what the commands say when they cannot work', { timeout: 60_000 }, () => {
  const env = postgresUrl ? { DATABASE_URL: postgresUrl } : { DATA_DIR: path.join(tmpdir(), 'dateline-backup-never') };

  it('names a file that cannot be read', async () => {
    const result = await runCli('restore', [path.join(scratch, 'missing.backup')], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Cannot read the backup .*missing\.backup: there is no such file\./);
  });

  it('refuses a file that is not a Dateline backup, and says what a plain pg_dump archive is', async () => {
    const text = path.join(scratch, 'notes.txt');
    await writeFile(text, 'hello');
    const foreign = await runCli('restore', [text], env);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain(
      'notes.txt is not a Dateline backup (a file written by `npm run backup` starts with "DATELINE-BACKUP").',
    );

    const archive = path.join(scratch, 'plain.dump');
    await writeFile(archive, 'PGDMP\x01\x0e\x00');
    const plain = await runCli('restore', [archive], env);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('It is a plain pg_dump archive: restore it with pg_restore into an empty database');
  });

  it('refuses a backup made by a newer Dateline', async () => {
    const file = await fakeBackup(postgresUrl ? 'postgres' : 'embedded', '9999-01-01-0001-from-the-future');
    const result = await runCli('restore', [file], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /This backup was made by a newer Dateline \(its database is migrated up to 9999-01-01-0001-from-the-future/,
    );
  });

  it('says how to install pg_dump when it is missing', async () => {
    const result = await runCli('backup', [path.join(scratch, 'y.backup'), '--pg-dump', '/nonexistent/pg_dump'], {
      DATABASE_URL: postgresUrl ?? 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^pg_dump was not found \(tried "\/nonexistent\/pg_dump"\)\. .*apt-get install postgresql-client/);
  });
});
