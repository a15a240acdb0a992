import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { systemActor } from '../src/audit/actor.ts';
import { createDb } from '../src/db/create-db.ts';
import { ForbiddenError } from '../src/errors.ts';
import { CommandError, importFromFile, summarise, type ImportCommand } from '../src/imports/import-command.ts';
import { runImport, type ImportRequest } from '../src/imports/import.service.ts';
import { createOrganisation } from './support/factories.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * `npm run import`: the command's code path against the test database, and once as a real
 * process on a fresh embedded database, as an operator would run it.
 */
const t = useTestApp({}, { actors: false });
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/imports/${name}`, import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

const count = async (table: 'incidents' | 'imports') =>
  Number(
    (
      await t.app.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('import command', () => {
  it('imports as the system actor import-cli, makes no API key, and publishes when asked', async () => {
    const organisation = await createOrganisation(t.app.db);
    const command: ImportCommand = {
      file: fixture('cpj-killed.csv'),
      format: 'cpj',
      organisation: organisation.name,
      dryRun: true,
      onError: 'skip',
      onDuplicate: 'skip',
      visibility: 'published',
    };
    const incidentsBefore = await count('incidents');
    const dryRun = await importFromFile(t.app.db, command);
    expect(dryRun.kind).toBe('dry_run');
    expect(summarise(dryRun)).toContain('Dry run: 6 of 9 rows would be created, 3 rejected');
    expect(await count('incidents')).toBe(incidentsBefore);

    const progress: number[] = [];
    const outcome = await importFromFile(t.app.db, { ...command, dryRun: false }, (done) => progress.push(done));
    expect(outcome.kind).toBe('imported');
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(summarise(outcome)).toMatch(
      /Imported 6 of 9 rows \(import [0-9a-f-]{36}\); skipped 3 bad rows\.\n.*Rejected rows \(skipped\):\n {2}line 7, \(row\)/s,
    );
    expect(outcome.report.createdBy).toBeNull(); // no key ran it

    const keys = await t.app.db.selectFrom('api_keys').select('id').where('organisation_id', '=', organisation.id).execute();
    expect(keys).toEqual([]);
    const incidents = await t.app.db
      .selectFrom('incidents')
      .select(['visibility'])
      .where('organisation_id', '=', organisation.id)
      .execute();
    expect(incidents.map((row) => row.visibility)).toEqual(Array(6).fill('published'));
    // Each incident's create and publish records name the tool, without a key, under one run id.
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'entity_type', 'actor_key_id', 'actor_role', 'request_id'])
      .where('organisation_id', '=', organisation.id)
      .orderBy('id')
      .execute();
    expect(audit.map((row) => row.action).sort()).toEqual([...Array(6).fill('incident.create'), ...Array(6).fill('incident.publish')]);
    expect(new Set(audit.map((row) => JSON.stringify([row.entity_type, row.actor_key_id, row.actor_role])))).toEqual(
      new Set([JSON.stringify(['incident', null, 'system:import-cli'])]),
    );
    expect(new Set(audit.map((row) => row.request_id)).size).toBe(1);
    expect(audit[0]!.request_id).toMatch(/^import-cli-[0-9a-f-]{36}$/);
    const importRow = await t.app.db
      .selectFrom('imports')
      .select('created_by')
      .where('id', '=', outcome.report.id!)
      .executeTakeFirstOrThrow();
    expect(importRow.created_by).toBeNull();

    const again = await importFromFile(t.app.db, { ...command, dryRun: false });
    expect(again.kind).toBe('replayed');
    expect(again.report).toEqual(outcome.report);
    expect(summarise(again)).toContain('This file was imported before');
    expect(await t.app.db.selectFrom('audit_log').select('id').where('organisation_id', '=', organisation.id).execute()).toHaveLength(12); // a repeat writes nothing
  });

  it('acts only in the roles it is given: as an editor it may not publish', async () => {
    const organisation = await createOrganisation(t.app.db);
    const editor = { actor: systemActor('import-cli', { organisationId: organisation.id, role: 'editor' }), requestId: 'import-cli-test' };
    const request: ImportRequest = {
      organisationId: organisation.id,
      format: 'cpj',
      fileName: 'cpj-killed.csv',
      bytes: await readFile(fixture('cpj-killed.csv')),
      onError: 'skip',
      onDuplicate: 'skip',
      visibility: 'published',
    };
    await expect(runImport(t.app.db, editor, request, { publishAs: editor })).rejects.toThrow(ForbiddenError);
    const asAdmin = { ...editor, actor: systemActor('import-cli', { organisationId: organisation.id, role: 'admin' }) };
    await expect(runImport(t.app.db, asAdmin, { ...request, visibility: 'draft' })).rejects.toThrow(ForbiddenError);
    expect(await t.app.db.selectFrom('incidents').select('id').where('organisation_id', '=', organisation.id).execute()).toEqual([]);
  });

  it('imports nothing from a file with bad rows unless told to skip them', async () => {
    const organisation = await createOrganisation(t.app.db);
    const before = [await count('incidents'), await count('imports')];
    const outcome = await importFromFile(t.app.db, {
      file: fixture('cpj-killed.csv'),
      format: 'cpj',
      organisation: organisation.name,
      dryRun: false,
      onError: 'abort',
      onDuplicate: 'skip',
      visibility: 'draft',
    });
    expect(outcome.kind).toBe('rejected');
    expect(summarise(outcome)).toContain('Nothing was imported: 3 of 9 rows cannot be imported');
    expect([await count('incidents'), await count('imports')]).toEqual(before); // nothing stored for a rejected file
  });

  it('refuses an unknown organisation and a mapping without the mapped format', async () => {
    const base: ImportCommand = {
      file: fixture('cpj-killed.csv'),
      format: 'cpj',
      organisation: 'No such organisation',
      dryRun: false,
      onError: 'abort',
      onDuplicate: 'skip',
      visibility: 'draft',
    };
    await expect(importFromFile(t.app.db, base)).rejects.toThrow(CommandError);
    const organisation = await createOrganisation(t.app.db);
    await expect(importFromFile(t.app.db, { ...base, organisation: organisation.name, mappingFile: 'mapping.json' })).rejects.toThrow(
      '--format mapped',
    );
  });
});

describe('npm run import', () => {
  it('runs as a process on the embedded database and shows its progress', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dateline-import-cli-'));
    const run = (script: string, args: string[]) =>
      promisify(execFile)(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', script, ...args], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      });
    try {
      await run('src/auth/keys-cli.ts', ['create', '--org', 'CLI Test Org', '--role', 'admin']);
      const result = await run('src/import-cli.ts', [
        fixture('mapped-tracker.csv'),
        '--format',
        'mapped',
        '--mapping',
        fixture('mapped-tracker.mapping.json'),
        '--org',
        'CLI Test Org',
        '--on-error',
        'skip',
      ]);
      expect(result.stdout).toContain('Imported 3 of 6 rows');
      expect(result.stdout).toContain('line 6, País: not a country name');
      expect(result.stderr).toContain('Importing: 3/3 rows (100%)');

      // The process has the API's listeners: what it publishes reaches a webhook endpoint's
      // outbox, with the completed import, as an import over HTTP would.
      const { db } = await createDb({ dataDir });
      try {
        const key = await db.selectFrom('api_keys').select(['id', 'organisation_id']).executeTakeFirstOrThrow();
        await db
          .insertInto('webhook_endpoints')
          .values({
            organisation_id: key.organisation_id,
            key_id: key.id,
            url: 'https://receiver.example.org/hooks',
            event_types: ['incident.published', 'import.completed'],
          })
          .execute();
      } finally {
        await db.destroy();
      }
      await run('src/import-cli.ts', [
        fixture('cpj-killed.csv'),
        '--format',
        'cpj',
        '--org',
        'CLI Test Org',
        '--on-error',
        'skip',
        '--visibility',
        'published',
      ]);
      const reopened = await createDb({ dataDir });
      try {
        const events = await reopened.db.selectFrom('webhook_events').select('type').execute();
        expect(events.map((event) => event.type).sort()).toEqual(['import.completed', ...Array(6).fill('incident.published')]);
      } finally {
        await reopened.db.destroy();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
