import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertApiKey } from '../src/auth/api-key.queries.ts';
import { refreshVictimNameKeys } from '../src/incidents/victim-name-keys.queries.ts';
import { sealedNotes, storedVictim } from '../src/incidents/sealed-fields.ts';
import { DIMENSIONS } from '../src/statistics/statistics.schemas.ts';
import { createKey, createOrganisation, incidentBody } from './support/factories.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * The leak crawl: confidential values are in the database (protected victims, private sources,
 * internal notes, reviewers' notes and key names, drafts, deleted incidents), and every read
 * route is crawled anonymously and as a researcher of another organisation with every filter,
 * search, grouping and export format. Two checks:
 *
 * - markers: every confidential text carries a marker; no response (headers and body, also
 *   case- and accent-folded, JSON-unescaped, URL- and base64url-decoded) may hold one;
 * - non-interference: then every confidential value is changed in place (enums too, which no
 *   marker can carry: a protected victim's gender and nationality), and the crawl is repeated:
 *   apart from the data version, every response must be byte for byte the same. An answer that
 *   depends on a value its caller may not see reveals it, however small the group.
 *
 * Who may call what is test/authz-matrix.test.ts.
 */

const t = useTestApp({}, { actors: false });
const SECRET = `LEAKMARKER${randomUUID().slice(0, 8)}`; // nobody outside the owning organisation
const DRAFT = `DRAFTMARKER${randomUUID().slice(0, 8)}`; // researchers may see drafts; the public may not
/** Behind an access group: only its members (the owner's editor and reviewer keys) may see it. */
const RESTRICTED = `GROUPMARKER${randomUUID().slice(0, 8)}`;
/** A protected victim's real-looking name, which another organisation records openly (the probe). */
const PROBED_NAME = 'Ayşe Gülşen Kırmızıgül';

/**
 * The owner shares its drafts with the researcher's organisation by name (`researcher`); the
 * third organisation's researcher (`thirdResearcher`) is not shared with until the last test;
 * `outsider` is an editor of the owner outside the access group that guards the restricted
 * incident and victim (README, "Sharing and access groups").
 */
const keys = {} as Record<
  'owner' | 'ownerReviewer' | 'ownerAdmin' | 'outsider' | 'researcher' | 'thirdResearcher' | 'otherEditor' | 'otherReviewer',
  string
>;
const ids = {} as Record<'published' | 'draft' | 'deleted' | 'unpublished' | 'probe' | 'restricted' | 'restrictedVictim', string>;
let ownOrganisationId: string;

function protectedVictims(tag: string) {
  return [
    {
      name: `Şükrüoğlu Nazlı ${tag}-name`,
      nameOriginal: `شكر أوغلو ${tag}-original`,
      aliases: [`Kestrel ${tag}-alias`],
      outlet: `Ünderground Dispatch ${tag}-outlet`,
      role: 'activist',
      gender: 'female',
      nationality: 'IR',
      locality: 'exile',
      employment: 'freelance',
      outcome: 'threatened',
      protected: true,
    },
    {
      name: PROBED_NAME,
      role: 'journalist',
      gender: 'female',
      nationality: 'IR',
      locality: 'foreign',
      employment: 'staff',
      outcome: 'injured',
      protected: true,
    },
  ];
}

/** Iceland, so country=IS isolates the incidents of this file: the smallest possible groups. */
const PLACE = {
  country: 'IS',
  region: 'Höfuðborgarsvæðið',
  city: 'Reykjavík',
  coordinates: { latitude: 64.14, longitude: -21.94, precision: 'exact' },
};

function confidentialBody(overrides: Record<string, unknown> = {}) {
  return incidentBody({
    date: { precision: 'day', value: '2021-06-15' },
    location: PLACE,
    attackTypes: ['physical_assault', 'threat_harassment'],
    motive: 'work_related_unconfirmed',
    judicialOutcome: 'investigation_open',
    internalNotes: `Safe house at Çihangir 44 ${SECRET}-notes`,
    victims: [{ name: 'Jón Open Reporter', role: 'journalist', gender: 'male', outcome: 'injured' }, ...protectedVictims(SECRET)],
    perpetratorClaims: [{ actorName: 'Unidentified assailants', actorType: 'unknown', attribution: 'alleged_by_others' }],
    sources: [
      { url: 'https://example.org/open-report', title: 'Open report', kind: 'media_report', public: true },
      {
        url: `https://example.org/${SECRET}-url`,
        title: `Insider tip ${SECRET}-title`,
        publisher: `${SECRET}-publisher`,
        kind: 'witness_statement',
        public: false,
      },
    ],
    ...overrides,
  });
}

async function api(method: string, path: string, key: string, body?: unknown) {
  const response = await fetch(`${t.app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed: any = await response.json().catch(() => undefined);
  expect(response.status, `${method} ${path}: ${JSON.stringify(parsed)}`).toBeLessThan(300);
  return parsed;
}

beforeAll(async () => {
  const own = await createOrganisation(t.app.db);
  const other = await createOrganisation(t.app.db);
  ownOrganisationId = own.id;
  keys.owner = await createKey(t.app.db, own.id, 'editor');
  keys.ownerReviewer = (await insertApiKey(t.app.db, { organisationId: own.id, name: `Karim ${SECRET}-keyname`, role: 'reviewer' })).key;
  keys.researcher = await createKey(t.app.db, other.id, 'researcher');
  keys.otherEditor = await createKey(t.app.db, other.id, 'editor');
  keys.otherReviewer = await createKey(t.app.db, other.id, 'reviewer');

  ids.published = (await api('POST', '/v1/incidents', keys.owner, confidentialBody({ title: 'Open report of an attack in Reykjavík' }))).id;
  await api('POST', `/v1/incidents/${ids.published}/verification`, keys.ownerReviewer, {
    status: 'verified',
    note: `Hospital record seen ${SECRET}-review`,
  });
  await api('POST', `/v1/incidents/${ids.published}/publish`, keys.ownerReviewer, {});

  ids.draft = (
    await api(
      'POST',
      '/v1/incidents',
      keys.owner,
      confidentialBody({
        title: `Draft ${DRAFT}-title`,
        description: `Unchecked ${DRAFT}-description`,
        victims: [{ name: `Open ${DRAFT}-victim`, role: 'journalist', outcome: 'killed' }, ...protectedVictims(SECRET)],
      }),
    )
  ).id;

  ids.deleted = (await api('POST', '/v1/incidents', keys.owner, confidentialBody({ title: `Deleted ${SECRET}-deleted` }))).id;
  await api('POST', `/v1/incidents/${ids.deleted}/publish`, keys.ownerReviewer, {});
  await api('DELETE', `/v1/incidents/${ids.deleted}`, keys.owner, { reason: `Entered twice ${SECRET}-reason` });

  ids.unpublished = (await api('POST', '/v1/incidents', keys.owner, confidentialBody({ title: `Withdrawn ${DRAFT}-unpublished` }))).id;
  await api('POST', `/v1/incidents/${ids.unpublished}/publish`, keys.ownerReviewer, {});
  await api('POST', `/v1/incidents/${ids.unpublished}/unpublish`, keys.ownerReviewer, {});

  // Another organisation records the protected person openly, years later: a probe for name matching.
  ids.probe = (
    await api(
      'POST',
      '/v1/incidents',
      keys.otherEditor,
      incidentBody({
        title: 'Open record of a journalist threatened in Iceland',
        date: { precision: 'year', value: '2016' },
        location: { country: 'IS' },
        attackTypes: ['legal_action'],
        victims: [{ name: PROBED_NAME, role: 'journalist', outcome: 'threatened' }],
        perpetratorClaims: [],
        sources: [],
        internalNotes: null,
      }),
    )
  ).id;
  await api('POST', `/v1/incidents/${ids.probe}/publish`, keys.otherReviewer, {});
  await restrictSome(own.id, other.id);
});

/** The access group, its members, the sharing, and two restricted things: a draft incident and a published incident's protected victim. */
async function restrictSome(ownId: string, otherId: string) {
  const members = await t.app.db.selectFrom('api_keys').select('id').where('organisation_id', '=', ownId).execute();
  keys.ownerAdmin = await createKey(t.app.db, ownId, 'admin');
  keys.outsider = await createKey(t.app.db, ownId, 'editor');
  keys.thirdResearcher = await createKey(t.app.db, (await createOrganisation(t.app.db)).id, 'researcher');
  await api('PUT', `/v1/organisations/${ownId}/sharing`, keys.ownerAdmin, { sharedWith: 'organisations', organisationIds: [otherId] });
  const group = await api('POST', '/v1/access-groups', keys.ownerAdmin, { name: 'Need to know' });
  for (const { id } of members) await api('PUT', `/v1/access-groups/${group.id}/members/${id}`, keys.ownerAdmin);
  const restrictedVictim = {
    name: `Ravel Quondam ${RESTRICTED}-name`,
    nameOriginal: `راول ${RESTRICTED}-original`,
    aliases: [`Heron ${RESTRICTED}-alias`],
    outlet: `Quiet Wire ${RESTRICTED}-outlet`,
    role: 'journalist',
    gender: 'female',
    outcome: 'threatened',
    protected: true,
  };
  const restricted = await api(
    'POST',
    '/v1/incidents',
    keys.owner,
    confidentialBody({
      title: 'A restricted report from Akureyri',
      internalNotes: `Courier route ${RESTRICTED}-notes`,
      victims: [restrictedVictim],
      sources: [
        { url: `https://example.org/${RESTRICTED}-url`, title: `Tip ${RESTRICTED}-title`, kind: 'witness_statement', public: false },
      ],
    }),
  );
  ids.restricted = restricted.id;
  await api('PUT', `/v1/incidents/${restricted.id}/access-groups`, keys.ownerAdmin, { groupIds: [group.id] });
  const published = await api(
    'POST',
    '/v1/incidents',
    keys.owner,
    confidentialBody({
      title: 'A published report with one restricted victim',
      victims: [{ name: 'Open Person', role: 'journalist', outcome: 'injured' }, restrictedVictim],
    }),
  );
  ids.restrictedVictim = published.id;
  await api('PUT', `/v1/incidents/${published.id}/victims/${published.victims[1].id}/access-groups`, keys.ownerAdmin, {
    groupIds: [group.id],
  });
  await api('POST', `/v1/incidents/${published.id}/publish`, keys.ownerReviewer, {});
}

// ---------------------------------------------------------------- the crawl

/** Searches for confidential words: names in both scripts, alias, outlet, notes, private sources. */
const SEARCHES = () => [
  `Şükrüoğlu Nazlı ${SECRET}-name`,
  'Sukruoglu',
  'شكر أوغلو',
  `Kestrel ${SECRET}`,
  'Underground Dispatch',
  'Cihangir',
  'Insider tip',
  'Hospital record',
  PROBED_NAME,
  'Kirmizigul',
  `${DRAFT}-title`,
  'Withdrawn',
  'Entered twice',
  'Ravel Quondam',
  'Quondam',
  'Quiet Wire',
  'Courier route',
];

/** Each list filter, with the values of the confidential incidents. */
const LIST_FILTERS = (): Record<string, string>[] => [
  {},
  { country: 'IS' },
  { region: PLACE.region },
  { city: PLACE.city },
  { attackType: 'physical_assault' },
  { victimRole: 'activist' },
  { victimOutcome: 'threatened' },
  { victimGender: 'female' },
  { victimGender: 'male' },
  { victimGender: 'non_binary,other' },
  { victimGender: 'female', victimRole: 'activist', victimOutcome: 'threatened' },
  { victimGender: 'female', country: 'IS' },
  { actorName: 'Unidentified' },
  { actorType: 'unknown' },
  { attribution: 'alleged_by_others' },
  { verificationStatus: 'verified' },
  { motive: 'work_related_unconfirmed' },
  { judicialOutcome: 'investigation_open' },
  { organisation: ownOrganisationId },
  { dateFrom: '2021-06-15', dateTo: '2021-06-15', dateMatch: 'within' },
  { dateFrom: '2021', dateTo: '2021' },
  { bbox: '-23,63,-21,65' },
  { updatedSince: '2020-01-01T00:00:00Z' },
  { hasProtectedVictims: 'true' },
  ...SEARCHES().flatMap((q): Record<string, string>[] => [{ q }, { q, sort: 'relevance' }]),
];

/** Statistics: every dimension, and gender with every other one, over the smallest groups. */
const STATS_FILTERS = (): Record<string, string>[] => [
  {},
  { country: 'IS' },
  { victimGender: 'female' },
  { victimGender: 'male', country: 'IS' },
  { q: 'Reykjavík' },
  { hasProtectedVictims: 'true' },
];
const GROUPINGS = [
  ...DIMENSIONS.map((dimension) => dimension as string),
  ...DIMENSIONS.filter((d) => d !== 'gender').map((d) => `gender,${d}`),
];

function crawlPaths(): string[] {
  const query = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const paths = [
    '/healthz',
    '/readyz',
    '/openapi.json',
    '/docs/',
    '/docs/swagger-ui-init.js',
    '/v1/organisations',
    '/v1/keys',
    '/v1/imports',
  ];
  for (const id of Object.values(ids)) {
    for (const suffix of ['', '/history', '/audit', '/duplicates?minScore=0&limit=100']) paths.push(`/v1/incidents/${id}${suffix}`);
  }
  // Filters are checked on JSON pages; the CSV writer on every incident and on the small country.
  for (const filters of LIST_FILTERS()) paths.push(`/v1/incidents?${query({ ...filters, includeTotal: 'true', limit: '200' })}`);
  for (const filters of [{}, { country: 'IS' }] as Record<string, string>[])
    paths.push(`/v1/incidents?${query({ ...filters, format: 'csv', limit: '200' })}`);
  for (const [index, filters] of STATS_FILTERS().entries()) {
    const groupings = index === 1 ? GROUPINGS : DIMENSIONS; // pairs over the small country; single dimensions otherwise
    for (const groupBy of groupings) paths.push(`/v1/stats?${query({ ...filters, groupBy })}`);
    paths.push(`/v1/stats?${query({ ...filters, groupBy: 'gender,country', format: 'csv', includeDebunked: 'true' })}`);
  }
  const exportFilters: Record<string, string>[] = [
    {},
    { country: 'IS' },
    { victimGender: 'female' },
    { q: 'Sukruoglu' },
    { hasProtectedVictims: 'false' },
  ];
  for (const filters of exportFilters) {
    for (const format of ['csv', 'json', 'geojson']) paths.push(`/v1/incidents/export?${query({ ...filters, format })}`);
  }
  // The Atom feed (always the public view) with every list filter.
  for (const { sort: _sort, ...filters } of LIST_FILTERS()) paths.push(`/v1/incidents/feed.atom?${query({ ...filters, limit: '200' })}`);
  // The public site's pages.
  paths.push('/', '/explore', '/explore?country=IS', '/explore?q=Quondam', '/statistics', '/statistics?country=IS');
  for (const id of Object.values(ids)) paths.push(`/incidents/${id}`);
  return paths;
}

interface Crawled {
  path: string;
  status: number;
  /** Status, the headers that carry content, and the body. */
  text: string;
}

const CONTENT_HEADERS = ['content-type', 'content-disposition', 'location', 'link', 'x-totals', 'x-total-count', 'x-data-version'];

async function crawl(key?: string, only: (path: string) => boolean = () => true): Promise<Crawled[]> {
  const results: Crawled[] = [];
  for (const path of crawlPaths().filter(only)) {
    const response = await fetch(`${t.app.url}${path}`, { redirect: 'manual', headers: key ? { authorization: `Bearer ${key}` } : {} });
    const body = Buffer.from(await response.arrayBuffer()).toString('utf8');
    const headers = CONTENT_HEADERS.map((name) => `${name}: ${response.headers.get(name) ?? ''}`).join('\n');
    results.push({ path, status: response.status, text: `${response.status}\n${headers}\n\n${body}` });
  }
  return results;
}

// ---------------------------------------------------------------- finding a marker in any form

/** Lower case, accents and marks removed (ş -> s, ı -> i), and everything but letters and digits dropped. */
function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ı/g, 'i')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** The text in the forms a value could hide in: JSON \u escapes, %-encoding, base64url (cursors). */
function decodedForms(text: string): string[] {
  const unescaped = text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  const percentDecoded = unescaped.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  const base64 = [...text.matchAll(/[A-Za-z0-9_-]{16,}/g)].map(([token]) => Buffer.from(token, 'base64url').toString('utf8')).join('\n');
  return [text, unescaped, percentDecoded, base64];
}

/** Paths whose responses hold a marker, and which. A response may echo its own URL (a search for a secret is no leak). */
function leaksIn(results: Crawled[], markers: string[]): string[] {
  return results.flatMap((result) => {
    const found = markersIn(result.text.split(result.path).join(''), markers);
    return found.length ? [`${result.path}: ${found.join(', ')}`] : [];
  });
}

function markersIn(text: string, markers: string[]): string[] {
  const forms = decodedForms(text).flatMap((form) => [form, fold(form)]);
  return markers.filter((marker) => forms.some((form) => form.includes(marker) || form.includes(fold(marker))));
}

// ---------------------------------------------------------------- the rules, by hand

async function getJson(path: string, key?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${t.app.url}${path}`, { headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) } });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: /json/.test(response.headers.get('content-type') ?? '') && text ? JSON.parse(text) : undefined,
  };
}

describe('statistics and filters say nothing about a protected victim beyond role and outcome', () => {
  const victimsBy = (groups: Array<Record<string, unknown>>, dimension: string) =>
    Object.fromEntries(groups.map((group) => [String(group[dimension]), group.victims]));

  it.each([
    ['anonymous', undefined],
    ['researcher', 'researcher'],
  ] as const)('for %s, protected victims count under gender null even in a group of one incident', async (_name, who) => {
    const key = who && keys[who];
    const stats = await getJson(`/v1/stats?q=${encodeURIComponent('Open report of an attack')}&groupBy=gender`, key);
    expect(stats.body.totals).toMatchObject({ incidents: 1, victims: 3 });
    expect(victimsBy(stats.body.groups, 'gender')).toEqual({ male: 1, null: 2 });
    const byRole = await getJson(`/v1/stats?q=${encodeURIComponent('Open report of an attack')}&groupBy=victimRole`, key);
    expect(victimsBy(byRole.body.groups, 'victimRole')).toEqual({ journalist: 2, activist: 1 }); // roles are public
    for (const path of ['/v1/stats?country=IS&victimGender=female', '/v1/stats?country=IS&victimGender=female&groupBy=victimRole']) {
      expect((await getJson(path, key)).body.totals).toMatchObject({ incidents: 0, victims: 0 });
    }
    expect((await getJson('/v1/incidents?country=IS&victimGender=female&includeTotal=true', key)).body.total).toBe(0);
  });

  it('the owning organisation does count its protected victims by gender', async () => {
    const stats = await getJson(`/v1/stats?q=${encodeURIComponent('Open report of an attack')}&groupBy=gender`, keys.owner);
    expect(victimsBy(stats.body.groups, 'gender')).toEqual({ male: 1, female: 2 });
  });

  it.each([
    ['anonymous', undefined],
    ['researcher', 'researcher'],
  ] as const)('for %s, hasProtectedVictims is refused on the list, statistics and exports', async (_name, who) => {
    for (const path of ['/v1/incidents', '/v1/stats', '/v1/incidents/export']) {
      const response = await getJson(`${path}?hasProtectedVictims=true`, who && keys[who]);
      expect(response.status, path).toBe(400);
      expect(response.body.errors[0].parameter).toBe('hasProtectedVictims');
    }
  });

  it("limits hasProtectedVictims to an editor's own organisation", async () => {
    const other = await getJson('/v1/stats?hasProtectedVictims=true&country=IS', keys.otherEditor);
    expect(other.body.totals.incidents).toBe(0);
    const own = await getJson('/v1/stats?hasProtectedVictims=true&country=IS', keys.owner);
    expect(own.body.totals.incidents).toBeGreaterThan(0);
  });

  it('has no filter on a name, nationality or other withheld field to probe with', async () => {
    for (const parameter of [
      'victimName=Sukruoglu',
      'victimNationality=IR',
      'nationality=IR',
      'victimLocality=exile',
      'victimEmployment=staff',
      'outlet=Dispatch',
      'internalNotes=Cihangir',
    ]) {
      for (const path of ['/v1/incidents', '/v1/stats', '/v1/incidents/export']) {
        expect((await getJson(`${path}?${parameter}`)).status, `${path}?${parameter}`).toBe(400);
      }
    }
  });
});

describe('conditional requests', () => {
  it('a write to a draft moves only the data version of what anonymous callers get (documented in the README)', async () => {
    const path = '/v1/incidents?country=IS';
    const first = await getJson(path);
    expect((await getJson(path, undefined, { 'if-none-match': first.headers.get('etag')! })).status).toBe(304);
    const draft = await getJson(`/v1/incidents/${ids.draft}`, keys.owner);
    await api('PATCH', `/v1/incidents/${ids.draft}`, keys.owner, { title: `Draft ${DRAFT}-retitled`, version: draft.body.version });
    const second = await getJson(path, undefined, { 'if-none-match': first.headers.get('etag')! });
    // The data version counts every write, drafts included: the ETag and meta change, nothing else.
    const { meta: _firstMeta, ...firstPage } = first.body;
    const { meta: _secondMeta, ...secondPage } = second.body;
    expect(secondPage).toEqual(firstPage);
    expect(second.text).not.toContain(DRAFT);
  });

  it("gives the incident's version as ETag only to its own organisation (others get a hash of their body)", async () => {
    for (const key of [undefined, keys.researcher, keys.otherEditor]) {
      expect((await getJson(`/v1/incidents/${ids.published}`, key)).headers.get('etag')).not.toMatch(/^"\d+"$/);
    }
    expect((await getJson(`/v1/incidents/${ids.published}`, keys.owner)).headers.get('etag')).toMatch(/^"\d+"$/);
  });
});

// ---------------------------------------------------------------- non-interference

/** Everything but the data version (and ids of this request): what must not change when a secret does. */
function comparable(result: Crawled): string {
  return (
    result.text
      .replace(/"dataVersion":\d+/g, '"dataVersion":0')
      .replace(/"dataAsOf":"[^"]*"/g, '"dataAsOf":""')
      .replace(/"exportedAt":"[^"]*"/g, '"exportedAt":""')
      .replace(/"requestId":"[^"]*"/g, '"requestId":""')
      .replace(/dateline-(incidents|statistics)-\d+/g, 'dateline-$1-0')
      .replace(/x-data-version: \d+/g, 'x-data-version: 0')
      // The site's pages cite the data version and its time in words.
      .replace(/(data version|Data version)( |<\/dt><dd>)[\d,.\u00a0\u202f ]+/g, '$1$2 0')
      .replace(/as of [^.)<]*/g, 'as of')
      .replace(/<time datetime="[^"]*">[^<]*<\/time>/g, '<time></time>')
      .replace(/zr\d+-/g, 'zr0-') // the charts' element ids count renders
  );
}

/**
 * Changes, in place, every value that the public and researchers of another organisation may
 * not see: protected victims (names, gender, nationality, ...), internal notes, private
 * sources and reviewers' notes, of the published incident and the draft. Roles and outcomes of
 * protected victims are public and stay. Each round sets values that differ from the last; the
 * second gives every protected victim the name another organisation recorded openly (the probe).
 */
async function changeEveryConfidentialValue(round: 1 | 2) {
  const [gender, nationality, locality, employment] =
    round === 1 ? ['male', 'SY', 'local', 'staff'] : ['other', 'TR', 'foreign', 'freelance'];
  const secret = (what: string) => `${what} ${SECRET}-round${round}`;
  await t.app.db.transaction().execute(async (trx) => {
    for (const id of [ids.published, ids.draft]) {
      // Identities and notes are stored encrypted (src/incidents/sealed-fields.ts), as every write stores them.
      const victims = await trx
        .selectFrom('victims')
        .select(['id', 'position'])
        .where('incident_id', '=', id)
        .where('protected', '=', true)
        .execute();
      for (const victim of victims) {
        const identity = { name: round === 1 ? `Other ${SECRET}-${victim.position}` : PROBED_NAME, outlet: secret('Outlet'), nationality };
        const { name_key, identity_sealed, name_blind } = storedVictim({
          id: victim.id,
          protected: true,
          name_original: null,
          aliases: [],
          ...identity,
        });
        await trx
          .updateTable('victims')
          .set({
            gender,
            locality,
            employment,
            name: null,
            name_original: null,
            aliases: [],
            outlet: null,
            nationality: null,
            name_key,
            identity_sealed,
            name_blind,
          })
          .where('id', '=', victim.id)
          .execute();
      }
      await trx
        .updateTable('incidents')
        .set({ internal_notes: sealedNotes(id, secret('Notes')) })
        .where('id', '=', id)
        .execute();
      await sql`update sources set url = ${`https://example.org/${secret('tip')}`}, title = ${secret('Tip')}, publisher = null
        where incident_id = ${id} and not public`.execute(trx);
      await sql`update verification_changes set note = ${secret('Note')} where incident_id = ${id}`.execute(trx);
      await refreshVictimNameKeys(trx, id);
    }
  });
}

describe('no confidential byte in any response, and no answer that depends on one', () => {
  it('the owning organisation does get the marked values, so the crawl is not vacuous', async () => {
    const ownRoutes = (path: string) => path.startsWith('/v1/incidents/') && !path.includes('/duplicates');
    const seen = (await crawl(keys.owner, ownRoutes)).map((result) => result.text).join('\n');
    expect(markersIn(seen, [SECRET, DRAFT])).toEqual([SECRET, DRAFT]);
    for (const marker of [
      'name',
      'original',
      'alias',
      'outlet',
      'notes',
      'url',
      'title',
      'publisher',
      'review',
      'keyname',
      'deleted',
      'reason',
    ]) {
      expect(seen, marker).toContain(`${SECRET}-${marker}`);
    }
    const researcher = (await crawl(keys.researcher, ownRoutes)).map((result) => result.text).join('\n');
    expect(markersIn(researcher, [SECRET, DRAFT])).toEqual([DRAFT]); // researchers see drafts, not secrets
  });

  it("for another organisation's editors (reviewers see the same), no marker either (statistics aside: no text there)", async () => {
    expect(leaksIn(await crawl(keys.otherEditor, (path) => !path.startsWith('/v1/stats')), [SECRET, DRAFT])).toEqual([]);
  });

  it.each([
    ['anonymous callers', undefined, 1, [SECRET, DRAFT, RESTRICTED]],
    ['researchers of an organisation drafts are shared with', 'researcher', 2, [SECRET, RESTRICTED]],
  ] as const)(
    'for %s: no marker in any encoding, and changing every confidential value changes nothing but the data version',
    async (_name, who, round, markers) => {
      const key = who && keys[who];
      const ownerView = () =>
        fetch(`${t.app.url}/v1/incidents/${ids.published}`, { headers: { authorization: `Bearer ${keys.owner}` } }).then((r) => r.text());
      const [before, ownerBefore] = [await crawl(key), await ownerView()];
      expect(leaksIn(before, [...markers])).toEqual([]);
      await changeEveryConfidentialValue(round);
      const [after, ownerAfter] = [await crawl(key), await ownerView()];
      expect(ownerAfter, 'the owner sees the change, so there was one').not.toEqual(ownerBefore);
      expect(leaksIn(after, [...markers])).toEqual([]);
      const changed = after.flatMap((result, index) => (comparable(result) === comparable(before[index]!) ? [] : [result.path]));
      for (const [index, result] of after.entries())
        if (result.path === '/statistics' && comparable(result) !== comparable(before[index]!)) {
          const x = comparable(result).split('\n');
          const y = comparable(before[index]!).split('\n');
          console.log(
            x
              .filter((l, i) => l !== y[i])
              .slice(0, 5)
              .map((l) => l.slice(0, 400)),
            y
              .filter((l, i) => l !== x[i])
              .slice(0, 5)
              .map((l) => l.slice(0, 400)),
          );
        }
      expect(changed).toEqual([]);
    },
  );
});

describe('access groups and draft sharing: what a non-entitled caller can get', () => {
  it("the group's members do get the restricted values, so the crawl is not vacuous", async () => {
    const seen = (await crawl(keys.owner, (path) => path.startsWith('/v1/incidents/') && !path.includes('/duplicates')))
      .map((result) => result.text)
      .join('\n');
    for (const marker of ['name', 'original', 'alias', 'outlet', 'notes', 'url', 'title'])
      expect(seen, marker).toContain(`${RESTRICTED}-${marker}`);
  });

  it('an editor of the owner outside the group finds no restricted value in any response, the site included', async () => {
    const results = await crawl(keys.outsider);
    expect(leaksIn(results, [RESTRICTED])).toEqual([]);
    // Not vacuous: the outsider does see the rest of the organisation's confidential data, and the restricted incident itself.
    expect(markersIn(results.map((result) => result.text).join('\n'), [SECRET, DRAFT])).toEqual([SECRET, DRAFT]);
    expect((await getJson(`/v1/incidents/${ids.restricted}`, keys.outsider)).body.title).toBe('A restricted report from Akureyri');
  });

  it('a researcher of an organisation drafts are not shared with finds no draft, secret or restricted value', async () => {
    expect(leaksIn(await crawl(keys.thirdResearcher), [SECRET, DRAFT, RESTRICTED])).toEqual([]);
  });

  it('once drafts are shared with all researchers, that researcher sees drafts, still no secret or restricted value', async () => {
    await api('PUT', `/v1/organisations/${ownOrganisationId}/sharing`, keys.ownerAdmin, { sharedWith: 'all-researchers' });
    const results = await crawl(keys.thirdResearcher);
    expect(leaksIn(results, [SECRET, RESTRICTED])).toEqual([]);
    expect(markersIn(results.map((result) => result.text).join('\n'), [DRAFT])).toEqual([DRAFT]);
  });
});
