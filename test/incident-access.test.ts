import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApiKey, revokeApiKey } from '../src/auth/api-key.queries.ts';
import { generateApiKey } from '../src/auth/api-key.ts';
import { createActors, incidentBody, type Actors } from './support/factories.ts';
import { request, startTestApp, type ApiResponse, type TestApp } from './support/test-app.ts';

/**
 * Who may read and write which incident, over real HTTP against a real database:
 * one table per rule, so a new role or route is one more row.
 */

let app: TestApp;
let actors: Actors;

type Reader = 'public' | 'admin' | 'editor' | 'reviewer' | 'researcher' | 'otherEditor' | 'otherReviewer';
type View = 'full' | 'research' | 'public';
type Fixture = 'draft' | 'published' | 'otherDraft' | 'deleted' | 'missing';

const READERS: Record<Reader, string> = {
  public: 'the public (no key)',
  admin: 'an admin',
  editor: 'an editor of the owning organisation',
  reviewer: 'a reviewer of the owning organisation',
  researcher: 'a researcher (another organisation)',
  otherEditor: 'an editor of another organisation',
  otherReviewer: 'a reviewer of another organisation',
};
const FIXTURES: Record<Fixture, string> = {
  draft: 'a draft',
  published: 'a published incident',
  otherDraft: "another organisation's draft",
  deleted: 'a deleted (once published) incident',
  missing: 'an incident that never existed',
};
const keyOf = (reader: Reader) => (reader === 'public' ? undefined : actors[reader]);

/** Confidential values of the owning organisation's incidents; none may reach a redacted response. */
const SECRET = {
  name: 'Yasemin Gizlitanik',
  nameOriginal: 'یاسمین پنهان',
  alias: 'Kestrel Nightjar',
  outlet: 'Bosphorus Underground Dispatch',
  sourceUrl: 'https://example.org/confidential/9f3c-insider',
  sourceTitle: 'Insider tip from the prosecutor office',
  internalNotes: 'Safe house is at Cihangir 44; never publish.',
};
/** The same kinds of values in incidentBody()'s defaults, used for the other organisation's incidents. */
const OTHER_SECRETS = ['Secret Witness Name', 'https://example.org/private-tip', 'Private tip', 'Family asked us not to contact the outlet.'];
const PUBLIC_SOURCE = { url: 'https://example.org/public-report', title: 'Public report', kind: 'media_report', public: true };

function sensitiveBody() {
  return incidentBody({
    internalNotes: SECRET.internalNotes,
    victims: [
      { name: 'Public Person', role: 'journalist', outcome: 'injured' },
      {
        name: SECRET.name, nameOriginal: SECRET.nameOriginal, aliases: [SECRET.alias], outlet: SECRET.outlet,
        role: 'activist', outcome: 'threatened', protected: true,
      },
    ],
    sources: [PUBLIC_SOURCE, { url: SECRET.sourceUrl, title: SECRET.sourceTitle, kind: 'witness_statement', public: false }],
  });
}

const PUBLIC_KEYS = [
  'id', 'organisation', 'title', 'description', 'date', 'location', 'attackTypes', 'verificationStatus',
  'motive', 'judicialOutcome', 'victims', 'perpetratorClaims', 'sources', 'publishedAt', 'updatedAt',
];
const KEYS: Record<View, string[]> = {
  public: PUBLIC_KEYS.toSorted(),
  research: [...PUBLIC_KEYS, 'visibility', 'version', 'createdAt'].toSorted(),
  full: [...PUBLIC_KEYS, 'visibility', 'version', 'createdAt', 'internalNotes'].toSorted(),
};

/** Every error leaves the API as problem+json; `call` checks that on each error it sees. */
function expectProblem(response: ApiResponse) {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({
    type: expect.stringMatching(/^\/problems\/[a-z-]+$/),
    title: expect.any(String),
    status: response.status,
    requestId: expect.any(String),
  });
}

async function call(method: string, path: string, key?: string, body?: unknown, headers?: Record<string, string>) {
  const response = await request(app, method, path, { key, body, ...(headers ? { headers } : {}) });
  if (response.status >= 400) expectProblem(response);
  return response;
}

async function createIncident(key = actors.editor, body: unknown = sensitiveBody()) {
  const response = await call('POST', '/v1/incidents', key, body);
  expect(response.status).toBe(201);
  return response.body as { id: string; version: number; visibility: string; verificationStatus: string };
}

async function publish(id: string, key = actors.reviewer) {
  const response = await call('POST', `/v1/incidents/${id}/publish`, key, {});
  expect(response.status).toBe(200);
  return response.body as { id: string; version: number; visibility: string; verificationStatus: string };
}

/** Every page of the list, following nextCursor. */
async function listAll(key: string | undefined) {
  const items: any[] = [];
  const texts: string[] = [];
  let cursor: string | null = null;
  do {
    const response = await call('GET', `/v1/incidents?limit=200${cursor ? `&cursor=${cursor}` : ''}`, key);
    expect(response.status).toBe(200);
    items.push(...response.body.data);
    texts.push(response.text);
    cursor = response.body.nextCursor;
  } while (cursor);
  return { items, texts };
}

function expectView(body: any, view: View) {
  expect(Object.keys(body).toSorted()).toEqual(KEYS[view]);
  if (view === 'full') {
    expect(body.internalNotes).toEqual(expect.any(String));
    expect(body.organisation).toEqual({ id: expect.any(String), name: expect.any(String) });
    expect(body.victims[1]).toMatchObject({ id: expect.any(String), protected: true, name: expect.not.stringMatching(/withheld/) });
    expect(body.sources.map((source: any) => source.public)).toEqual([true, false]);
    return;
  }
  expect(Object.keys(body.organisation)).toEqual(['name']);
  expect(body.victims[0]).toMatchObject({ name: 'Public Person', protected: false });
  expect(body.victims[0]).not.toHaveProperty('id');
  expect(body.victims[1]).toEqual({ name: 'name withheld', protected: true, role: 'activist', outcome: 'threatened' });
  expect(body.sources).toEqual([{ url: PUBLIC_SOURCE.url, title: PUBLIC_SOURCE.title, kind: 'media_report', publisher: null, publishedOn: null }]);
}

const ids = {} as Record<Fixture, string>;
let revokedKey: string;

beforeAll(async () => {
  app = await startTestApp();
  actors = await createActors(app.db);
  ids.draft = (await createIncident()).id;
  ids.published = (await publish((await createIncident()).id)).id;
  ids.otherDraft = (await createIncident(actors.otherEditor, incidentBody())).id;
  const doomed = await publish((await createIncident()).id);
  expect((await call('DELETE', `/v1/incidents/${doomed.id}`, actors.editor, { reason: 'Duplicate', version: doomed.version })).status).toBe(204);
  ids.deleted = doomed.id;
  ids.missing = randomUUID();

  const revocable = await insertApiKey(app.db, { organisationId: actors.ownOrganisation.id, name: 'soon revoked', role: 'editor' });
  expect((await call('GET', '/v1/incidents', revocable.key)).status).toBe(200);
  await revokeApiKey(app.db, revocable.id);
  revokedKey = revocable.key;
});
afterAll(() => app?.close());

// ---------------------------------------------------------------- reads

const READS: Record<Reader, Record<Fixture, View | 404>> = {
  public: { draft: 404, published: 'public', otherDraft: 404, deleted: 404, missing: 404 },
  admin: { draft: 404, published: 'public', otherDraft: 404, deleted: 404, missing: 404 },
  editor: { draft: 'full', published: 'full', otherDraft: 404, deleted: 404, missing: 404 },
  reviewer: { draft: 'full', published: 'full', otherDraft: 404, deleted: 404, missing: 404 },
  researcher: { draft: 'research', published: 'research', otherDraft: 'research', deleted: 404, missing: 404 },
  otherEditor: { draft: 404, published: 'public', otherDraft: 'full', deleted: 404, missing: 404 },
  otherReviewer: { draft: 404, published: 'public', otherDraft: 'full', deleted: 404, missing: 404 },
};

const SEES: Record<View | 404, string> = {
  full: 'sees the full record of',
  research: 'sees the redacted research shape of',
  public: 'sees only the public shape of',
  404: 'gets 404 for',
};

describe('GET /v1/incidents/:id', () => {
  const rows = (Object.keys(READS) as Reader[]).flatMap((reader) =>
    (Object.keys(FIXTURES) as Fixture[]).map((fixture) => ({
      reader, fixture, expected: READS[reader][fixture],
      name: `${READERS[reader]} ${SEES[READS[reader][fixture]]} ${FIXTURES[fixture]}`,
    })),
  );

  it.each(rows)('$name', async ({ reader, fixture, expected }) => {
    const response = await call('GET', `/v1/incidents/${ids[fixture]}`, keyOf(reader));
    if (expected === 404) {
      expect(response.status).toBe(404);
      return;
    }
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(ids[fixture]);
    expectView(response.body, expected);
  });

  it("answers for another organisation's draft exactly as for an incident that never existed", async () => {
    const hidden = await call('GET', `/v1/incidents/${ids.draft}`, actors.otherEditor);
    const missing = await call('GET', `/v1/incidents/${ids.missing}`, actors.otherEditor);
    expect([hidden.status, hidden.body.title, hidden.body.detail]).toEqual([missing.status, missing.body.title, missing.body.detail]);
  });
});

describe('GET /v1/incidents', () => {
  it.each(Object.keys(READS) as Reader[])('lists for %s exactly what GET by id shows, in the same shape', async (reader) => {
    const { items } = await listAll(keyOf(reader));
    for (const fixture of Object.keys(FIXTURES) as Fixture[]) {
      const listed = items.find((item) => item.id === ids[fixture]);
      const expected = READS[reader][fixture];
      if (expected === 404) expect(listed, `${fixture} should not be listed`).toBeUndefined();
      else expectView(listed, expected);
    }
  });
});

// ---------------------------------------------------------------- writes and the review routes

interface Route {
  label: string;
  method: string;
  path: (id: string) => string;
  body?: (version: number) => unknown;
  target: 'draft' | 'published';
  statuses: Record<Reader, number>;
}

const ownerEditorOnly = { editor: 200, otherEditor: 404, reviewer: 403, otherReviewer: 403, researcher: 403, admin: 403, public: 401 };
const ownerReviewerOnly = { reviewer: 200, otherReviewer: 404, editor: 403, otherEditor: 403, researcher: 403, admin: 403, public: 401 };

const ROUTES: Route[] = [
  {
    label: 'PATCH /v1/incidents/:id', method: 'PATCH', path: (id) => `/v1/incidents/${id}`, target: 'draft',
    body: (version) => ({ title: 'Retitled by the access matrix', version }), statuses: ownerEditorOnly,
  },
  {
    label: 'DELETE /v1/incidents/:id', method: 'DELETE', path: (id) => `/v1/incidents/${id}`, target: 'published',
    body: (version) => ({ reason: 'Entered twice', version }), statuses: { ...ownerEditorOnly, editor: 204 },
  },
  {
    label: 'POST /v1/incidents/:id/verification', method: 'POST', path: (id) => `/v1/incidents/${id}/verification`, target: 'published',
    body: (version) => ({ status: 'verified', note: 'Confirmed with two sources', version }), statuses: ownerReviewerOnly,
  },
  {
    label: 'POST /v1/incidents/:id/publish', method: 'POST', path: (id) => `/v1/incidents/${id}/publish`, target: 'draft',
    body: (version) => ({ version }), statuses: ownerReviewerOnly,
  },
  {
    label: 'POST /v1/incidents/:id/unpublish', method: 'POST', path: (id) => `/v1/incidents/${id}/unpublish`, target: 'published',
    body: (version) => ({ version }), statuses: ownerReviewerOnly,
  },
  {
    label: 'GET /v1/incidents/:id/history of a published incident', method: 'GET', path: (id) => `/v1/incidents/${id}/history`,
    target: 'published', statuses: { editor: 200, reviewer: 200, researcher: 200, otherEditor: 403, otherReviewer: 403, admin: 403, public: 401 },
  },
  {
    label: 'GET /v1/incidents/:id/audit of a published incident', method: 'GET', path: (id) => `/v1/incidents/${id}/audit`,
    target: 'published', statuses: { editor: 200, reviewer: 200, researcher: 403, otherEditor: 403, otherReviewer: 403, admin: 403, public: 401 },
  },
  {
    label: 'GET /v1/incidents/:id/history of a draft', method: 'GET', path: (id) => `/v1/incidents/${id}/history`,
    target: 'draft', statuses: { editor: 200, reviewer: 200, researcher: 200, otherEditor: 404, otherReviewer: 404, admin: 404, public: 404 },
  },
  {
    label: 'GET /v1/incidents/:id/audit of a draft', method: 'GET', path: (id) => `/v1/incidents/${id}/audit`,
    target: 'draft', statuses: { editor: 200, reviewer: 200, researcher: 403, otherEditor: 404, otherReviewer: 404, admin: 404, public: 404 },
  },
];

const GRANTED: Record<number, string> = { 200: 'may use', 204: 'may use', 401: 'gets 401 from', 403: 'gets 403 from', 404: 'gets 404 from' };

describe('routes that need a role', () => {
  const createStatuses: Record<Reader, number> = {
    editor: 201, otherEditor: 201, reviewer: 403, otherReviewer: 403, researcher: 403, admin: 403, public: 401,
  };
  it.each((Object.keys(createStatuses) as Reader[]).map((reader) => ({
    reader, status: createStatuses[reader], name: `${READERS[reader]} ${createStatuses[reader] === 201 ? 'may use' : GRANTED[createStatuses[reader]]} POST /v1/incidents`,
  })))('$name', async ({ reader, status }) => {
    const before = (await listAll(actors.researcher)).items.length;
    const response = await call('POST', '/v1/incidents', keyOf(reader), incidentBody());
    expect(response.status).toBe(status);
    // The researcher sees every organisation's drafts, so the count shows whether anything was written.
    expect((await listAll(actors.researcher)).items.length).toBe(before + (status === 201 ? 1 : 0));
    if (status === 201) expect(response.body.organisation.id).toBe(reader === 'editor' ? actors.ownOrganisation.id : actors.otherOrganisation.id);
  });

  const rows = ROUTES.flatMap((route) =>
    (Object.keys(route.statuses) as Reader[]).map((reader) => ({
      route, reader, status: route.statuses[reader], name: `${READERS[reader]} ${GRANTED[route.statuses[reader]]} ${route.label}`,
    })),
  );

  it.each(rows)('$name', async ({ route, reader, status }) => {
    let target = await createIncident();
    if (route.target === 'published') target = await publish(target.id);
    const response = await call(route.method, route.path(target.id), keyOf(reader), route.body?.(target.version));
    expect(response.status).toBe(status);
    if (route.method === 'GET') {
      if (status === 200) expect(response.body.data).toEqual(expect.any(Array));
      return;
    }
    // A refused write changes nothing; an allowed one bumps the version (or removes the incident).
    const after = await call('GET', `/v1/incidents/${target.id}`, actors.editor);
    if (status === 204) {
      expect(after.status).toBe(404);
    } else if (status === 200) {
      expect(after.body.version).toBe(target.version + 1);
    } else {
      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({ version: target.version, visibility: target.visibility, verificationStatus: target.verificationStatus });
    }
  });
});

// ---------------------------------------------------------------- bad keys

describe('a bad bearer key is refused, never downgraded to public access', () => {
  const credentials: [string, () => Record<string, string>][] = [
    ['an unknown key', () => ({ authorization: `Bearer ${generateApiKey().key}` })],
    ['a revoked key', () => ({ authorization: `Bearer ${revokedKey}` })],
    ['a non-bearer Authorization header', () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
    ['an empty bearer token', () => ({ authorization: 'Bearer ' })],
  ];
  const paths: [string, () => string][] = [
    ['the list', () => '/v1/incidents'],
    ['a published incident', () => `/v1/incidents/${ids.published}`],
    ['an incident write', () => `/v1/incidents/${ids.draft}/publish`],
  ];
  it.each(credentials.flatMap(([credential, headers]) => paths.map(([what, path]) => ({ credential, headers, what, path }))))(
    '$credential gets 401 problem+json for $what',
    async ({ headers, path }) => {
      const response = await call(path().endsWith('/publish') ? 'POST' : 'GET', path(), undefined, undefined, headers());
      expect(response.status).toBe(401);
      expect(response.body.type).toBe('/problems/unauthenticated');
    },
  );
});

// ---------------------------------------------------------------- redaction

describe('redaction', () => {
  const ownSecrets = Object.values(SECRET);
  const paths = () => [
    `/v1/incidents/${ids.published}`,
    `/v1/incidents/${ids.draft}`,
    `/v1/incidents/${ids.deleted}`,
    `/v1/incidents/${ids.published}/history`,
    `/v1/incidents/${ids.published}/audit`,
  ];
  // Editors and reviewers of the other organisation legitimately see their own incidents in full.
  const readers: [Reader, string[]][] = [
    ['public', [...ownSecrets, ...OTHER_SECRETS]],
    ['admin', [...ownSecrets, ...OTHER_SECRETS]],
    ['researcher', [...ownSecrets, ...OTHER_SECRETS]],
    ['otherEditor', ownSecrets],
    ['otherReviewer', ownSecrets],
  ];

  it('stores the confidential values, so the checks below are not vacuous', async () => {
    const { text } = await call('GET', `/v1/incidents/${ids.published}`, actors.editor);
    for (const secret of ownSecrets) expect(text).toContain(secret);
    const other = await call('GET', `/v1/incidents/${ids.otherDraft}`, actors.otherEditor);
    for (const secret of OTHER_SECRETS) expect(other.text).toContain(secret);
    const found = await call('GET', `/v1/incidents?q=${encodeURIComponent('Public Person')}&limit=200`);
    expect(found.body.data.map((item: any) => item.id)).toContain(ids.published);
  });

  it.each(readers)('no confidential value appears anywhere in a response to %s', async (reader, forbidden) => {
    const texts = (await listAll(keyOf(reader))).texts;
    for (const path of paths()) texts.push((await call('GET', path, keyOf(reader))).text);
    for (const text of texts) {
      for (const secret of forbidden) expect(text, `leaked "${secret}"`).not.toContain(secret);
    }
  });

  // Search must not be an oracle: a confidential word may not make an incident match.
  const searches = [SECRET.name, SECRET.nameOriginal, SECRET.alias, SECRET.outlet, 'Cihangir', 'prosecutor'];
  it.each(readers.map(([reader]) => reader))('searching for a confidential value finds nothing for %s', async (reader) => {
    for (const q of searches) {
      const response = await call('GET', `/v1/incidents?q=${encodeURIComponent(q)}`, keyOf(reader));
      expect(response.status).toBe(200);
      expect(response.body.data, `q=${q}`).toEqual([]);
    }
  });
});
