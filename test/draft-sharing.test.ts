import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey, createOrganisation, incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Sharing drafts is the owning organisation's consent (PUT /v1/organisations/{id}/sharing, its
 * own admin): by default no one outside it sees its drafts; it may share them with the
 * researchers of named organisations, or of every organisation. Every read surface follows.
 */
const t = useTestApp();

/** Keys of the owner (from useTestApp), of a named partner and of a third organisation. */
const keys = {} as Record<'ownResearcher' | 'partnerResearcher' | 'partnerEditor' | 'thirdResearcher' | 'partnerAdmin', string>;
let partnerId: string;
let draft: { id: string; title: string };
let published: { id: string };
const TITLE = `Unshared draft ${randomUUID().slice(0, 8)}`;

const share = (body: unknown, key = t.actors.admin) =>
  request(t.app, 'PUT', `/v1/organisations/${t.actors.ownOrganisation.id}/sharing`, { key, body });

/** What a caller can learn of the draft through each read surface. */
async function surfaces(key: string) {
  const get = (path: string) => request(t.app, 'GET', path, { key });
  const [single, list, search, history, duplicates, exported, csv, stats] = await Promise.all([
    get(`/v1/incidents/${draft.id}`),
    get(`/v1/incidents?organisation=${t.actors.ownOrganisation.id}&limit=200`),
    get(`/v1/incidents?q=${encodeURIComponent(TITLE)}`),
    get(`/v1/incidents/${draft.id}/history`),
    get(`/v1/incidents/${draft.id}/duplicates`),
    get(`/v1/incidents/export?format=json`),
    get(`/v1/incidents/export?format=csv`),
    get(`/v1/stats?organisation=${t.actors.ownOrganisation.id}`),
  ]);
  return {
    single: single.status === 200 ? single.body.visibility : single.status,
    listed: list.body.data.some((item: { id: string }) => item.id === draft.id),
    searched: search.body.data.length,
    history: history.status,
    duplicates: duplicates.status,
    exported: exported.text.includes(draft.id),
    csv: csv.text.includes(TITLE),
    counted: stats.body.totals.incidents,
  };
}
const SEES = { single: 'draft', listed: true, searched: 1, history: 200, duplicates: 200, exported: true, csv: true, counted: 2 };
const BLIND = { single: 404, listed: false, searched: 0, history: 404, duplicates: 404, exported: false, csv: false, counted: 1 };

beforeAll(async () => {
  const partner = await createOrganisation(t.app.db);
  const third = await createOrganisation(t.app.db);
  partnerId = partner.id;
  keys.ownResearcher = await createKey(t.app.db, t.actors.ownOrganisation.id, 'researcher');
  keys.partnerResearcher = await createKey(t.app.db, partner.id, 'researcher');
  keys.partnerEditor = await createKey(t.app.db, partner.id, 'editor');
  keys.partnerAdmin = await createKey(t.app.db, partner.id, 'admin');
  keys.thirdResearcher = await createKey(t.app.db, third.id, 'researcher');
  draft = (await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody({ title: TITLE }) })).body;
  published = (await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody() })).body;
  expect((await request(t.app, 'POST', `/v1/incidents/${published.id}/publish`, { key: t.actors.reviewer, body: {} })).status).toBe(200);
});

describe('by default no one outside the organisation sees its drafts', () => {
  it('the setting reads "no-one"', async () => {
    const response = await request(t.app, 'GET', `/v1/organisations/${t.actors.ownOrganisation.id}/sharing`, { key: t.actors.admin });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ organisationId: t.actors.ownOrganisation.id, sharedWith: 'no-one', organisationIds: [] });
  });

  it("another organisation's researcher finds the draft on no read surface", async () => {
    expect(await surfaces(t.actors.researcher)).toEqual(BLIND);
  });

  it("the organisation's own researcher sees it, in the research view", async () => {
    expect(await surfaces(keys.ownResearcher)).toEqual(SEES);
  });

  it('published incidents are unaffected', async () => {
    const response = await request(t.app, 'GET', `/v1/incidents/${published.id}`, { key: keys.thirdResearcher });
    expect(response.status).toBe(200);
    expect(response.body.visibility).toBe('published');
  });
});

describe('sharing with named organisations', () => {
  beforeAll(async () => {
    const response = await share({ sharedWith: 'organisations', organisationIds: [partnerId] });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({
      organisationId: t.actors.ownOrganisation.id,
      sharedWith: 'organisations',
      organisationIds: [partnerId],
    });
  });

  it("the named organisation's researchers see the draft everywhere, in the research view", async () => {
    expect(await surfaces(keys.partnerResearcher)).toEqual(SEES);
    const single = await request(t.app, 'GET', `/v1/incidents/${draft.id}`, { key: keys.partnerResearcher });
    expect(single.body.internalNotes).toBeUndefined();
    expect(JSON.stringify(single.body)).not.toContain('Secret Witness Name');
  });

  it("the named organisation's editors do not (sharing is with researchers)", async () => {
    expect((await request(t.app, 'GET', `/v1/incidents/${draft.id}`, { key: keys.partnerEditor })).status).toBe(404);
  });

  it('a third organisation still sees nothing', async () => {
    expect(await surfaces(keys.thirdResearcher)).toEqual(BLIND);
  });
});

describe('sharing with all researchers, then with no one again', () => {
  it('all researchers see the draft; taking it back hides it again', async () => {
    expect((await share({ sharedWith: 'all-researchers' })).status).toBe(200);
    expect(await surfaces(keys.thirdResearcher)).toEqual(SEES);
    expect((await share({ sharedWith: 'no-one' })).status).toBe(200);
    expect(await surfaces(keys.thirdResearcher)).toEqual(BLIND);
    expect(await surfaces(keys.partnerResearcher)).toEqual(BLIND);
  });
});

describe('who may set it, and bad input', () => {
  it.each([
    ['anonymous', undefined, 401],
    ['an editor of the organisation', 'editor', 403],
    ['an admin of another organisation', 'partnerAdmin', 403],
  ] as const)('%s: %s, nothing changes', async (_who, which, status) => {
    const key = which === 'editor' ? t.actors.editor : which ? keys[which] : undefined;
    const response = await request(t.app, 'PUT', `/v1/organisations/${t.actors.ownOrganisation.id}/sharing`, {
      key,
      body: { sharedWith: 'all-researchers' },
    });
    expect(response.status).toBe(status);
    const setting = await request(t.app, 'GET', `/v1/organisations/${t.actors.ownOrganisation.id}/sharing`, { key: t.actors.admin });
    expect(setting.body.sharedWith).toBe('no-one');
  });

  it.each([
    [{ sharedWith: 'organisations' }, '/organisationIds'],
    [{ sharedWith: 'organisations', organisationIds: [] }, '/organisationIds'],
    [{ sharedWith: 'everyone' }, '/sharedWith'],
    [{ sharedWith: 'all-researchers', organisationIds: [randomUUID()] }, '/organisationIds'],
  ])('%j: 400 at %s', async (body, pointer) => {
    const response = await share(body);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { pointer: string }) => error.pointer)).toContain(pointer);
  });

  it('an unknown organisation, and its own: 400 naming the item', async () => {
    const unknown = randomUUID();
    const response = await share({ sharedWith: 'organisations', organisationIds: [unknown, t.actors.ownOrganisation.id] });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      { pointer: '/organisationIds/0', detail: `no organisation has the id ${unknown}` },
      { pointer: '/organisationIds/1', detail: 'your own organisation sees its drafts already' },
    ]);
  });

  it('every change is audited with the setting before and after', async () => {
    const rows = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'before', 'after'])
      .where('entity_id', '=', t.actors.ownOrganisation.id)
      .where('action', '=', 'organisation.draft_sharing')
      .orderBy('id')
      .execute();
    expect(rows.map((row) => (row.after as { sharedWith: string }).sharedWith)).toEqual(['organisations', 'all-researchers', 'no-one']);
    expect((rows[0]!.before as { sharedWith: string }).sharedWith).toBe('no-one');
  });
});
