import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/create-db.ts';
import { ValidationError } from '../src/errors.ts';
import { importFromFile } from '../src/imports/import-command.ts';
import type { ImportFormatName } from '../src/imports/import-plan.ts';
import { createKey, createOrganisation } from './support/factories.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * A file that is not what its format says gets one message naming what was expected, and
 * nothing is written: over HTTP a 400 problem with one error, in the CLI exit code 1 and one
 * line on stderr.
 */
const t = useTestApp({}, { actors: false });
let editor: string;
let organisationName: string;
let tmp: string;
const root = fileURLToPath(new URL('..', import.meta.url));

const trackerCsv = 'Date,Name,Outlet,City,State,Categories\n2020-05-31,Linda Tirado,Freelance,Minneapolis,Minnesota,Assault\n';
const nativeCsv =
  'title,date_precision,date_start,date_end,country,attack_types\nReporter beaten,day,2024-01-02,2024-01-02,TR,physical_assault\n';
const latinCsv =
  'title,date_precision,date_start,date_end,country,attack_types\nAgresión a periodista en Córdoba,day,2024-01-02,2024-01-02,AR,physical_assault\n';
const exportJson = JSON.stringify({ data: [{ title: 'x' }], meta: { dataVersion: 1 } });

interface Case {
  name: string;
  format: ImportFormatName;
  bytes: Buffer;
  contentType: string;
  message: string | RegExp;
}

const cases: Case[] = [
  {
    name: 'a Press Freedom Tracker CSV as cpj',
    format: 'cpj',
    bytes: Buffer.from(trackerCsv),
    contentType: 'text/csv',
    message:
      "this does not look like CPJ's export: expected columns year, fullName, country…, found Date, Name, Outlet, City, State, Categories",
  },
  {
    name: 'a native CSV as cpj',
    format: 'cpj',
    bytes: Buffer.from(nativeCsv),
    contentType: 'text/csv',
    message:
      "this does not look like CPJ's export: expected columns year, fullName, country… (missing year, fullName), found title, date_precision, date_start, date_end, country, attack_types",
  },
  {
    name: 'a CPJ-like file as native',
    format: 'native',
    bytes: Buffer.from('year,fullName,country\n2020,Someone,Syria\n'),
    contentType: 'text/csv',
    message:
      "this does not look like Dateline's CSV export: expected columns title, date_precision, date_start, date_end, country, attack_types… (missing title, date_precision, date_start, date_end, attack_types), found year, fullName, country",
  },
  {
    name: 'JSON of the wrong shape as json',
    format: 'json',
    bytes: Buffer.from('{"incidents": [{"title": "x"}]}'),
    contentType: 'application/json',
    message:
      'this is not a Dateline JSON export: expected {"data": [incident, …], "meta": {…}} as GET /v1/incidents/export?format=json writes it (or an array of incidents); found an object with the key "incidents"',
  },
  {
    name: 'a GeoJSON export as json',
    format: 'json',
    bytes: Buffer.from('{"type": "FeatureCollection", "features": []}'),
    contentType: 'application/json',
    message: /^this is a GeoJSON export/,
  },
  {
    name: 'a CSV as json',
    format: 'json',
    bytes: Buffer.from(nativeCsv),
    contentType: 'text/csv',
    message:
      'this is not JSON: it looks like CSV (first line "title,date_precision,date_start,date_end,country,attack_types"). format=json reads Dateline\'s JSON export (GET /v1/incidents/export?format=json); import a CSV file with format=native, cpj or mapped',
  },
  {
    name: 'a CSV as json, sent as application/json',
    format: 'json',
    bytes: Buffer.from(trackerCsv),
    contentType: 'application/json',
    message: /^this is not JSON: it looks like CSV \(first line "Date,Name/,
  },
  {
    name: 'a JSON export as native',
    format: 'native',
    bytes: Buffer.from(exportJson),
    contentType: 'text/csv',
    message:
      "this is JSON, not CSV: format=native reads a CSV file. For Dateline's JSON export (GET /v1/incidents/export?format=json) use format=json",
  },
  {
    name: 'a JSON export as cpj',
    format: 'cpj',
    bytes: Buffer.from(exportJson),
    contentType: 'text/csv',
    message: /^this is JSON, not CSV: format=cpj reads a CSV file/,
  },
  {
    name: 'a UTF-16 file with a byte-order mark',
    format: 'native',
    bytes: Buffer.from(`\uFEFF${nativeCsv}`, 'utf16le'),
    contentType: 'text/csv',
    message: 'the file is UTF-16 (a spreadsheet\'s "Unicode text"); save it as UTF-8 (in Excel: "CSV UTF-8") and try again',
  },
  {
    name: 'a UTF-16 file without one',
    format: 'cpj',
    bytes: Buffer.from(trackerCsv, 'utf16le'),
    contentType: 'text/csv',
    message: /^the file is UTF-16/,
  },
  {
    name: 'a big-endian UTF-16 JSON file as json',
    format: 'json',
    bytes: Buffer.from([0xfe, 0xff, ...Buffer.from(exportJson, 'utf16le').swap16()]),
    contentType: 'application/json',
    message: /^the file is UTF-16/,
  },
  {
    name: 'a Latin-1 / Windows-1252 file',
    format: 'native',
    bytes: Buffer.from(latinCsv, 'latin1'),
    contentType: 'text/csv',
    message:
      'the file is not UTF-8 (line 2 has the byte 0xF3, which is not UTF-8); it is probably Latin-1 / Windows-1252. Save it as UTF-8 (in Excel: "CSV UTF-8") and try again',
  },
];

const matches = (text: string, message: string | RegExp) =>
  typeof message === 'string' ? expect(text).toBe(message) : expect(text).toMatch(message);

const counts = async () =>
  Promise.all(
    (['incidents', 'imports', 'verification_changes', 'audit_log'] as const).map(async (table) =>
      Number(
        (
          await t.app.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ),
  );

beforeAll(async () => {
  const organisation = await createOrganisation(t.app.db);
  organisationName = organisation.name;
  editor = await createKey(t.app.db, organisation.id, 'editor');
  tmp = await mkdtemp(path.join(tmpdir(), 'dateline-bad-input-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('a file that is not what its format says', () => {
  it.each(cases)('over HTTP: $name is a 400 with one message, and nothing is written', async ({ format, bytes, contentType, message }) => {
    const before = await counts();
    for (const dryRun of [false, true]) {
      const response = await fetch(`${t.app.url}/v1/imports?format=${format}&dryRun=${dryRun}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${editor}`, 'content-type': contentType },
        body: bytes,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as any;
      expect(problem).toMatchObject({ type: '/problems/validation-failed', detail: 'The file cannot be imported.' });
      expect(problem.errors).toHaveLength(1);
      matches(problem.errors[0].detail, message);
    }
    expect(await counts()).toEqual(before);
  });

  it('over HTTP: a JSON export sent as a JSON body with a CSV format names format=json', async () => {
    const response = await fetch(`${t.app.url}/v1/imports?format=native`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json' },
      body: exportJson,
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as any;
    expect(problem.errors).toEqual([
      { pointer: '', detail: expect.stringMatching(/^this is JSON, not CSV: format=native reads a CSV file.*use format=json$/) },
    ]);
  });

  it.each(cases)('in the CLI code: $name throws the same message, and nothing is written', async ({ name, format, bytes, message }) => {
    const file = path.join(tmp, `${name.replace(/\W+/g, '-')}.${format === 'json' ? 'json' : 'csv'}`);
    await writeFile(file, bytes);
    const before = await counts();
    for (const dryRun of [false, true]) {
      const error = await importFromFile(t.app.db, {
        file,
        format,
        organisation: organisationName,
        dryRun,
        onError: 'abort',
        onDuplicate: 'skip',
        visibility: 'draft',
      }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).errors).toHaveLength(1);
      matches((error as ValidationError).errors[0]!.detail, message);
    }
    expect(await counts()).toEqual(before);
  });

  it('npm run import: exit code 1 and one line on stderr, nothing written', { timeout: 300_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dateline-bad-input-cli-'));
    const run = (script: string, args: string[]) =>
      promisify(execFile)(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', script, ...args], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      }).then(
        (result) => ({ code: 0, ...result }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
      );
    try {
      expect((await run('src/auth/keys-cli.ts', ['create', '--org', 'CLI Bad Input Org', '--role', 'admin'])).code).toBe(0);
      // One case of each kind (a process costs seconds: it opens the embedded database); the CLI code runs them all above.
      const kinds = [
        'a Press Freedom Tracker CSV as cpj',
        'JSON of the wrong shape as json',
        'a CSV as json',
        'a JSON export as native',
        'a UTF-16 file with a byte-order mark',
        'a Latin-1 / Windows-1252 file',
      ];
      for (const { name, format, bytes, message } of cases.filter((item) => kinds.includes(item.name))) {
        const file = path.join(tmp, `cli-${name.replace(/\W+/g, '-')}`);
        await writeFile(file, bytes);
        const result = await run('src/import-cli.ts', [file, '--format', format, '--org', 'CLI Bad Input Org']);
        expect(result.code, name).toBe(1);
        expect(result.stdout, name).toBe('');
        const lines = result.stderr.trimEnd().split('\n');
        expect(lines, name).toHaveLength(1);
        expect(lines[0]!.startsWith('The file cannot be imported: '), name).toBe(true);
        matches(lines[0]!.slice('The file cannot be imported: '.length), message);
      }
      const { db } = await createDb({ dataDir });
      try {
        for (const table of ['incidents', 'imports'] as const) {
          expect(
            Number(
              (
                await db
                  .selectFrom(table)
                  .select((eb) => eb.fn.countAll().as('n'))
                  .executeTakeFirstOrThrow()
              ).n,
            ),
          ).toBe(0);
        }
      } finally {
        await db.destroy();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
