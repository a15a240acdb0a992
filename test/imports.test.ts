import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { flagImportedDuplicates, importHooks } from '../src/imports/import-hooks.ts';
import { refreshStatisticsIfGrown } from '../src/imports/import.queries.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * POST /v1/imports over real HTTP with the CPJ fixture: what a good row becomes, how bad rows are
 * reported, dry runs, all-or-nothing, skipping, idempotency and who may do what.
 */
const t = useTestApp({ IMPORT_BODY_LIMIT: '64kb' });

const fixture = (name: string) => readFileSync(new URL(`./fixtures/imports/${name}`, import.meta.url), 'utf8');
const cpjFile = fixture('cpj-killed.csv');
const cpjHeader = cpjFile.split('\n')[0]!;
/** The CPJ fixture without its malformed rows (lines 7, 8 and 9). */
const cpjGoodRows = cpjFile
  .split('\n')
  .filter((_, index) => ![6, 7, 8].includes(index))
  .join('\n');

afterEach(() => {
  importHooks.flagDuplicates = flagImportedDuplicates;
});

type Role = 'editor' | 'reviewer' | 'researcher' | 'otherEditor' | 'admin';
function upload(role: Role | null, csv: string, query: string, headers: Record<string, string> = {}) {
  return request(t.app, 'POST', `/v1/imports?${query}`, {
    key: role ? t.actors[role] : undefined,
    rawBody: csv,
    headers: { 'content-type': 'text/csv', ...headers },
  });
}

/** Rows in every table an import writes to, to show that something wrote nothing. */
async function tableCounts() {
  const count = async (table: 'incidents' | 'victims' | 'perpetrator_claims' | 'sources' | 'audit_log' | 'imports') =>
    Number(
      (
        await t.app.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    incidents: await count('incidents'),
    victims: await count('victims'),
    claims: await count('perpetrator_claims'),
    sources: await count('sources'),
    audit: await count('audit_log'),
    imports: await count('imports'),
  };
}

/**
 * A unique CPJ file: the good rows with the names made unique, so fingerprints differ per test
 * and no row is an incident an earlier test stored (onDuplicate=skip would leave it out).
 */
function uniqueCpj(tag: string, rows = cpjGoodRows) {
  const names = ['Farid Ahmadzai', 'Ahmadzai, Farid', 'Marie Kouassi', 'Jean-Paul Mukendi', 'Gaza Reporter'];
  return names.reduce((file, name) => file.replaceAll(name, `${name} ${tagWord(tag)}`), rows);
}

/**
 * The tag as a word of consonants only: names are compared by their consonant skeletons
 * (src/incidents/name-key.ts), so "Farid Ahmadzai a" and "Farid Ahmadzai e" are one person.
 */
function tagWord(tag: string) {
  return [...tag].map((letter) => 'BFGKLMNRSTVZ'[letter.charCodeAt(0) % 12]).join('');
}

describe('CPJ import', () => {
  it('turns each good row into one audited draft incident with a private source pointing to the file', async () => {
    const response = await upload('editor', uniqueCpj('a'), 'format=cpj&fileName=cpj-killed.csv');
    expect(response.status, response.text).toBe(201);
    const report = response.body;
    expect(response.headers.get('location')).toBe(`/v1/imports/${report.id}`);
    expect(report).toMatchObject({
      format: 'cpj',
      fileName: 'cpj-killed.csv',
      dryRun: false,
      onError: 'abort',
      visibility: 'draft',
      counts: { rows: 6, valid: 6, rejected: 0, created: 6, skipped: 0 },
      rejected: [],
      ignoredColumns: [],
    });
    expect(report.created.map((row: { line: number }) => row.line)).toEqual([2, 3, 4, 5, 6, 7]);

    const first = await request(t.app, 'GET', `/v1/incidents/${report.created[0].incidentId}`, { key: t.actors.editor });
    expect(first.body).toMatchObject({
      title: `Farid Ahmadzai ${tagWord('a')} killed in Afghanistan`,
      date: { precision: 'year', start: '2018-01-01', end: '2018-12-31' },
      location: { country: 'AF', city: 'Kabul' },
      attackTypes: ['killing'],
      motive: 'work_related_confirmed',
      judicialOutcome: 'no_conviction',
      deathType: 'murder',
      visibility: 'draft',
      victims: [
        {
          name: `Farid Ahmadzai ${tagWord('a')}`,
          role: 'journalist',
          gender: 'male',
          nationality: 'AF',
          outlet: 'Radio Azadi',
          locality: 'local',
          employment: 'staff',
          outcome: 'killed',
        },
      ],
      perpetratorClaims: [{ actorName: 'Political Group', actorType: 'political_group', attribution: 'alleged_by_others' }],
      sources: [
        { url: 'https://cpj.org/data/', kind: 'ngo_report', public: true },
        { title: 'Imported from cpj-killed.csv, line 2 (cpj)', kind: 'other', public: false },
      ],
    });
    // Columns with a field of their own are not repeated in the description.
    expect(first.body.description).not.toContain('impunityMurder');
    expect(first.body.description).toContain('jobs: Producer');

    const unnamed = await request(t.app, 'GET', `/v1/incidents/${report.created[1].incidentId}`, { key: t.actors.editor });
    expect(unnamed.body).toMatchObject({ title: 'Unidentified journalist killed in Syria', victims: [{ name: null }] });
    expect(unnamed.body.perpetratorClaims.map((claim: { actorType: string }) => claim.actorType)).toEqual(['military', 'political_group']);
    const spaced = await request(t.app, 'GET', `/v1/incidents/${report.created[3].incidentId}`, { key: t.actors.editor });
    expect(spaced.body).toMatchObject({
      location: { country: 'RU' },
      judicialOutcome: 'partial_justice',
      victims: [{ name: null, role: 'media_worker' }],
    });
    expect(spaced.body.perpetratorClaims.map((claim: { actorName: string }) => claim.actorName)).toEqual([
      'Government Officials',
      'Criminal Group',
    ]);
    const [ivoryCoast, congo, gaza] = await Promise.all(
      [2, 4, 5].map(
        async (index) => (await request(t.app, 'GET', `/v1/incidents/${report.created[index].incidentId}`, { key: t.actors.editor })).body,
      ),
    );
    expect([ivoryCoast.location.country, congo.location.country, gaza.location.country]).toEqual(['CI', 'CD', 'PS']);

    const audit = await request(t.app, 'GET', `/v1/incidents/${report.created[0].incidentId}/audit`, { key: t.actors.editor });
    expect(audit.body.data.map((entry: { action: string }) => entry.action)).toEqual(['incident.create']);
    const stored = await request(t.app, 'GET', `/v1/imports/${report.id}`, { key: t.actors.editor });
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual(report);
  });

  it('reports malformed rows with line, column and reason, and imports nothing', async () => {
    const before = await tableCounts();
    const response = await upload('editor', uniqueCpj('b', cpjFile), 'format=cpj');
    expect(response.status, response.text).toBe(422);
    expect(response.body).toMatchObject({ type: '/problems/import-rejected', status: 422 });
    expect(response.body.report).toMatchObject({
      id: null,
      counts: { rows: 9, valid: 6, rejected: 3, created: 0, skipped: 0 },
      created: [],
    });
    expect(response.body.report.rejected).toEqual([
      { line: 7, errors: [{ column: '(row)', reason: expect.stringContaining('43 cells but the header has 42') }] },
      { line: 8, errors: [{ column: 'gender', value: '37', reason: expect.stringContaining('shifted') }] },
      { line: 9, errors: [{ column: 'year', reason: 'the year is missing' }] },
    ]);
    expect(await tableCounts()).toEqual(before);
  });

  it('with onError=skip imports the good rows and lists exactly the skipped ones', async () => {
    const response = await upload('editor', uniqueCpj('c', cpjFile), 'format=cpj&onError=skip');
    expect(response.status, response.text).toBe(201);
    expect(response.body.counts).toEqual({ rows: 9, valid: 6, rejected: 3, created: 6, skipped: 3, duplicates: 0 });
    expect(response.body.rejected.map((row: { line: number }) => row.line)).toEqual([7, 8, 9]);
    expect(response.body.created.map((row: { line: number }) => row.line)).toEqual([2, 3, 4, 5, 6, 10]);
  });
});

describe('dry run', () => {
  it('reports what would be created and what is rejected, and writes nothing', async () => {
    const before = await tableCounts();
    const response = await upload('editor', uniqueCpj('d', cpjFile), 'format=cpj&dryRun=true');
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ id: null, dryRun: true, counts: { rows: 9, valid: 6, rejected: 3, created: 0, skipped: 0 } });
    expect(response.body.created[0]).toEqual({ line: 2, incidentId: null, title: `Farid Ahmadzai ${tagWord('d')} killed in Afghanistan` });
    expect(response.body.rejected).toHaveLength(3);
    expect(await tableCounts()).toEqual(before);
  });
});

describe('all or nothing', () => {
  it('rolls the whole import back when a row fails while writing', async () => {
    const before = await tableCounts();
    let written = 0;
    importHooks.flagDuplicates = async (_trx, created) => {
      written += created.length;
      throw new Error('simulated failure after the rows were written');
    };
    const response = await upload('editor', uniqueCpj('e'), 'format=cpj');
    expect(response.status).toBe(500);
    expect(written).toBe(6);
    expect(await tableCounts()).toEqual(before);

    // Nothing was recorded either, so the same file can be imported once the problem is fixed.
    importHooks.flagDuplicates = flagImportedDuplicates;
    const retry = await upload('editor', uniqueCpj('e'), 'format=cpj');
    expect(retry.status, retry.text).toBe(201);
  });

  it('can refresh planner statistics inside the import transaction', async () => {
    const reltuples = async () =>
      (await sql<{ reltuples: number }>`select reltuples from pg_class where relname = 'incidents'`.execute(t.app.db)).rows[0]!.reltuples;
    expect((await upload('editor', uniqueCpj('stats'), 'format=cpj')).status).toBe(201);
    await t.app.db.transaction().execute(async (trx) => {
      await refreshStatisticsIfGrown(trx, 300); // not a doubling: nothing to do
      await refreshStatisticsIfGrown(trx, 256);
    });
    expect(Number(await reltuples())).toBeGreaterThan(0); // the incidents imported above are counted
  });

  it('lists what the duplicate hook returns with each created row', async () => {
    const existing = '00000000-0000-4000-8000-000000000001';
    importHooks.flagDuplicates = async (_trx, created) => new Map([[created[0]!.id, [{ incidentId: existing, score: 0.9 }]]]);
    const response = await upload('editor', uniqueCpj('f'), 'format=cpj');
    expect(response.status, response.text).toBe(201);
    expect(response.body.created[0].duplicates).toEqual([{ incidentId: existing, score: 0.9 }]);
  });
});

describe('idempotency', () => {
  it('answers a second upload of the same file with the first report and creates nothing', async () => {
    const file = uniqueCpj('g');
    const first = await upload('editor', file, 'format=cpj');
    expect(first.status, first.text).toBe(201);
    const before = await tableCounts();
    const again = await upload('editor', file, 'format=cpj&onError=skip&fileName=renamed.csv');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const dryRun = await upload('editor', file, 'format=cpj&dryRun=true');
    expect(dryRun.body).toEqual(first.body);
    expect(await tableCounts()).toEqual(before);

    // Another organisation importing the same file is a different import.
    const other = await upload('otherEditor', file, 'format=cpj');
    expect(other.status, other.text).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('imports a file once when it is uploaded twice at the same moment', async () => {
    const file = uniqueCpj('concurrent');
    const before = await tableCounts();
    const responses = await Promise.all([upload('editor', file, 'format=cpj'), upload('editor', file, 'format=cpj')]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 201]);
    expect(responses[0]!.body).toEqual(responses[1]!.body);
    const after = await tableCounts();
    expect([after.incidents - before.incidents, after.imports - before.imports]).toEqual([6, 1]);
  });

  it('answers a repeated Idempotency-Key with the first report, and refuses it for another file', async () => {
    const key = { 'idempotency-key': `import-${Date.now()}` };
    const first = await upload('editor', uniqueCpj('h'), 'format=cpj', key);
    expect(first.status, first.text).toBe(201);
    const again = await upload('editor', uniqueCpj('h'), 'format=cpj', key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const otherFile = await upload('editor', uniqueCpj('i'), 'format=cpj', key);
    expect(otherFile.status).toBe(409);
    expect(otherFile.body.detail).toContain(first.body.id);
    const bad = await upload('editor', uniqueCpj('i'), 'format=cpj', { 'idempotency-key': 'has spaces' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ parameter: 'idempotency-key', detail: expect.any(String) }]);
  });
});

describe('roles and organisations', () => {
  it('lets only editors import, and shows a report only inside the organisation', async () => {
    const file = uniqueCpj('j');
    expect((await upload(null, file, 'format=cpj')).status).toBe(401);
    for (const role of ['reviewer', 'researcher', 'admin'] as const) {
      const response = await upload(role, file, 'format=cpj');
      expect(response.status, role).toBe(403);
    }
    const published = await upload('editor', file, 'format=cpj&visibility=published');
    expect(published.status).toBe(403);
    expect(published.body.detail).toContain('/publish');

    const created = await upload('editor', file, 'format=cpj');
    expect(created.status, created.text).toBe(201);
    const path = `/v1/imports/${created.body.id}`;
    expect((await request(t.app, 'GET', path, { key: t.actors.reviewer })).status).toBe(200);
    expect((await request(t.app, 'GET', path, { key: t.actors.otherEditor })).status).toBe(404);
    expect((await request(t.app, 'GET', path, { key: t.actors.researcher })).status).toBe(403);
    expect((await request(t.app, 'GET', path)).status).toBe(401);
    expect((await request(t.app, 'GET', '/v1/imports/not-an-id', { key: t.actors.editor })).status).toBe(400);
  });

  it('lets a reviewer publish what an import created, each publication audited', async () => {
    const created = await upload('editor', uniqueCpj('k'), 'format=cpj');
    const path = `/v1/imports/${created.body.id}/publish`;
    expect((await request(t.app, 'POST', path, { key: t.actors.editor })).status).toBe(403);
    expect((await request(t.app, 'POST', path, { key: t.actors.otherReviewer })).status).toBe(404);
    const published = await request(t.app, 'POST', path, { key: t.actors.reviewer });
    expect(published.status, published.text).toBe(200);
    expect(published.body).toEqual({ published: created.body.created.map((row: { incidentId: string }) => row.incidentId), unchanged: 0 });
    const incident = await request(t.app, 'GET', `/v1/incidents/${published.body.published[0]}`);
    expect(incident.status).toBe(200); // public now
    const audit = await request(t.app, 'GET', `/v1/incidents/${published.body.published[0]}/audit`, { key: t.actors.editor });
    expect(audit.body.data.map((entry: { action: string }) => entry.action)).toEqual(['incident.create', 'incident.publish']);
    const again = await request(t.app, 'POST', path, { key: t.actors.reviewer });
    expect(again.body).toEqual({ published: [], unchanged: 6 });
  });
});

describe('the request', () => {
  it('explains what is wrong with the file or the request', async () => {
    const cases: Array<[string, string, string, number, string]> = [
      ['empty body', '', 'format=cpj', 400, 'the CSV is empty'],
      ['header only', `${cpjHeader}\n`, 'format=cpj', 400, 'no rows'],
      [
        'missing columns',
        'year,fullName\n2020,Someone\n',
        'format=cpj',
        400,
        "this does not look like CPJ's export: expected columns year, fullName, country… (missing country), found year, fullName",
      ],
      ['unclosed quote', `${cpjHeader}\n"2020,x\n`, 'format=cpj', 400, 'cannot be read'],
      ['unknown format', 'a\n1\n', 'format=excel', 400, 'format'],
      ['mapped without mapping', 'a\n1\n', 'format=mapped', 400, 'mapping'],
    ];
    for (const [name, body, query, status, text] of cases) {
      const response = await upload('editor', body, query);
      expect(response.status, name).toBe(status);
      expect(JSON.stringify(response.body), name).toContain(text);
    }
    const latin1 = await request(t.app, 'POST', '/v1/imports?format=cpj', {
      key: t.actors.editor,
      rawBody: Buffer.from([0x79, 0x65, 0x61, 0x72, 0x0a, 0xe9, 0x0a]) as unknown as string,
      headers: { 'content-type': 'text/csv' },
    });
    expect(latin1.status).toBe(400);
    expect(latin1.body.errors[0].detail).toContain('UTF-8');
    const xml = await upload('editor', '<a/>', 'format=cpj', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
    const huge = await upload('editor', `${cpjHeader}\n${'x'.repeat(70_000)}\n`, 'format=cpj');
    expect(huge.status).toBe(413);
    expect(huge.body.detail).toContain('IMPORT_BODY_LIMIT');
  });
});
