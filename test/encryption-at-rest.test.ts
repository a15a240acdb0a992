import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { verifyAuditChain } from '../src/audit/audit-verify.ts';
import { loadConfig } from '../src/config.ts';
import { EncryptionKeyError, resolveKeyEncryptionKey } from '../src/crypto/key-encryption-key.ts';
import { rotateDataKey } from '../src/crypto/rotate-data-key.ts';
import { createDb, type Db } from '../src/db/create-db.ts';
import { migrateToLatest, migrationFolder } from '../src/db/migrate.ts';
import { findIncidentTree } from '../src/incidents/incident.queries.ts';
import type { Incident } from '../src/incidents/incident.schemas.ts';
import { shapeIncident } from '../src/incidents/incident-shapes.ts';
import { createHttpServer } from '../src/http/http-server.ts';
import { startEncryption } from '../src/incidents/encryption-start.ts';
import { nameKey, skeletonKey } from '../src/incidents/name-key.ts';
import { normalizeForSearch } from '../src/incidents/search-text.ts';
import { createLogger } from '../src/logger.ts';
import { createActors, incidentBody, type Actors } from './support/factories.ts';
import { request, useTestApp, type TestApp } from './support/test-app.ts';

/**
 * Encryption at rest (README, "Encryption at rest"; src/incidents/sealed-fields.ts): after
 * protected victims and internal notes are created, edited, merged and imported, neither a
 * pg_dump nor the embedded database's files hold them in any form, while their organisation
 * still reads, searches and exports them in clear.
 */
const run = promisify(execFile);
const KEY = process.env.DATA_ENCRYPTION_KEY!;

/** What must never be stored in clear: every protected name, original-script name, alias, outlet and note written below. */
const SECRET = {
  name: 'Zuleikha Vantreskova',
  renamed: 'Zuleikha Vantreskova Marr',
  original: 'زليخا فانتريسكوفا',
  alias: 'Zuli Vantresk',
  outlet: 'Radio Kalinova Dawn',
  mergedName: 'Oksana Prydvorenko',
  importedName: 'Teodor Halvbrekke',
  note: 'Safehouse at 14 Ostrowiecka, ask for Marta',
  editedNote: 'Moved to the Brzezinka flat on Tuesday',
  mergedNote: 'Brother Kasimir answers the Signal number',
  importedNote: 'Courier meets at the Vinogradov bakery',
};
/** Stored in clear, and found: shows that the search below would find a secret if it were there. */
const PUBLIC_NAME = 'Hala Publicovna';

/** Every form a secret could take in storage: as written, lower case, normalised for search, its skeleton key, in UTF-16. */
function needles(): Array<{ label: string; bytes: Buffer }> {
  const forms = new Set<string>();
  for (const secret of Object.values(SECRET)) {
    forms.add(secret);
    forms.add(secret.toLowerCase());
    forms.add(normalizeForSearch(secret));
    const key = nameKey(secret);
    if (key && key.includes(' ')) forms.add(skeletonKey(key));
  }
  return [...forms].flatMap((form) => [
    { label: `${form} (UTF-8)`, bytes: Buffer.from(form, 'utf8') },
    { label: `${form} (UTF-16)`, bytes: Buffer.from(form, 'utf16le') },
  ]);
}

const found = (haystack: Buffer) =>
  needles()
    .filter(({ bytes }) => haystack.includes(bytes))
    .map(({ label }) => label);

async function send(app: TestApp, key: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  return request(app, method, url, { key, ...(body === undefined ? {} : { body }), headers });
}

/** Creates, edits, merges and imports incidents with protected victims and notes, as an organisation would. */
async function exercise(app: TestApp, actors: Actors) {
  const created = await send(
    app,
    actors.editor,
    'POST',
    '/v1/incidents',
    incidentBody({
      internalNotes: SECRET.note,
      victims: [
        { name: PUBLIC_NAME, role: 'journalist', outcome: 'injured' },
        {
          name: SECRET.name,
          nameOriginal: SECRET.original,
          aliases: [SECRET.alias],
          outlet: SECRET.outlet,
          nationality: 'SY',
          role: 'journalist',
          outcome: 'threatened',
          protected: true,
        },
      ],
    }),
  );
  expect(created.status, created.text).toBe(201);
  const id = created.body.id as string;
  const [publicVictim, protectedVictim] = created.body.victims;

  const edited = await send(
    app,
    actors.editor,
    'PATCH',
    `/v1/incidents/${id}`,
    { internalNotes: SECRET.editedNote, victims: [publicVictim, { ...protectedVictim, name: SECRET.renamed }] },
    { 'if-match': '"1"' },
  );
  expect(edited.status, edited.text).toBe(200);

  const loser = await send(
    app,
    actors.editor,
    'POST',
    '/v1/incidents',
    incidentBody({
      internalNotes: SECRET.mergedNote,
      victims: [{ name: SECRET.mergedName, role: 'activist', outcome: 'detained', protected: true }],
    }),
  );
  expect(loser.status, loser.text).toBe(201);
  const merged = await send(app, actors.reviewer, 'POST', `/v1/incidents/${loser.body.id}/merge`, { into: id });
  expect(merged.status, merged.text).toBe(200);

  const csv = [
    'title,date_precision,date_start,date_end,country,attack_types,victim_names,victim_roles,victim_outcomes,victim_protected,internal_notes',
    `Imported threat,day,2024-05-02,2024-05-02,TR,threat_harassment,${SECRET.importedName},journalist,threatened,true,${SECRET.importedNote}`,
  ].join('\n');
  const imported = await request(app, 'POST', '/v1/imports?format=native', {
    key: actors.editor,
    rawBody: csv,
    headers: { 'content-type': 'text/csv' },
  });
  expect(imported.status, imported.text).toBe(201);
  return { id, importedIds: imported.body.created?.map?.((row: { id: string }) => row.id) as string[] | undefined };
}

/** The organisation reads, searches and exports what it wrote, in clear. */
async function expectOwnerReadsInClear(app: TestApp, actors: Actors, id: string) {
  const read = await send(app, actors.editor, 'GET', `/v1/incidents/${id}`);
  expect(read.status, read.text).toBe(200);
  expect(read.body.internalNotes).toBe(SECRET.editedNote);
  const names = read.body.victims.map((victim: { name: string }) => victim.name);
  expect(names).toEqual(expect.arrayContaining([PUBLIC_NAME, SECRET.renamed, SECRET.mergedName]));
  expect(read.body.victims.find((victim: { name: string }) => victim.name === SECRET.renamed)).toMatchObject({
    nameOriginal: SECRET.original,
    aliases: [SECRET.alias],
    outlet: SECRET.outlet,
    nationality: 'SY',
    protected: true,
  });

  const csv = await fetch(`${app.url}/v1/incidents/export?format=csv`, { headers: { authorization: `Bearer ${actors.editor}` } });
  const text = await csv.text();
  expect(csv.status, text).toBe(200);
  for (const secret of [SECRET.renamed, SECRET.outlet, SECRET.editedNote, SECRET.mergedName, SECRET.importedName, SECRET.importedNote]) {
    expect(text).toContain(secret);
  }
  const other = await fetch(`${app.url}/v1/incidents/export?format=csv`, { headers: { authorization: `Bearer ${actors.researcher}` } });
  const otherText = await other.text();
  for (const secret of Object.values(SECRET)) expect(otherText).not.toContain(secret);

  // A whole name word finds the protected victim for its organisation (blind index), and for no one else.
  const search = (key: string | undefined, q: string) =>
    request(app, 'GET', `/v1/incidents?q=${encodeURIComponent(q)}`, { key }).then((response) =>
      response.body.data.map((row: { id: string }) => row.id),
    );
  expect(await search(actors.editor, 'Vantreskova')).toContain(id);
  expect(await search(actors.editor, 'vantreskova marr')).toContain(id);
  expect(await search(actors.editor, 'Prydvorenko')).toContain(id);
  expect(await search(actors.researcher, 'Vantreskova')).not.toContain(id);
  expect(await search(actors.otherEditor, 'Vantreskova')).not.toContain(id);
  // Not by part of a word: the documented cost of the encryption.
  expect(await search(actors.editor, 'Vantres')).not.toContain(id);
  expect(await search(actors.editor, 'Vantresk')).toContain(id); // the alias, a whole word
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

const pgDumpAvailable = await run('pg_dump', ['--version']).then(
  () => true,
  () => false,
);

describe.runIf(process.env.DATABASE_URL)('PostgreSQL: a pg_dump holds no protected victim or note', () => {
  const t = useTestApp();

  it.runIf(pgDumpAvailable)('after create, edit, merge and import, while the owner reads them in clear', async () => {
    const { id } = await exercise(t.app, t.actors);
    await expectOwnerReadsInClear(t.app, t.actors, id);
    const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(t.app.db);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${rows[0]!.name}`;
    const { stdout } = await run('pg_dump', ['--no-owner', url.toString()], { maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
    expect(stdout.includes(Buffer.from(PUBLIC_NAME))).toBe(true);
    expect(found(stdout)).toEqual([]);
  });
});

describe.skipIf(process.env.DATABASE_URL)('embedded: the data folder holds no protected victim or note', () => {
  it('after create, edit, merge and import, while the owner reads them in clear', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'dateline-encryption-'));
    try {
      const dataDir = path.join(folder, 'pglite');
      const { db } = await createDb({ dataDir });
      const app = await serve(db);
      try {
        const actors = await createActors(db);
        const { id } = await exercise(app, actors);
        await expectOwnerReadsInClear(app, actors, id);
        // The files may hold a long value compressed (TOAST), so also every row of every table as text.
        expect(await foundInTables(db)).toEqual([]);
        await sql`checkpoint`.execute(db);
      } finally {
        await app.close();
      }
      const files = await filesUnder(dataDir);
      expect(files.length).toBeGreaterThan(10);
      let publicSeen = false;
      for (const file of files) {
        const bytes = await readFile(file);
        publicSeen ||= bytes.includes(Buffer.from(PUBLIC_NAME));
        expect(found(bytes), file).toEqual([]);
      }
      expect(publicSeen).toBe(true);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 240_000); // a file-backed PGlite migrated from nothing: slow on a busy machine
});

/** Every row of every table, as text, searched like the files: what a logical dump would hold. */
async function foundInTables(db: Db): Promise<string[]> {
  const { rows: tables } = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(db);
  const hits: string[] = [];
  for (const { name } of tables) {
    const { rows } = await sql<{ row: string }>`select t::text as row from ${sql.table(name)} as t`.execute(db);
    const text = Buffer.from(rows.map((row) => row.row).join('\n'));
    hits.push(...found(text).map((label) => `${name}: ${label}`));
  }
  return hits;
}

/** The app over a database this test opened itself (a file-backed PGlite), on a free port. */
async function serve(db: Db): Promise<TestApp> {
  await migrateToLatest(db);
  await startEncryption(db, { key: KEY });
  const config = loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_AUTHENTICATED: '100000', RATE_LIMIT_ANONYMOUS: '100000' });
  const server = createHttpServer(createApp({ db, config, logger: createLogger('silent') }), config).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    mode: 'embedded',
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
    },
  };
}

describe('rotate-data-key', () => {
  const t = useTestApp();

  it('re-encrypts everything under a new key while edits go on, and everything stays readable', async () => {
    const { id } = await exercise(t.app, t.actors);
    const keysBefore = await sql<{ id: number }>`select id from data_keys where purpose = 'data' and retired_at is null`.execute(t.app.db);
    const oldKeys = keysBefore.rows.map((row) => row.id);

    let editing = true;
    const edits = (async () => {
      let count = 0;
      while (editing || count < 3) {
        const current = await send(t.app, t.actors.editor, 'GET', `/v1/incidents/${id}`);
        const patched = await send(
          t.app,
          t.actors.editor,
          'PATCH',
          `/v1/incidents/${id}`,
          { internalNotes: `${SECRET.editedNote} ${count}` },
          { 'if-match': `"${current.body.version}"` },
        );
        expect(patched.status, patched.text).toBe(200);
        count++;
      }
      // The last edit leaves the note as the owner checks it below.
      const current = await send(t.app, t.actors.editor, 'GET', `/v1/incidents/${id}`);
      await send(
        t.app,
        t.actors.editor,
        'PATCH',
        `/v1/incidents/${id}`,
        { internalNotes: SECRET.editedNote },
        { 'if-match': `"${current.body.version}"` },
      );
    })();
    const rotation = await rotateDataKey(t.app.db, resolveKeyEncryptionKey({ key: KEY }).key, { waitMs: 0 });
    editing = false;
    await edits;

    expect(rotation.retired).toEqual(oldKeys);
    const stillOld = await sql<{ n: number }>`select
        (select count(*) from victims where identity_sealed like any(${oldKeys.map((key) => `dlenc1.${key}.%`)}))
      + (select count(*) from incidents where internal_notes like any(${oldKeys.map((key) => `dlenc1.${key}.%`)}))
      + (select count(*) from audit_log where before::text like any(${oldKeys.map((key) => `%dlenc1.${key}.%`)})
          or after::text like any(${oldKeys.map((key) => `%dlenc1.${key}.%`)})) as n`.execute(t.app.db);
    expect(Number(stillOld.rows[0]!.n)).toBe(0);
    await expectOwnerReadsInClear(t.app, t.actors, id);
    // The audit chain hashes the plaintext, so re-sealed documents still verify.
    expect(await verifyAuditChain(t.app.db)).toMatchObject({ intact: true });

    // Run again: a new key, the previous one retired in turn.
    const again = await rotateDataKey(t.app.db, resolveKeyEncryptionKey({ key: KEY }).key, { waitMs: 0 });
    expect(again.retired).toEqual([rotation.newKeyId]);
    await expectOwnerReadsInClear(t.app, t.actors, id);
  });

  it('encrypts, at the first start with a key, what an instance stored in clear before migration 0018', { timeout: 120_000 }, async () => {
    const { db } = await createDb({});
    try {
      const migrator = new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) });
      const { error } = await migrator.migrateTo('2026-12-03-0017-sharing-and-access-groups');
      if (error) throw error;
      const { rows } = await sql<{ id: string }>`with o as (insert into organisations (name) values ('Upgraded') returning id)
        insert into incidents (organisation_id, title, internal_notes, date_start, date_end, date_precision, country, attack_types)
        select o.id, 'Stored before encryption', ${SECRET.note}, '2020-01-01', '2020-01-01', 'day', 'TR', array['threat_harassment'] from o
        returning id`.execute(db);
      const id = rows[0]!.id;
      await sql`insert into victims (incident_id, position, name, name_original, aliases, outlet, nationality, protected, name_key)
        values (${id}, 0, ${SECRET.name}, ${SECRET.original}, ${[SECRET.alias]}, ${SECRET.outlet}, 'SY', true, 'vntrskv zlkh')`.execute(db);
      await migrateToLatest(db);
      // The same keys as this file's database, so the process keeps one keyring.
      for (const key of await sql<{ id: number; purpose: string; wrapped: string; retired_at: Date | null }>`select * from data_keys`
        .execute(t.app.db)
        .then((result) => result.rows)) {
        await sql`insert into data_keys (id, purpose, wrapped, retired_at) values (${key.id}, ${key.purpose}, ${key.wrapped}, ${key.retired_at})`.execute(
          db,
        );
      }

      expect((await startEncryption(db, { key: KEY })).sealed).toBe(2);
      const victim = await db.selectFrom('victims').selectAll().where('incident_id', '=', id).executeTakeFirstOrThrow();
      expect(victim).toMatchObject({ name: null, name_original: null, aliases: [], outlet: null, nationality: null, name_key: null });
      expect(victim.identity_sealed).toMatch(/^dlenc1\./);
      const constraints = await sql<{ valid: boolean }>`select convalidated as valid from pg_constraint
        where conname in ('victims_protected_sealed', 'incidents_internal_notes_sealed')`.execute(db);
      expect(constraints.rows).toEqual([{ valid: true }, { valid: true }]);
      const read = shapeIncident((await findIncidentTree(db, id))!, 'full') as Incident;
      expect(read.internalNotes).toBe(SECRET.note);
      expect(read.victims[0]).toMatchObject({
        name: SECRET.name,
        nameOriginal: SECRET.original,
        aliases: [SECRET.alias],
        outlet: SECRET.outlet,
        nationality: 'SY',
      });
      // Once done, a start finds nothing left to seal.
      expect((await startEncryption(db, { key: KEY })).sealed).toBe(0);
    } finally {
      await db.destroy();
    }
  });

  it('refuses a key that does not open the stored data keys, and says so', async () => {
    const wrong = Buffer.alloc(32, 7).toString('base64');
    await expect(startEncryption(t.app.db, { key: wrong })).rejects.toThrow(EncryptionKeyError);
    await expect(startEncryption(t.app.db, { key: wrong })).rejects.toThrow(/not the key this database was encrypted with/);
  });
});

describe('the key', () => {
  it('with DATABASE_URL and no key, the server refuses to start and says why', async () => {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/server.ts'], {
      env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', DATA_ENCRYPTION_KEY: '', DATA_ENCRYPTION_KEY_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('set DATA_ENCRYPTION_KEY');
  });

  it('refuses a key that is not 32 bytes of base64', () => {
    expect(() => resolveKeyEncryptionKey({ key: 'c2hvcnQ=' })).toThrow(/exactly 32 random bytes/);
  });

  it('on the embedded database without a key, creates a key file next to the data folder (mode 0600) and keeps using it', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'dateline-keyfile-'));
    try {
      const dataDir = path.join(folder, 'data', 'pglite');
      const first = resolveKeyEncryptionKey({ dataDir });
      const file = path.join(folder, 'data', 'data-encryption.key');
      expect(first.created).toBe(file);
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const second = resolveKeyEncryptionKey({ dataDir });
      expect(second.created).toBeUndefined();
      expect(second.key.equals(first.key)).toBe(true);
      expect(resolveKeyEncryptionKey({ keyFile: file }).key.equals(first.key)).toBe(true);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
