import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WriteContext } from '../src/audit/audit.queries.ts';
import { findActiveKeyByToken } from '../src/auth/api-key.queries.ts';
import { planImport } from '../src/imports/import-plan.ts';
import { runImport, type ImportRequest } from '../src/imports/import.service.ts';
import { seedSampleData } from '../src/sample-data/seed.ts';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * The import's batch path (prepareIncidentBatch, writeIncidentBatch, set-based duplicate flagging) against the
 * one-at-a-time path (POST /v1/incidents, then publish): the same rows, audit records, search
 * text, name keys and duplicate flags, whatever the batch boundaries.
 */
const t = useTestApp();

async function contextOf(key: string): Promise<WriteContext> {
  const row = (await findActiveKeyByToken(t.app.db, key))!;
  return { actor: { kind: 'key', keyId: row.id, organisationId: row.organisation_id, role: row.role }, requestId: 'batch-test' };
}

/** onDuplicate=create: every row is created and flagged, as one create at a time would be. */
function importRequest(context: WriteContext, csv: string, format: ImportRequest['format'], fileName: string): ImportRequest {
  return {
    organisationId: context.actor.organisationId,
    format,
    fileName,
    bytes: Buffer.from(csv),
    onError: 'abort',
    onDuplicate: 'create',
    visibility: 'draft',
  };
}

const get = async (key: string, path: string) => {
  const response = await request(t.app, 'GET', path, { key });
  expect(response.status, response.text).toBe(200);
  return response.body;
};

/** An incident without what differs between two records of the same input: ids, organisation, timestamps. */
function comparable(incident: Record<string, any> | null) {
  if (!incident) return incident;
  const { id: _id, organisation: _organisation, createdAt: _created, updatedAt: _updated, publishedAt, ...rest } = incident;
  const withoutIds = (items: Array<Record<string, unknown>>) => items.map(({ id: _itemId, ...item }) => item);
  return {
    ...rest,
    published: publishedAt !== null,
    victims: withoutIds(rest.victims),
    perpetratorClaims: withoutIds(rest.perpetratorClaims),
    sources: withoutIds(rest.sources),
  };
}

const header = [
  'title',
  'description',
  'internal_notes',
  'date_precision',
  'date_start',
  'date_end',
  'country',
  'region',
  'city',
  'latitude',
  'longitude',
  'coordinate_precision',
  'attack_types',
  'motive',
  'judicial_outcome',
  'victim_count',
  'victim_names',
  'victim_roles',
  'victim_outcomes',
  'victim_genders',
  'victim_nationalities',
  'victim_outlets',
  'victim_protected',
  'perpetrators',
  'source_titles',
  'source_urls',
  'source_kinds',
  'source_public',
].join(',');
const nativeFile = [
  header,
  'Two reporters attacked in Kathmandu,Shot outside the office.,Call the family first.,day,2011-03-05,2011-03-05,NP,Bagmati,Kathmandu,27.7,85.3,city,killing;physical_assault,work_related_confirmed,unknown,2,Ram Sharan Thapa;Sita Kumari Rai,journalist;activist,killed;injured,male;female,NP;NP,Kantipur;,false;true,"Police Unit 7 (police, alleged_by_victim)",Report one;Report two,https://example.org/np/1;https://example.org/np/2,media_report;video,true;false',
  'Reporter killed in Kathmandu,,,month,2011-03-01,2011-03-31,NP,,Kathmandu,,,,killing,,,1,Ram Sharan Thappa,journalist,killed,,,,,,,,,',
  'Reporter killed near Pokhara,,,year,2011-01-01,2011-12-31,NP,Gandaki,Pokhara,,,,killing,,,1,Thapa Ram Sharan,journalist,killed,,,,,,,,,',
  'Threats against a radio station,,,range,2011-06-01,2011-06-10,NP,,,,,,threat_harassment,,,0,,,,,,,,"Unknown callers (unknown, suspected_by_documenter)",,,,',
  'Editor detained in Biratnagar,,,day,2011-08-01,2011-08-01,NP,,Biratnagar,,,,arrest_detention,,investigation_open,1,Existing Person Nepal,journalist,detained,,,,,,,,,',
  // What COPY's text format (PostgreSQL) must escape: backslashes, a literal \N, tabs, line breaks.
  [
    'Back\\slash "quoted" title \\N',
    'Line one\nline\ttwo \\N\r\nend',
    'A tab\there, a backslash \\',
    'day',
    '2012-02-02',
    '2012-02-02',
    'FR',
    '',
    'Paris',
    ...['', '', '', 'threat_harassment', '', '', '1'],
    'Jean "Le" Back\\slash',
    ...['journalist', 'threatened', '', '', '', '', ''],
    'Tab\tin a source title',
    ...['https://example.org/fr/1', '', ''],
  ]
    .map((cell) => (/[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell))
    .join(','),
].join('\n');

describe('the batch path', () => {
  it('stores exactly what creating and publishing each incident through the API stores', async () => {
    const editor = await contextOf(t.actors.editor);
    const reviewer = await contextOf(t.actors.reviewer);
    const existing = {
      title: 'Earlier record of the Biratnagar detention',
      date: { precision: 'month', value: '2011-08' },
      location: { country: 'NP', city: 'Biratnagar' },
      attackTypes: ['arrest_detention'],
      victims: [{ name: 'Existing Person Nepal' }],
      perpetratorClaims: [],
      sources: [],
    };
    const existingIds = new Map<string, string>();
    for (const key of [t.actors.editor, t.actors.otherEditor]) {
      const response = await request(t.app, 'POST', '/v1/incidents', { key, body: incidentBody(existing) });
      expect(response.status, response.text).toBe(201);
      existingIds.set(response.body.id, 'existing');
    }

    // The same inputs, one at a time through the API in the other organisation. They are published
    // only after the import: published, each side's incidents would be candidates for the other's.
    const inputs = planImport(nativeFile, { format: 'native', fileName: 'batch.csv' }).valid.map((row) => row.input);
    const viaApi: Array<{ id: string; possibleDuplicates: Array<{ id: string; score: number; reasons: unknown }> }> = [];
    for (const input of inputs) {
      const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.otherEditor, body: input });
      expect(created.status, created.text).toBe(201);
      viaApi.push(created.body);
    }

    // Batches of two: duplicates inside a batch, across batches and of an earlier incident.
    const outcome = await runImport(t.app.db, editor, importRequest(editor, nativeFile, 'native', 'batch.csv'), {
      chunkSize: 2,
      publishAs: reviewer,
    });
    expect(outcome.kind).toBe('imported');
    const imported = outcome.report.created.map((row) => row.incidentId!);
    for (const { id } of viaApi) {
      const published = await request(t.app, 'POST', `/v1/incidents/${id}/publish`, { key: t.actors.otherReviewer });
      expect(published.status, published.text).toBe(200);
    }

    const label = (ids: string[]) => (id: string) => existingIds.get(id) ?? `row ${ids.indexOf(id)}`;
    for (const [index, id] of imported.entries()) {
      const twin = viaApi[index]!.id;
      const [mine, theirs] = [await get(t.actors.editor, `/v1/incidents/${id}`), await get(t.actors.otherEditor, `/v1/incidents/${twin}`)];
      expect(comparable(mine), `row ${index}`).toEqual(comparable(theirs));
      expect(mine).toMatchObject({ visibility: 'published', version: 2, verificationStatus: 'unverified' });

      const trail = async (key: string, incidentId: string) =>
        (await get(key, `/v1/incidents/${incidentId}/audit`)).data.map((entry: any) => ({
          action: entry.action,
          role: entry.actor.role,
          before: comparable(entry.before),
          after: comparable(entry.after),
        }));
      expect(await trail(t.actors.editor, id)).toEqual(await trail(t.actors.otherEditor, twin));

      const stored = async (incidentId: string) => ({
        searchText: (await t.app.db.selectFrom('incidents').select('search_text').where('id', '=', incidentId).executeTakeFirstOrThrow())
          .search_text,
        nameKeys: (
          await t.app.db.selectFrom('victims').select('name_key').where('incident_id', '=', incidentId).orderBy('position').execute()
        ).map((row) => row.name_key),
        flags: await t.app.db
          .selectFrom('duplicate_flags')
          .select(['candidate_id', 'score', 'reasons'])
          .where('incident_id', '=', incidentId)
          .execute(),
        // The derived tables: the import refreshes them once at its end, the API through triggers.
        facts: (
          await sql<{
            row: unknown;
          }>`select to_jsonb(f) - 'incident_id' - 'organisation_id' as row from incident_facts f where incident_id = ${incidentId}`.execute(
            t.app.db,
          )
        ).rows,
        lists: (
          await sql<{
            row: unknown;
          }>`select to_jsonb(l) - 'incident_id' as row from incident_lists l where incident_id = ${incidentId}`.execute(t.app.db)
        ).rows,
      });
      const [mineStored, theirsStored] = [await stored(id), await stored(twin)];
      expect([mineStored.facts.length, mineStored.lists.length]).toEqual([1, 1]);
      const labelled = (flags: typeof mineStored.flags, ids: string[]) =>
        flags
          .map((flag) => ({ ...flag, candidate_id: label(ids)(flag.candidate_id) }))
          .sort((a, b) => b.score - a.score || a.candidate_id.localeCompare(b.candidate_id));
      expect({ ...mineStored, flags: labelled(mineStored.flags, imported) }).toEqual({
        ...theirsStored,
        flags: labelled(
          theirsStored.flags,
          viaApi.map((row) => row.id),
        ),
      });

      // The report lists what the API's create response listed (equal scores rank by id, which differ: compared by label).
      const byLabel = (flags: Array<{ id: string; score: number; reasons: unknown }>) =>
        flags.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
      const reported = (outcome.report.created[index]!.duplicates ?? []).map((flag) => ({
        id: label(imported)(flag.incidentId),
        score: flag.score,
        reasons: flag.reasons,
      }));
      const returned = viaApi[index]!.possibleDuplicates.map((flag) => ({
        id: label(viaApi.map((row) => row.id))(flag.id),
        score: flag.score,
        reasons: flag.reasons,
      }));
      expect(byLabel(reported)).toEqual(byLabel(returned));
    }
    // The file holds duplicates; otherwise this test would compare empty lists.
    expect(outcome.report.created.map((row) => (row.duplicates ?? []).map((flag) => label(imported)(flag.incidentId)).sort())).toEqual([
      [],
      ['row 0'],
      ['row 0', 'row 1'],
      [],
      ['existing'],
      [],
    ]);
  });

  it('rolls back every batch when a later one fails', async () => {
    const editor = await contextOf(t.actors.editor);
    const count = async () =>
      Number(
        (
          await t.app.db
            .selectFrom('incidents')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    let batches = 0;
    const failing = async () => {
      if (++batches === 2) throw new Error('simulated failure in the second batch');
    };
    const file = nativeFile.replaceAll('Nepal', 'Nepal rollback').replaceAll('Kathmandu', 'Lalitpur');
    await expect(
      runImport(t.app.db, editor, importRequest(editor, file, 'native', 'rollback.csv'), {
        chunkSize: 2,
        hooks: { flagDuplicates: failing },
      }),
    ).rejects.toThrow('second batch');
    expect(batches).toBe(2);
    expect(await count()).toBe(before);
    expect(await t.app.db.selectFrom('imports').select('id').where('file_name', '=', 'rollback.csv').execute()).toEqual([]);
  });
});

describe('duplicates on import', () => {
  const cpjHeader = readFileSync(new URL('./fixtures/imports/cpj-killed.csv', import.meta.url), 'utf8').split('\n')[0]!;
  const killed = {
    year: '2015',
    combinedStatus: 'Killed',
    status: 'Killed',
    primaryNationality: 'Syria',
    gender: 'Male',
    type: 'Journalist',
    typeOfDeath: 'Murder',
    country: 'Turkey',
    localOrForeign: 'Foreign',
  };
  const cpjFile = (...rows: Array<Record<string, string>>) =>
    [
      cpjHeader,
      ...rows.map((cells) =>
        cpjHeader
          .split(',')
          .map((column) => (({ ...killed, ...cells }) as Record<string, string>)[column] ?? '')
          .join(','),
      ),
    ].join('\n');
  const upload = (key: string, csv: string, query: string) =>
    request(t.app, 'POST', `/v1/imports?format=cpj&${query}`, { key, rawBody: csv, headers: { 'content-type': 'text/csv' } });
  const incidentsNamed = async (name: string) =>
    (await t.app.db.selectFrom('victims').select('incident_id').where('name', '=', name).execute()).map((row) => row.incident_id);

  // CPJ's 2015 killings over the sample data: two are incidents stored already, under other spellings.
  const overSeed = cpjFile(
    { fullName: 'Naji Jerf', location: 'Gaziantep' },
    { fullName: 'Ibrahim Abdulkader', location: 'Urfa' },
    { fullName: 'Someone Never Recorded Before' },
    { fullName: 'Someone Never Recorded Before' },
  );
  let seeded: Map<string, string>;
  beforeAll(async () => {
    await seedSampleData(t.app.db);
    const sample = await t.app.db
      .selectFrom('incidents')
      .innerJoin('victims', 'victims.incident_id', 'incidents.id')
      .select(['incidents.id', 'victims.name'])
      .where('victims.name', 'in', ['Naji Jerf', 'Ibrahim Abd al-Qader'])
      .execute();
    seeded = new Map(sample.map((row) => [row.name!, row.id]));
  });

  it('leaves out a CPJ row whose incident is already stored (the sample data) and lists it, in the dry run too', async () => {
    const sameIncident = (name: string) => ({
      incidentId: seeded.get(name),
      score: 1,
      reasons: expect.arrayContaining([expect.objectContaining({ kind: 'victim_name' })]),
    });
    const expected = [
      { line: 2, title: 'Naji Jerf killed in Turkey', duplicateOf: sameIncident('Naji Jerf') },
      { line: 3, title: 'Ibrahim Abdulkader killed in Turkey', duplicateOf: sameIncident('Ibrahim Abd al-Qader') },
    ];
    const dryRun = await upload(t.actors.editor, overSeed, 'dryRun=true');
    expect(dryRun.status, dryRun.text).toBe(200);
    expect(dryRun.body).toMatchObject({ onDuplicate: 'skip', counts: { valid: 4, created: 0, duplicates: 2 }, duplicates: expected });
    expect(dryRun.body.created.map((row: { line: number }) => row.line)).toEqual([4, 5]);

    const response = await upload(t.actors.editor, overSeed, 'fileName=cpj-2015.csv');
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({
      onDuplicate: 'skip',
      counts: { rows: 4, valid: 4, created: 2, duplicates: 2 },
      duplicates: expected,
    });
    expect(response.body.duplicates).toEqual(dryRun.body.duplicates);
    expect(await incidentsNamed('Naji Jerf')).toEqual([seeded.get('Naji Jerf')]);
    expect(await incidentsNamed('Ibrahim Abdulkader')).toEqual([]);

    // Rows of the same file are never each other's reason to be left out: both created, the second
    // flagged, though its score (no city: 0.95) would have left it out against a stored incident.
    const [first, second] = response.body.created;
    expect(first).toMatchObject({ line: 4, title: 'Someone Never Recorded Before killed in Turkey' });
    expect(first.duplicates).toBeUndefined();
    expect(second.duplicates).toEqual([expect.objectContaining({ incidentId: first.incidentId, score: 0.95 })]);
  });

  it('creates and flags them with onDuplicate=create, as before the option existed', async () => {
    const response = await upload(t.actors.editor, overSeed, 'onDuplicate=create&fileName=cpj-2015.csv');
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({ onDuplicate: 'create', counts: { created: 4, duplicates: 0 }, duplicates: [] });
    const [naji, ibrahim] = response.body.created;
    expect(naji.duplicates).toEqual([
      {
        incidentId: seeded.get('Naji Jerf'),
        score: 1,
        reasons: expect.arrayContaining([expect.objectContaining({ kind: 'victim_name' })]),
      },
    ]);
    expect(ibrahim.duplicates).toEqual([
      expect.objectContaining({ incidentId: seeded.get('Ibrahim Abd al-Qader'), score: expect.any(Number) }),
    ]);
    expect(ibrahim.duplicates[0].score).toBeGreaterThanOrEqual(0.6);

    // Stored like a flag on create, so reviewers find them and can merge.
    const flags = await t.app.db
      .selectFrom('duplicate_flags')
      .select(['incident_id', 'candidate_id'])
      .where('incident_id', 'in', [naji.incidentId, ibrahim.incidentId])
      .orderBy('score', 'desc')
      .execute();
    expect(flags).toHaveLength(2);
    expect(new Set(flags.map((flag) => flag.candidate_id))).toEqual(new Set([seeded.get('Naji Jerf'), seeded.get('Ibrahim Abd al-Qader')]));
    const listed = await get(t.actors.editor, `/v1/incidents/${naji.incidentId}/duplicates?minScore=0.6`);
    expect(listed.data.map((candidate: { id: string }) => candidate.id)).toEqual([seeded.get('Naji Jerf')]);

    // The same file and option again is the same import.
    const again = await upload(t.actors.editor, overSeed, 'onDuplicate=create&fileName=cpj-2015.csv');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(response.body);
  });

  it('creates an incident once when two files holding it are imported at the same moment', async () => {
    // Different files (different fingerprints), the same incident: one import waits for the other
    // (one at a time per organisation), then leaves the incident out as already stored.
    const row = { fullName: 'Concurrent Import Journalist', location: 'Izmir' };
    const [first, second] = await Promise.all([
      upload(t.actors.editor, cpjFile(row), 'fileName=concurrent-a.csv'),
      upload(t.actors.editor, cpjFile(row, { fullName: 'Someone Else Entirely' }), 'fileName=concurrent-b.csv'),
    ]);
    expect([first.status, second.status], `${first.text}\n${second.text}`).toEqual([201, 201]);
    expect(await incidentsNamed('Concurrent Import Journalist')).toHaveLength(1);
    expect(first.body.counts.duplicates + second.body.counts.duplicates).toBe(1);
  });

  it("neither skips for nor reveals an incident in another organisation's draft", async () => {
    const draft = await request(t.app, 'POST', '/v1/incidents', {
      key: t.actors.otherEditor,
      body: incidentBody({
        title: 'Draft of another organisation',
        date: { precision: 'month', value: '2015-11' },
        location: { country: 'TR', city: 'Istanbul' },
        attackTypes: ['killing'],
        victims: [{ name: 'Kept Draft Journalist' }],
        perpetratorClaims: [],
        sources: [],
      }),
    });
    expect(draft.status, draft.text).toBe(201);
    const file = cpjFile({ fullName: 'Kept Draft Journalist', location: 'Istanbul' });
    const dryRun = await upload(t.actors.editor, file, 'dryRun=true');
    expect(dryRun.body).toMatchObject({ counts: { duplicates: 0 }, duplicates: [] });
    const response = await upload(t.actors.editor, file, '');
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({ counts: { created: 1, duplicates: 0 }, duplicates: [] });
    expect(response.body.created[0].duplicates).toBeUndefined();
    expect(JSON.stringify([dryRun.body, response.body])).not.toContain(draft.body.id);

    // Control: the organisation that owns the draft reads it, so for its import the row is that incident.
    const owner = await upload(t.actors.otherEditor, file, 'dryRun=true');
    expect(owner.body.duplicates).toEqual([
      expect.objectContaining({ line: 2, duplicateOf: expect.objectContaining({ incidentId: draft.body.id, score: 1 }) }),
    ]);
  });
});
