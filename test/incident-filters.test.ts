import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  freshGet,
  modelMatches,
  modelVisible,
  randomIncidentBody,
  seededRandom,
  serviceWriter,
  listAllIds,
  type ModelIncident,
  type Viewer,
} from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Every list filter against a plain-JS model of its documented meaning (test/support/factories.ts
 * modelMatches): ~50 seeded pseudo-random incidents in two organisations, drafts and published,
 * plus hand-made ones for the edge cases. For each filter and reader, the API's id set must equal
 * the model's.
 */

const t = useTestApp();
const records: ModelIncident[] = [];
const byKey = (key: string) => records.find((record) => record.key === key)!;
const placeholders: Record<string, string> = {};

type Reader = 'public' | 'admin' | 'researcher' | 'editor' | 'reviewer' | 'otherEditor';
const READERS: Reader[] = ['public', 'admin', 'researcher', 'editor', 'reviewer', 'otherEditor'];
const keyOf = (reader: Reader) => (reader === 'public' ? undefined : t.actors[reader]);
function viewerOf(reader: Reader): Viewer {
  if (reader === 'public') return { role: 'public' };
  const inOther = reader === 'researcher' || reader === 'otherEditor';
  const organisationId = (inOther ? t.actors.otherOrganisation : t.actors.ownOrganisation).id;
  return { role: reader === 'otherEditor' ? 'editor' : reader, organisationId };
}

/** "a=1&b={own}" -> { a: '1', b: <own organisation id> } */
function paramsOf(query: string): Record<string, string> {
  const filled = query.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(placeholders[name]!));
  return Object.fromEntries(new URLSearchParams(filled));
}
const expectedIds = (query: string, reader: Reader) =>
  records
    .filter((record) => modelVisible(record, viewerOf(reader)) && modelMatches(record, paramsOf(query), viewerOf(reader)))
    .map((record) => record.id)
    .sort();
const apiIds = async (query: string, reader: Reader) => (await listAllIds(t.app, paramsOf(query), keyOf(reader))).sort();

const HAND_MADE: Array<[key: string, overrides: Record<string, unknown>]> = [
  ['year 2015', { date: { precision: 'year', value: '2015' } }],
  ['October 2015', { date: { precision: 'month', value: '2015-10' } }],
  ['20 Sep - 5 Oct 2015', { date: { precision: 'range', from: '2015-09-20', to: '2015-10-05' } }],
  ['27 Oct 2015', { date: { precision: 'day', value: '2015-10-27' } }],
  ['new year 2014/15', { date: { precision: 'range', from: '2014-12-20', to: '2015-01-10' } }],
  [
    'journalist injured, activist killed',
    {
      victims: [
        { name: 'Reporter A', role: 'journalist', outcome: 'injured' },
        { name: 'Activist B', role: 'activist', outcome: 'killed' },
      ],
    },
  ],
  [
    'IS claimed it, police accused',
    {
      perpetratorClaims: [
        { actorName: 'Islamic State', actorType: 'non_state_armed_group', attribution: 'claimed_by_perpetrator' },
        { actorName: 'Police of Veracruz', actorType: 'police', attribution: 'alleged_by_victim' },
      ],
    },
  ],
  // Turkish dotted capital I: JS lowercases "İ" to "i̇" (i + U+0307), PostgreSQL to "i".
  [
    'İzmir',
    { location: { country: 'TR', region: 'Ege', city: 'İzmir', coordinates: { latitude: 38.42, longitude: 27.14, precision: 'city' } } },
  ],
  // Gender "other" appears only on protected victims: whoever may not see it must never match it.
  [
    'protected victim of gender other',
    {
      victims: [
        { name: 'Open Person', gender: 'male', role: 'journalist' },
        { name: 'Hidden Person', gender: 'other', role: 'activist', protected: true },
      ],
    },
  ],
];

beforeAll(async () => {
  const own = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
  const other = await serviceWriter(t.app.db, t.actors.otherOrganisation.id);
  const random = seededRandom(20151027);
  for (let index = 0; index < 48; index++) {
    const writer = random.chance(0.6) ? own : other;
    const options = {
      publish: random.chance(0.7),
      verification: random.pick(['unverified', 'verified', 'disputed', 'debunked', 'under_review']),
    };
    records.push(await writer.create(randomIncidentBody(random, index), options));
  }
  for (const [key, overrides] of HAND_MADE) {
    records.push(
      await own.create(randomIncidentBody(random, records.length, { attackTypes: ['killing'], ...overrides }), { key, publish: true }),
    );
  }
  records.push(
    await other.create(
      randomIncidentBody(random, records.length, {
        victims: [{ name: 'Hidden Other', gender: 'other', protected: true }],
      }),
      { key: "other organisation's draft with a protected victim of gender other" },
    ),
  );

  placeholders.own = t.actors.ownOrganisation.id;
  placeholders.other = t.actors.otherOrganisation.id;
  placeholders.nobody = randomUUID();
  placeholders.since = records.map((record) => record.updatedAt).sort()[Math.floor(records.length / 2)]!;
  const sinceDate = new Date(Date.parse(placeholders.since) + 2 * 3600_000);
  placeholders.sinceOffset = `${sinceDate.toISOString().slice(0, 23)}+02:00`; // the same instant, written in UTC+2

  // An edit moves an old incident into updatedSince.
  const edited = records[0]!;
  const patched = await request(t.app, 'PATCH', `/v1/incidents/${edited.id}`, {
    key: edited.organisationId === t.actors.ownOrganisation.id ? t.actors.editor : t.actors.otherEditor,
    body: { title: 'Edited title', version: edited.version },
  });
  expect(patched.status).toBe(200);
  Object.assign(edited, { updatedAt: patched.body.updatedAt, version: patched.body.version });
  placeholders.edited = patched.body.updatedAt;
}, 120_000);

const CASES = [
  'country=TR',
  'country=SY,IQ',
  'region=marmara',
  'region=Aleppo, Nineveh',
  'city=istanbul,MOSUL',
  'city=Diyarbakır',
  'city=İzmir',
  'city=izmir,xalapa',
  'region=EGE',
  'attackType=killing',
  'attackType=abduction,legal_action',
  'victimRole=journalist',
  'victimRole=activist,media_worker',
  'victimOutcome=killed',
  'victimOutcome=detained,threatened',
  'victimGender=female',
  'victimGender=male,non_binary',
  'victimGender=other',
  'actorName=police',
  'actorName=GUNMEN',
  'actorName=state',
  'actorType=police,criminal_group',
  'attribution=claimed_by_perpetrator',
  'verificationStatus=verified',
  'verificationStatus=disputed,debunked',
  'motive=work_related_confirmed',
  'judicialOutcome=no_investigation,full_justice',
  'deathType=murder,crossfire',
  'deathType=unclassified&attackType=killing',
  'organisation={own}',
  'organisation={other}',
  'organisation={other},{nobody}',
  'dateFrom=2018',
  'dateTo=2012-06',
  'dateFrom=2013-03-10&dateTo=2019-07',
  'dateFrom=2013-03-10&dateTo=2019-07&dateMatch=within',
  'dateFrom=2015-10&dateTo=2015-10',
  'dateFrom=2015-10&dateTo=2015-10&dateMatch=within',
  'dateFrom=2016&dateMatch=within',
  'bbox=25,30,45,45',
  'bbox=170,-25,-170,0',
  'bbox=175,60,-160,70',
  'bbox=179,-20,-179,-10',
  'bbox=-180,-90,180,90',
  'updatedSince={since}',
  'updatedSince={sinceOffset}',
  'updatedSince={edited}',
  // combinations: AND across parameters, and one victim / one claim for the victim and claim filters
  'country=TR,SY&attackType=killing',
  'victimRole=journalist&victimOutcome=killed',
  'victimRole=journalist&victimGender=female&victimOutcome=injured,killed',
  'actorType=police&attribution=claimed_by_perpetrator',
  'actorName=islamic&attribution=claimed_by_perpetrator',
  'bbox=25,30,45,45&dateFrom=2017',
  'verificationStatus=verified,unverified&motive=work_related_confirmed,unrelated&organisation={own}',
];

describe('each filter returns exactly the incidents the model expects', () => {
  it.each(CASES.flatMap((query) => READERS.map((reader) => ({ query, reader }))))('$query as $reader', async ({ query, reader }) => {
    expect(await apiIds(query, reader)).toEqual(expectedIds(query, reader));
  });

  it.each(CASES)('%s selects some but not all incidents for some reader (the case is not vacuous)', (query) => {
    const discriminates = READERS.some((reader) => {
      const visible = records.filter((record) => modelVisible(record, viewerOf(reader))).length;
      const size = expectedIds(query, reader).length;
      return size > 0 && size < visible;
    });
    expect(discriminates).toBe(true);
  });
});

describe('hand-made edge cases, named', () => {
  const DATE_CASES: Array<[query: string, included: string[], excluded: string[]]> = [
    ['dateFrom=2015-10&dateTo=2015-10', ['year 2015', 'October 2015', '20 Sep - 5 Oct 2015', '27 Oct 2015'], ['new year 2014/15']],
    [
      'dateFrom=2015-10&dateTo=2015-10&dateMatch=within',
      ['October 2015', '27 Oct 2015'],
      ['year 2015', '20 Sep - 5 Oct 2015', 'new year 2014/15'],
    ],
    ['dateFrom=2015&dateTo=2015', ['year 2015', 'October 2015', '20 Sep - 5 Oct 2015', '27 Oct 2015', 'new year 2014/15'], []],
    [
      'dateFrom=2015&dateTo=2015&dateMatch=within',
      ['year 2015', 'October 2015', '20 Sep - 5 Oct 2015', '27 Oct 2015'],
      ['new year 2014/15'],
    ],
    ['dateFrom=2015-10-27&dateTo=2015-10-27', ['year 2015', 'October 2015', '27 Oct 2015'], ['20 Sep - 5 Oct 2015', 'new year 2014/15']],
    ['dateFrom=2015-10-27&dateTo=2015-10-27&dateMatch=within', ['27 Oct 2015'], ['year 2015', 'October 2015']],
    ['dateFrom=2015-10-01&dateTo=2015-10-04', ['year 2015', 'October 2015', '20 Sep - 5 Oct 2015'], ['27 Oct 2015']],
    ['dateTo=2014-12', ['new year 2014/15'], ['year 2015', 'October 2015']],
    ['dateTo=2014-12&dateMatch=within', [], ['new year 2014/15', 'year 2015']],
    ['victimRole=journalist&victimOutcome=killed', [], ['journalist injured, activist killed']],
    ['victimRole=journalist&victimOutcome=injured', ['journalist injured, activist killed'], []],
    ['victimRole=activist&victimOutcome=killed', ['journalist injured, activist killed'], []],
    ['actorType=police&attribution=claimed_by_perpetrator', [], ['IS claimed it, police accused']],
    ['actorName=veracruz&attribution=alleged_by_victim', ['IS claimed it, police accused'], []],
    ['victimGender=male&victimRole=activist', [], ['protected victim of gender other']],
    ['city=İzmir', ['İzmir'], []],
    ['city=izmir', ['İzmir'], []],
    ['city=İZMİR', ['İzmir'], []],
  ];
  it.each(DATE_CASES)('%s includes %j and excludes %j', async (query, included, excluded) => {
    const ids = await apiIds(query, 'public');
    for (const key of included) expect(ids, key).toContain(byKey(key).id);
    for (const key of excluded) expect(ids, key).not.toContain(byKey(key).id);
  });

  const GENDER: Array<[Reader, string[]]> = [
    ['public', []],
    ['admin', []],
    ['researcher', []],
    ['editor', ['protected victim of gender other']],
    ['reviewer', ['protected victim of gender other']],
    ['otherEditor', ["other organisation's draft with a protected victim of gender other"]],
  ];
  it.each(GENDER)("a protected victim's gender matches victimGender only for its own organisation: %s finds %j", async (reader, keys) => {
    expect(await apiIds('victimGender=other', reader)).toEqual(keys.map((key) => byKey(key).id).sort());
  });
});

describe('hasProtectedVictims', () => {
  const ALLOWED = (['editor', 'reviewer', 'otherEditor'] as const).flatMap((reader) =>
    ['true', 'false'].map((value) => ({ reader, value })),
  );
  it.each(ALLOWED)('=$value as $reader limits to own organisation and matches the model', async ({ reader, value }) => {
    const query = `hasProtectedVictims=${value}`;
    const ids = await apiIds(query, reader);
    expect(ids).toEqual(expectedIds(query, reader));
    expect(ids.length).toBeGreaterThan(0);
    const organisation = viewerOf(reader) as { organisationId: string };
    expect(ids.every((id) => records.find((record) => record.id === id)!.organisationId === organisation.organisationId)).toBe(true);
  });

  it.each(['public', 'researcher', 'admin'] as const)('is refused with 400 for %s', async (reader) => {
    for (const value of ['true', 'false']) {
      const response = await freshGet(t.app, `/v1/incidents?hasProtectedVictims=${value}`, keyOf(reader));
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.errors).toEqual([expect.objectContaining({ parameter: 'hasProtectedVictims' })]);
    }
  });
});

describe('invalid filter values are 400 problem+json naming the parameter', () => {
  const INVALID: Array<[query: string, parameter: string]> = [
    ['bbox=10,50,20,40', 'bbox'],
    ['bbox=10,50,20', 'bbox'],
    ['bbox=190,0,10,10', 'bbox'],
    ['country=tr', 'country'],
    ['country=XX', 'country'],
    ['attackType=murder', 'attackType'],
    ['victimGender=', 'victimGender'],
    ['dateFrom=2015-13', 'dateFrom'],
    ['dateTo=2015-02-30', 'dateTo'],
    ['dateFrom=15-10', 'dateFrom'],
    ['dateMatch=sometimes', 'dateMatch'],
    ['updatedSince=yesterday', 'updatedSince'],
    ['organisation=not-a-uuid', 'organisation'],
    ['actorName=x', 'actorName'],
    ['colour=red', 'colour'],
  ];
  it.each(INVALID)('%s', async (query, parameter) => {
    const response = await freshGet(t.app, `/v1/incidents?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.errors.map((error: { parameter: string }) => error.parameter.split('.')[0])).toContain(parameter);
  });
});
