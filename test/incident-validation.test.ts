import { beforeAll, describe, expect, it } from 'vitest';
import { createActors, createKey, incidentBody } from './support/factories.ts';
import { request, useTestApp, type ApiResponse, type TestApp } from './support/test-app.ts';

/**
 * Bad input never reaches the database: every rejection is a problem+json document whose
 * errors[] name the offending fields, and the row counts are the same before and after.
 */
const t = useTestApp();
let existing: { id: string; version: number };

beforeAll(async () => {
  const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody() });
  expect(created.status).toBe(201);
  existing = created.body;
});

const TABLES = ['incidents', 'victims', 'perpetrator_claims', 'sources', 'verification_changes', 'audit_log'] as const;

/** Row counts of every written table plus each incident's version: what a rejected write must not change. */
async function snapshot(target: TestApp) {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await target.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  const versions = await target.db.selectFrom('incidents').select(['id', 'version']).orderBy('id').execute();
  return { counts, versions };
}

/** Sends the request and checks the problem document, the named fields and the unchanged database. */
async function expectRejected(
  send: () => Promise<ApiResponse>,
  expected: { status?: number; type?: string; fields?: string[] } = {},
  target: TestApp = t.app,
) {
  const { status = 400, type = '/problems/validation-failed', fields } = expected;
  const before = await snapshot(target);
  const response = await send();
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type, status, title: expect.any(String) });
  if (fields) {
    const errors: Array<{ pointer?: string; parameter?: string; detail: string }> = response.body.errors;
    for (const error of errors) expect(error.detail).toEqual(expect.any(String));
    const named = [...new Set(errors.map((error) => error.pointer ?? error.parameter))].sort();
    expect(named, JSON.stringify(errors)).toEqual([...fields].sort());
  }
  expect(await snapshot(target)).toEqual(before);
  return response;
}

const without = (...keys: string[]) => {
  const body: Record<string, unknown> = incidentBody();
  for (const key of keys) delete body[key];
  return body;
};
const victim = (fields: Record<string, unknown>) => ({ victims: [{ name: 'A Reporter', ...fields }] });
const source = (fields: Record<string, unknown>) => ({ sources: [{ title: 'Report', kind: 'media_report', ...fields }] });
const claim = (fields: Record<string, unknown>) => ({
  perpetratorClaims: [{ actorName: 'Someone', actorType: 'police', attribution: 'alleged_by_victim', ...fields }],
});
const day = (value: string) => ({ date: { precision: 'day', value } });

describe('POST /v1/incidents rejects invalid bodies', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    // wrong types and missing fields
    ['title is a number', incidentBody({ title: 42 }), ['/title']],
    ['title is blank', incidentBody({ title: '   ' }), ['/title']],
    ['title is too long', incidentBody({ title: 'x'.repeat(501) }), ['/title']],
    ['attackTypes is a string', incidentBody({ attackTypes: 'killing' }), ['/attackTypes']],
    ['victims is an object', incidentBody({ victims: { name: 'A' } }), ['/victims']],
    ['protected is a string', incidentBody(victim({ protected: 'yes' })), ['/victims/0/protected']],
    ['aliases hold a number', incidentBody(victim({ aliases: ['Ali', 7] })), ['/victims/0/aliases/1']],
    ['date is a plain string', incidentBody({ date: '2015-10-01' }), ['/date']],
    [
      'latitude out of range',
      incidentBody({ location: { country: 'TR', coordinates: { latitude: 91, longitude: 0, precision: 'exact' } } }),
      ['/location/coordinates/latitude'],
    ],
    ['required fields missing', without('title', 'date', 'location', 'attackTypes'), ['/title', '/date', '/location', '/attackTypes']],
    ['no attack type', incidentBody({ attackTypes: [] }), ['/attackTypes']],
    ['an attack type twice', incidentBody({ attackTypes: ['killing', 'killing'] }), ['/attackTypes']],
    [
      'several bad fields at once',
      incidentBody({ title: '', location: { country: 'tr' }, ...victim({ role: 'blogger' }) }),
      ['/title', '/location/country', '/victims/0/role'],
    ],
    // unknown taxonomy codes
    ['unknown attack type', incidentBody({ attackTypes: ['killing', 'beheading'] }), ['/attackTypes/1']],
    ['unknown victim role', incidentBody(victim({ role: 'blogger' })), ['/victims/0/role']],
    ['unknown victim outcome', incidentBody(victim({ outcome: 'fine' })), ['/victims/0/outcome']],
    ['unknown source kind', incidentBody(source({ kind: 'tweet' })), ['/sources/0/kind']],
    ['unknown actor type', incidentBody(claim({ actorType: 'aliens' })), ['/perpetratorClaims/0/actorType']],
    ['blank actor name', incidentBody(claim({ actorName: ' ' })), ['/perpetratorClaims/0/actorName']],
    ['unknown attribution', incidentBody(claim({ attribution: 'rumour' })), ['/perpetratorClaims/0/attribution']],
    ['unknown motive', incidentBody({ motive: 'revenge' }), ['/motive']],
    // unknown fields, top level and nested
    ['unknown top-level field', incidentBody({ unknownField: 1 }), ['/unknownField']],
    ['unknown field needing pointer escapes', incidentBody({ 'a/b~c': 1 }), ['/a~1b~0c']],
    [
      'server-owned field',
      incidentBody({ verificationStatus: 'verified', visibility: 'published' }),
      ['/verificationStatus', '/visibility'],
    ],
    ['version on create', incidentBody({ version: 1 }), ['/version']],
    ['unknown victim field', incidentBody(victim({ age: 30 })), ['/victims/0/age']],
    ['unknown location field', incidentBody({ location: { country: 'TR', street: 'Main St' } }), ['/location/street']],
    ['unknown date field', incidentBody({ date: { precision: 'day', value: '2015-01-01', approximate: true } }), ['/date/approximate']],
    ['unknown source field', incidentBody(source({ archived: true })), ['/sources/0/archived']],
    // impossible dates
    ['30 February', incidentBody(day('2015-02-30')), ['/date/value']],
    ['29 February in a common year', incidentBody(day('2023-02-29')), ['/date/value']],
    ['29 February 1900 (century rule)', incidentBody(day('1900-02-29')), ['/date/value']],
    ['day in month 13', incidentBody(day('2015-13-01')), ['/date/value']],
    ['month 13', incidentBody({ date: { precision: 'month', value: '2015-13' } }), ['/date/value']],
    ['day not in YYYY-MM-DD', incidentBody(day('27/12/2015')), ['/date/value']],
    ['value does not fit the precision', incidentBody({ date: { precision: 'year', value: '2015-10' } }), ['/date/value']],
    ['unknown precision', incidentBody({ date: { precision: 'week', value: '2015-W01' } }), ['/date/precision']],
    ['range from after to', incidentBody({ date: { precision: 'range', from: '2017-09-30', to: '2017-09-20' } }), ['/date/to']],
    ['range with an impossible day', incidentBody({ date: { precision: 'range', from: '2017-02-30', to: '2017-03-02' } }), ['/date/from']],
    ['range without to', incidentBody({ date: { precision: 'range', from: '2017-09-20' } }), ['/date/to']],
    ['future day', incidentBody(day('2999-01-01')), ['/date/value']],
    ['future month', incidentBody({ date: { precision: 'month', value: '2999-01' } }), ['/date/value']],
    ['future year', incidentBody({ date: { precision: 'year', value: '2999' } }), ['/date/value']],
    ['year 1800', incidentBody({ date: { precision: 'year', value: '1800' } }), ['/date/value']],
    ['day in 1800', incidentBody(day('1800-06-01')), ['/date/value']],
    ['source published on an impossible day', incidentBody(source({ publishedOn: 'yesterday' })), ['/sources/0/publishedOn']],
    // countries
    ['country XX', incidentBody({ location: { country: 'XX' } }), ['/location/country']],
    ['lower-case country', incidentBody({ location: { country: 'tr' } }), ['/location/country']],
    ['alpha-3 country', incidentBody({ location: { country: 'TUR' } }), ['/location/country']],
    ['grouping that is not a country', incidentBody({ location: { country: 'EU' } }), ['/location/country']],
    ['retired code (Yugoslavia)', incidentBody({ location: { country: 'YU' } }), ['/location/country']],
    ['retired code (USSR)', incidentBody({ location: { country: 'SU' } }), ['/location/country']],
    ['unknown nationality', incidentBody(victim({ nationality: 'XX' })), ['/victims/0/nationality']],
    ['four letters that are no former country', incidentBody({ location: { country: 'ABCD' } }), ['/location/country']],
    ['a former country in lower case', incidentBody({ location: { country: 'yucs' } }), ['/location/country']],
    // type of death
    ['type of death on an incident that is no killing', incidentBody({ deathType: 'murder' }), ['/deathType']],
    ['unknown type of death', incidentBody({ attackTypes: ['killing'], deathType: 'accident' }), ['/deathType']],
    // URLs and sources
    ['URL that is not a URL', incidentBody(source({ url: 'not a url' })), ['/sources/0/url']],
    ['ftp URL', incidentBody(source({ url: 'ftp://example.org/report.pdf' })), ['/sources/0/url']],
    ['javascript URL', incidentBody(source({ url: 'javascript:alert(1)' })), ['/sources/0/url']],
    ['source with neither url nor title', incidentBody({ sources: [{ kind: 'video' }] }), ['/sources/0/title']],
    // ids on a new incident's children are checked after the schema
    ['child id on create', incidentBody(victim({ id: crypto.randomUUID() })), ['/victims/0/id']],
  ])('%s', async (_name, body, fields) => {
    await expectRejected(() => request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body }), { fields });
  });

  it.each([
    ['truncated', '{"title": '],
    ['trailing comma', '{"title": "x",}'],
    ['single quotes', "{'title': 'x'}"],
  ])('answers malformed JSON (%s) with /problems/malformed-json', async (_name, rawBody) => {
    const response = await expectRejected(() => request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, rawBody }), {
      type: '/problems/malformed-json',
    });
    expect(response.body.errors).toBeUndefined();
  });

  it.each([
    ['a JSON array', { rawBody: '[]' }],
    ['JSON null', { rawBody: 'null' }],
  ])('rejects %s with the whole body ("") as the pointer', async (_name, options) => {
    await expectRejected(() => request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, ...options }), { fields: [''] });
  });

  it('rejects no body at all by naming each required field, as for an empty object', async () => {
    const response = await expectRejected(() => request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor }), {
      fields: ['/title', '/date', '/location', '/attackTypes'],
    });
    const empty = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: {} });
    expect(response.body.errors).toEqual(empty.body.errors);
  });

  it('rejects JSON sent as text/plain with 415 naming application/json', async () => {
    const response = await expectRejected(
      () =>
        request(t.app, 'POST', '/v1/incidents', {
          key: t.actors.editor,
          rawBody: JSON.stringify(incidentBody()),
          headers: { 'content-type': 'text/plain' },
        }),
      { status: 415, type: '/problems/unsupported-media-type' },
    );
    expect(response.body.detail).toContain('application/json');
  });
});

describe('oversized bodies', () => {
  const small = useTestApp({ BODY_LIMIT: '10kb' }, { actors: false });

  it('answers a body over BODY_LIMIT with 413 and writes nothing', async () => {
    const smallActors = await createActors(small.app.db);
    const body = incidentBody({ description: 'x'.repeat(20_000) });
    await expectRejected(
      () => request(small.app, 'POST', '/v1/incidents', { key: smallActors.editor, body }),
      {
        status: 413,
        type: '/problems/payload-too-large',
      },
      small.app,
    );
    const fits = await request(small.app, 'POST', '/v1/incidents', { key: smallActors.editor, body: incidentBody() });
    expect(fits.status).toBe(201);
  });
});

describe('PATCH /v1/incidents/:id rejects invalid bodies', () => {
  it.each<[string, Record<string, unknown>, string[], Record<string, string>?]>([
    ['title set to null', { title: null }, ['/title']],
    ['no attack types', { attackTypes: [] }, ['/attackTypes']],
    ['unknown victim role', victim({ role: 'blogger' }), ['/victims/0/role']],
    ['unknown actor type', claim({ actorType: 'aliens' }), ['/perpetratorClaims/0/actorType']],
    ['impossible date', day('2015-02-30'), ['/date/value']],
    ['bad country', { location: { country: 'XX' } }, ['/location/country']],
    ['a type of death on an incident that is no killing', { deathType: 'crossfire' }, ['/deathType']],
    ['bad URL', source({ url: 'htp:/broken' }), ['/sources/0/url']],
    ['unknown field', { unknownField: true }, ['/unknownField']],
    ['moving the incident to another organisation', { organisationId: crypto.randomUUID() }, ['/organisationId']],
    ['verification through PATCH', { verificationStatus: 'verified' }, ['/verificationStatus']],
    ['version zero', { version: 0 }, ['/version']],
    ['version as a string', { version: '1' }, ['/version']],
    ['version as a fraction', { version: 1.5 }, ['/version']],
    ['malformed If-Match', { title: 'New title' }, ['If-Match'], { 'if-match': 'abc' }],
    ['If-Match and body version disagree', { title: 'New title', version: 2 }, ['/version'], { 'if-match': '"1"' }],
  ])('%s', async (_name, body, fields, headers = { 'if-match': '"1"' }) => {
    await expectRejected(() => request(t.app, 'PATCH', `/v1/incidents/${existing.id}`, { key: t.actors.editor, body, headers }), {
      fields,
    });
  });

  it('answers malformed JSON with /problems/malformed-json', async () => {
    await expectRejected(() => request(t.app, 'PATCH', `/v1/incidents/${existing.id}`, { key: t.actors.editor, rawBody: '{"title":' }), {
      type: '/problems/malformed-json',
    });
  });
});

describe('invalid parameters', () => {
  const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=100000', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['cursor=garbage', 'cursor'],
    [`cursor=${cursor(['2015-01-01'])}`, 'cursor'],
    [`cursor=${cursor(['yesterday', crypto.randomUUID()])}`, 'cursor'],
    [`cursor=${'a'.repeat(600)}`, 'cursor'],
    [`sort=-date&cursor=${cursor(['date', '2015-01-01', crypto.randomUUID()])}`, 'cursor'],
    ['colour=red', 'colour'],
  ])('GET /v1/incidents?%s names %s', async (query, parameter) => {
    const response = await expectRejected(() => request(t.app, 'GET', `/v1/incidents?${query}`), { fields: [parameter] });
    expect(response.body.errors[0]).not.toHaveProperty('pointer');
  });

  it.each<[string, string, unknown, 'editor' | 'reviewer']>([
    ['GET', '/v1/incidents/not-a-uuid', undefined, 'editor'],
    ['GET', '/v1/incidents/12345/history', undefined, 'editor'],
    ['GET', '/v1/incidents/12345/audit', undefined, 'editor'],
    ['PATCH', '/v1/incidents/12345', { title: 'x' }, 'editor'],
    ['DELETE', '/v1/incidents/00000000-0000-0000-0000-00000000000g', { reason: 'duplicate' }, 'editor'],
    ['POST', '/v1/incidents/abc/verification', { status: 'verified', note: 'checked' }, 'reviewer'],
    ['POST', '/v1/incidents/abc/publish', undefined, 'reviewer'],
  ])('%s %s names the id', async (method, path, body, role) => {
    await expectRejected(() => request(t.app, method, path, { key: t.actors[role], body, headers: { 'if-match': '"1"' } }), {
      fields: ['id'],
    });
  });
});

describe('accepted date forms', () => {
  const today = new Date().toISOString().slice(0, 10);

  it.each<[string, Record<string, string>, { precision: string; start: string; end: string }]>([
    ['a day', { precision: 'day', value: '2015-12-27' }, { precision: 'day', start: '2015-12-27', end: '2015-12-27' }],
    ['a month', { precision: 'month', value: '2015-10' }, { precision: 'month', start: '2015-10-01', end: '2015-10-31' }],
    ['February of a leap year', { precision: 'month', value: '2024-02' }, { precision: 'month', start: '2024-02-01', end: '2024-02-29' }],
    ['February of a common year', { precision: 'month', value: '2023-02' }, { precision: 'month', start: '2023-02-01', end: '2023-02-28' }],
    ['a year', { precision: 'year', value: '2015' }, { precision: 'year', start: '2015-01-01', end: '2015-12-31' }],
    [
      'a range',
      { precision: 'range', from: '2017-09-20', to: '2017-09-30' },
      { precision: 'range', start: '2017-09-20', end: '2017-09-30' },
    ],
    [
      'a one-day range',
      { precision: 'range', from: '2017-09-20', to: '2017-09-20' },
      { precision: 'range', start: '2017-09-20', end: '2017-09-20' },
    ],
    ['leap day', { precision: 'day', value: '2024-02-29' }, { precision: 'day', start: '2024-02-29', end: '2024-02-29' }],
    [
      'leap day in 2000 (400-year rule)',
      { precision: 'day', value: '2000-02-29' },
      { precision: 'day', start: '2000-02-29', end: '2000-02-29' },
    ],
    ['the first accepted day', { precision: 'day', value: '1900-01-01' }, { precision: 'day', start: '1900-01-01', end: '1900-01-01' }],
    ['today', { precision: 'day', value: today }, { precision: 'day', start: today, end: today }],
  ])('%s', async (_name, date, expected) => {
    const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody({ date }) });
    expect(created.status, created.text).toBe(201);
    expect(created.body.date).toEqual(expected);
    const read = await request(t.app, 'GET', `/v1/incidents/${created.body.id}`, { key: t.actors.editor });
    expect(read.body.date).toEqual(expected);
    const row = await t.app.db
      .selectFrom('incidents')
      .select(['date_start', 'date_end', 'date_precision'])
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ date_start: expected.start, date_end: expected.end, date_precision: expected.precision });
  });
});

describe('killings and countries that no longer exist', () => {
  it('keeps a type of death and a former country, and names the country in words', async () => {
    const body = incidentBody({
      location: { country: 'YUCS', city: 'Belgrade' },
      attackTypes: ['killing'],
      deathType: 'crossfire',
      victims: [{ name: 'A Reporter', nationality: 'SUHH', outcome: 'killed' }],
    });
    const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      deathType: 'crossfire',
      location: { country: 'YUCS', countryName: 'Yugoslavia' },
      victims: [{ nationality: 'SUHH' }],
    });
    // The research view of the draft, as its own organisation's researchers see it (drafts are not shared by default).
    const ownResearcher = await createKey(t.app.db, t.actors.ownOrganisation.id, 'researcher');
    const publicView = await request(t.app, 'GET', `/v1/incidents/${created.body.id}`, { key: ownResearcher });
    expect(publicView.body).toMatchObject({ deathType: 'crossfire', location: { countryName: 'Yugoslavia' } });
  });

  it('refuses to drop "killing" from an incident that has a type of death, and changes nothing', async () => {
    const created = await request(t.app, 'POST', '/v1/incidents', {
      key: t.actors.editor,
      body: incidentBody({ attackTypes: ['killing'], deathType: 'murder' }),
    });
    await expectRejected(
      () =>
        request(t.app, 'PATCH', `/v1/incidents/${created.body.id}`, {
          key: t.actors.editor,
          body: { attackTypes: ['physical_assault'] },
          headers: { 'if-match': '"1"' },
        }),
      { fields: ['/attackTypes'] },
    );
    const read = await request(t.app, 'GET', `/v1/incidents/${created.body.id}`, { key: t.actors.editor });
    expect(read.body).toMatchObject({ version: 1, attackTypes: ['killing'], deathType: 'murder' });
    const cleared = await request(t.app, 'PATCH', `/v1/incidents/${created.body.id}`, {
      key: t.actors.editor,
      body: { attackTypes: ['physical_assault'], deathType: null },
      headers: { 'if-match': '"1"' },
    });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.deathType).toBeNull();
  });
});
