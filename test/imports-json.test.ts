import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFromFile } from '../src/imports/import-command.ts';
import { createKey, createOrganisation, incidentBody } from './support/factories.ts';
import { request, startTestApp, useTestApp, type TestApp } from './support/test-app.ts';

/**
 * format=json: moving incidents between instances with the owner's JSON export. Rich incidents
 * are made over HTTP, exported by their organisation, imported into a fresh database (over the
 * API as an editor, and with the CLI's reviewer authority, visibility=keep) and exported again:
 * the two exports must be the same, field by field, but for what a new record gets anew.
 */
const source = useTestApp({}, { actors: false });
let organisation: { id: string; name: string };
let editor: string;
let reviewer: string;
let reviewerName: string;
let exported: string;
let tmp: string;

const send = (app: TestApp, key: string, method: string, url: string, body?: unknown) =>
  request(app, method, url, { key, ...(body === undefined ? {} : { body }) });

async function exportJson(app: TestApp, key: string, organisationId: string): Promise<string> {
  const response = await fetch(`${app.url}/v1/incidents/export?format=json&organisation=${organisationId}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(response.status).toBe(200);
  return response.text();
}

const importJson = (app: TestApp, key: string, query: string, body: string | Buffer, contentType = 'application/json') =>
  fetch(`${app.url}/v1/imports?format=json&${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body,
  }).then(async (response) => ({ status: response.status, headers: response.headers, body: (await response.json()) as any }));

const count = async (app: TestApp, table: 'incidents' | 'imports' | 'verification_changes') =>
  Number(
    (
      await app.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'dateline-json-import-'));
  organisation = await createOrganisation(source.app.db);
  editor = await createKey(source.app.db, organisation.id, 'editor');
  reviewer = await createKey(source.app.db, organisation.id, 'reviewer');
  reviewerName = (
    await source.app.db
      .selectFrom('api_keys')
      .select('name')
      .where('role', '=', 'reviewer')
      .where('organisation_id', '=', organisation.id)
      .executeTakeFirstOrThrow()
  ).name;

  const rich = incidentBody({
    title: 'Naji Jerf shot dead in Gaziantep',
    description: 'Shot in the street with a silenced pistol.',
    internalNotes: 'Family contact through the outlet only.',
    date: { precision: 'month', value: '2015-12' },
    location: {
      country: 'TR',
      region: 'Gaziantep',
      city: 'Gaziantep',
      coordinates: { latitude: 37.0662, longitude: 37.3833, precision: 'exact' },
    },
    attackTypes: ['killing', 'threat_harassment'],
    motive: 'work_related_confirmed',
    judicialOutcome: 'suspects_charged',
    deathType: 'murder',
    victims: [
      {
        name: 'Naji Jerf',
        nameOriginal: 'ناجي الجرف',
        aliases: ['Naji al-Jerf', 'Abu Mohammad'],
        role: 'journalist',
        gender: 'male',
        nationality: 'SY',
        outlet: 'Hentah',
        locality: 'exile',
        employment: 'staff',
        outcome: 'killed',
        protected: false,
      },
      {
        name: 'Witness in hiding',
        nameOriginal: 'شاهد مختبئ',
        aliases: ['W.'],
        role: 'activist',
        gender: 'female',
        nationality: 'SY',
        outlet: 'Raqqa is Being Slaughtered Silently',
        locality: 'foreign',
        employment: 'freelance',
        outcome: 'threatened',
        protected: true,
      },
    ],
    perpetratorClaims: [
      {
        actorName: 'Islamic State',
        actorType: 'non_state_armed_group',
        attribution: 'claimed_by_perpetrator',
        attributedBy: 'Amaq News Agency',
        statement: 'A statement claiming the killing.',
      },
      {
        actorName: 'Unknown gunman',
        actorType: 'unknown',
        attribution: 'alleged_by_authorities',
        attributedBy: 'Gaziantep prosecutor',
        statement: null,
      },
    ],
    sources: [
      {
        url: 'https://example.org/report',
        title: 'Journalist killed',
        publisher: 'Example News',
        publishedOn: '2015-12-28',
        kind: 'media_report',
        public: true,
      },
      { url: null, title: 'Call with the family', publisher: null, publishedOn: '2015-12-29', kind: 'witness_statement', public: false },
    ],
  });
  const created: string[] = [];
  for (const body of [
    rich,
    incidentBody({
      title: 'Range-dated abduction',
      date: { precision: 'range', from: '2017-09-20', to: '2017-09-30' },
      attackTypes: ['abduction'],
      location: { country: 'SY', region: null, city: null, coordinates: null },
    }),
    incidentBody({
      title: 'Year-only threat',
      date: { precision: 'year', value: '2016' },
      description: null,
      internalNotes: null,
      motive: null,
      judicialOutcome: null,
      victims: [],
      perpetratorClaims: [],
      sources: [],
    }),
  ]) {
    const response = await send(source.app, editor, 'POST', '/v1/incidents', body);
    expect(response.status, response.text).toBe(201);
    created.push(response.body.id);
  }
  const [richId, rangeId] = created;
  for (const [id, status, note] of [
    [richId, 'under_review', 'Calling the outlet'],
    [richId, 'verified', 'Two sources confirm'],
    [rangeId, 'disputed', 'The family denies it'],
  ] as const) {
    const response = await send(source.app, reviewer, 'POST', `/v1/incidents/${id}/verification`, { status, note });
    expect(response.status, response.text).toBe(200);
  }
  expect((await send(source.app, reviewer, 'POST', `/v1/incidents/${richId}/publish`, {})).status).toBe(200);
  exported = await exportJson(source.app, editor, organisation.id);
}, 120_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Keys whose values a new record gets anew: ids, its own timestamps and write counter. */
const NEW_RECORD_KEYS = new Set(['id', 'createdAt', 'updatedAt', 'publishedAt', 'version']);
const IMPORT_SOURCE = /^Imported from export\.json, item \d+ \(json\)$/;

/**
 * An exported incident minus what a new record gets anew (ids at any depth, createdAt,
 * updatedAt, publishedAt, version) and the import's own provenance: its source (the last) and
 * the `imported` mark of history entries. Everything else is compared as it is, so a field the
 * incident gains is compared without a change here.
 */
function comparable(incident: Record<string, unknown>, options: { imported?: boolean } = {}) {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !NEW_RECORD_KEYS.has(key))
        .map(([key, child]) => [key, strip(child)]),
    );
  };
  const copy = strip(incident) as Record<string, any>;
  if (options.imported) {
    const last = copy.sources.pop();
    expect(last).toEqual({
      url: null,
      publisher: null,
      title: expect.stringMatching(IMPORT_SOURCE),
      publishedOn: null,
      kind: 'other',
      public: false,
    });
    for (const change of copy.verificationHistory) {
      expect(change.imported).toBe(true);
      delete change.imported;
    }
  }
  return copy;
}

describe('json import: a lossless move', () => {
  it("holds every field in the owner's export, verification history included", () => {
    const { data } = JSON.parse(exported);
    expect(data).toHaveLength(3);
    const rich = data.find((incident: any) => incident.title.startsWith('Naji Jerf'));
    expect(rich).toMatchObject({
      verificationStatus: 'verified',
      visibility: 'published',
      deathType: 'murder',
      victims: [
        { nameOriginal: 'ناجي الجرف', locality: 'exile', employment: 'staff' },
        { name: 'Witness in hiding', protected: true },
      ],
      perpetratorClaims: [
        { attributedBy: 'Amaq News Agency', statement: 'A statement claiming the killing.' },
        { attributedBy: 'Gaziantep prosecutor' },
      ],
      sources: [{ publisher: 'Example News', publishedOn: '2015-12-28', public: true }, { public: false }],
    });
    expect(rich.verificationHistory).toEqual([
      { from: 'unverified', to: 'under_review', note: 'Calling the outlet', changedAt: expect.any(String), changedBy: reviewerName },
      { from: 'under_review', to: 'verified', note: 'Two sources confirm', changedAt: expect.any(String), changedBy: reviewerName },
    ]);
  });

  it(
    'over the API, as an editor: the same incidents as unverified drafts, their history kept as imported history',
    { timeout: 120_000 },
    async () => {
      const target = await startTestApp();
      try {
        const sameName = await createOrganisation(target.db, organisation.name);
        const targetEditor = await createKey(target.db, sameName.id, 'editor');
        const targetReviewer = await createKey(target.db, sameName.id, 'reviewer');

        // An editor may not publish or keep a verified status: that is a reviewer's decision.
        for (const visibility of ['published', 'keep']) {
          const refused = await importJson(target, targetEditor, `visibility=${visibility}`, exported);
          expect(refused.status, visibility).toBe(403);
        }
        const dryRun = await importJson(target, targetEditor, 'dryRun=true&fileName=export.json', exported);
        expect(dryRun.status).toBe(200);
        expect(dryRun.body.counts).toMatchObject({ rows: 3, valid: 3, rejected: 0 });
        expect(await count(target, 'incidents')).toBe(0);

        const imported = await importJson(target, targetEditor, 'fileName=export.json', exported);
        expect(imported.status, JSON.stringify(imported.body)).toBe(201);
        expect(imported.body.counts).toMatchObject({ rows: 3, valid: 3, created: 3, rejected: 0, duplicates: 0 });
        // The record's own fields, then any derived ones (location.countryName…), are not read.
        expect(imported.body.ignoredColumns.slice(0, 6)).toEqual([
          'id',
          'organisation',
          'version',
          'createdAt',
          'updatedAt',
          'publishedAt',
        ]);
        expect(imported.body.created.map((row: any) => [row.line, row.original])).toEqual(
          JSON.parse(exported).data.map((incident: any, index: number) => [
            index + 1,
            { verificationStatus: incident.verificationStatus, visibility: incident.visibility },
          ]),
        );

        const again = await exportJson(target, targetEditor, sameName.id);
        const before = JSON.parse(exported).data;
        const after = JSON.parse(again).data;
        expect(after).toHaveLength(before.length);
        after.forEach((incident: any, index: number) => {
          // The authority rule: an editor's import makes unverified drafts whatever the file says.
          expect(incident).toMatchObject({ verificationStatus: 'unverified', visibility: 'draft', publishedAt: null });
          const expected = { ...comparable(before[index]), verificationStatus: 'unverified', visibility: 'draft' };
          expect(comparable(incident, { imported: true })).toEqual(expected);
        });

        // The history reads as the original instance's, with who and when; the status here starts anew.
        const history = await send(target, targetEditor, 'GET', `/v1/incidents/${after[0].id}/history`);
        expect(history.body.data).toEqual(
          before[0].verificationHistory.map((change: object) => ({ ...change, id: expect.any(String), imported: true })),
        );
        const decided = await send(target, targetReviewer, 'POST', `/v1/incidents/${after[0].id}/verification`, {
          status: 'verified',
          note: 'Checked the moved record',
        });
        expect(decided.status, decided.text).toBe(200);
        const continued = await send(target, targetEditor, 'GET', `/v1/incidents/${after[0].id}/history`);
        expect(continued.body.data.at(-1)).toMatchObject({ from: 'unverified', to: 'verified', note: 'Checked the moved record' });
        expect(continued.body.data.at(-1)).not.toHaveProperty('imported');

        // A reviewer publishing the import publishes what was published in the file, not its drafts.
        const published = await send(target, targetReviewer, 'POST', `/v1/imports/${imported.body.id}/publish`, {});
        expect(published.status, published.text).toBe(200);
        const publishedThere = imported.body.created
          .filter((row: any) => row.original.visibility === 'published')
          .map((row: any) => row.incidentId);
        expect(published.body).toEqual({ published: publishedThere, unchanged: 2 });

        // The same file again creates nothing: the first import's report, replayed.
        const [incidents, imports, changes] = [
          await count(target, 'incidents'),
          await count(target, 'imports'),
          await count(target, 'verification_changes'),
        ];
        const replay = await importJson(target, targetEditor, 'fileName=export.json', exported);
        expect(replay.status).toBe(200);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(replay.body).toEqual(imported.body);
        expect([await count(target, 'incidents'), await count(target, 'imports'), await count(target, 'verification_changes')]).toEqual([
          incidents,
          imports,
          changes,
        ]);
      } finally {
        await target.close();
      }
    },
  );

  it("with the CLI's reviewer authority (--visibility keep): status and visibility too", { timeout: 120_000 }, async () => {
    const target = await startTestApp();
    try {
      const sameName = await createOrganisation(target.db, organisation.name);
      const targetEditor = await createKey(target.db, sameName.id, 'editor');
      const file = path.join(tmp, 'export.json');
      await writeFile(file, exported);
      // A webhook endpoint of the organisation hears the status and publication it gets back.
      const keyId = (
        await target.db.selectFrom('api_keys').select('id').where('organisation_id', '=', sameName.id).executeTakeFirstOrThrow()
      ).id;
      await target.db
        .insertInto('webhook_endpoints')
        .values({
          organisation_id: sameName.id,
          key_id: keyId,
          url: 'https://receiver.example.org/hooks',
          event_types: ['incident.published', 'incident.verification_changed'],
        })
        .execute();
      const outcome = await importFromFile(target.db, {
        file,
        format: 'json',
        organisation: sameName.name,
        dryRun: false,
        onError: 'abort',
        onDuplicate: 'skip',
        visibility: 'keep',
      });
      expect(outcome.kind).toBe('imported');
      expect(outcome.report.counts).toMatchObject({ rows: 3, created: 3 });

      const before = JSON.parse(exported).data;
      const after = JSON.parse(await exportJson(target, targetEditor, sameName.id)).data;
      expect(after.map((incident: any) => comparable(incident, { imported: true }))).toEqual(
        before.map((incident: any) => comparable(incident)),
      );
      expect(after.map((incident: any) => incident.publishedAt !== null)).toEqual(
        before.map((incident: any) => incident.publishedAt !== null),
      );

      const events = await target.db.selectFrom('webhook_events').select(['type', 'incident_id']).execute();
      const published = before.filter((incident: any) => incident.publishedAt !== null).length;
      expect(events.filter((event) => event.type === 'incident.published')).toHaveLength(published);
      expect(events.some((event) => event.type === 'incident.verification_changed' && event.incident_id !== null)).toBe(true);

      // Each change of state is audited as the reviewer's, after the editor's create.
      const rich = after.find((incident: any) => incident.title.startsWith('Naji Jerf'));
      const audit = await send(target, targetEditor, 'GET', `/v1/incidents/${rich.id}/audit`);
      expect(audit.body.data.map((entry: { action: string }) => entry.action)).toEqual([
        'incident.create',
        'incident.verification',
        'incident.publish',
      ]);
      const public_ = await request(target, 'GET', `/v1/incidents/${rich.id}`);
      expect(public_.status).toBe(200);
      expect(public_.body.victims[1]).toEqual({ name: 'name withheld', protected: true, role: 'activist', outcome: 'threatened' });
    } finally {
      await target.close();
    }
  });
});

describe('json import: all or nothing', () => {
  it('imports nothing from a file with one bad item, and names the item and the field', async () => {
    const importer = await createOrganisation(source.app.db);
    const importerEditor = await createKey(source.app.db, importer.id, 'editor');
    const document = JSON.parse(exported);
    document.data[1].victims = [{ name: 'Someone', gender: 'robot' }];
    document.data[2].verificationHistory = [{ from: 'unverified', to: 'sure', note: 'x', changedAt: 'yesterday', changedBy: null }];
    const before = [
      await count(source.app, 'incidents'),
      await count(source.app, 'imports'),
      await count(source.app, 'verification_changes'),
    ];
    const rejected = await importJson(source.app, importerEditor, 'fileName=bad.json', JSON.stringify(document));
    expect(rejected.status).toBe(422);
    expect(rejected.body.report.counts).toMatchObject({ rows: 3, valid: 1, rejected: 2, created: 0 });
    expect(rejected.body.report.rejected).toEqual([
      { line: 2, errors: [{ column: 'victims.0.gender', reason: expect.any(String) }] },
      {
        line: 3,
        errors: expect.arrayContaining([
          { column: 'verificationHistory.0.to', reason: expect.any(String) },
          { column: 'verificationHistory.0.changedAt', reason: expect.any(String) },
        ]),
      },
    ]);
    expect([
      await count(source.app, 'incidents'),
      await count(source.app, 'imports'),
      await count(source.app, 'verification_changes'),
    ]).toEqual(before);

    // onError=skip imports the good one; its source names the item.
    const skipped = await importJson(source.app, importerEditor, 'fileName=bad.json&onError=skip', JSON.stringify(document));
    expect(skipped.status).toBe(201);
    expect(skipped.body.counts).toMatchObject({ created: 1, skipped: 2 });
    const created = await send(source.app, importerEditor, 'GET', `/v1/incidents/${skipped.body.created[0].incidentId}`);
    expect(created.body.sources.at(-1).title).toBe('Imported from bad.json, item 1 (json)');
  });

  it("reads another organisation's (public) export too: withheld victims stay protected, listed sources are public", async () => {
    const importer = await createOrganisation(source.app.db);
    const importerEditor = await createKey(source.app.db, importer.id, 'editor');
    const response = await fetch(`${source.app.url}/v1/incidents/export?format=json&organisation=${organisation.id}`);
    const publicExport = await response.text();
    expect(JSON.parse(publicExport).data).toHaveLength(1); // the published one only
    const imported = await importJson(source.app, importerEditor, 'fileName=public.json&onDuplicate=create', publicExport);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const created = await send(source.app, importerEditor, 'GET', `/v1/incidents/${imported.body.created[0].incidentId}`);
    expect(created.body.victims[1]).toMatchObject({ name: null, protected: true, role: 'activist', outcome: 'threatened' });
    expect(created.body.sources.map((item: any) => item.public)).toEqual([true, false]); // the public source, then the import's own
    expect(created.body.internalNotes).toBeNull();
  });
});
