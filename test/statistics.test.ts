import { beforeAll, describe, expect, it } from 'vitest';
import {
  freshGet,
  modelDateSpan,
  modelMatches,
  modelVictimMatches,
  modelVisible,
  ownOrganisationOf,
  randomIncidentBody,
  seededRandom,
  serviceWriter,
  type ModelIncident,
  type ServiceWriter,
  type Viewer,
} from './support/factories.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * GET /v1/stats against counts computed in plain JS from the records the test wrote: every
 * dimension alone and in pairs, for several readers, with and without filters.
 */

const t = useTestApp();
let own: ServiceWriter;
const records: ModelIncident[] = [];

type Reader = 'public' | 'researcher' | 'editor' | 'otherEditor';
const READERS: Reader[] = ['public', 'researcher', 'editor', 'otherEditor'];
const keyOf = (reader: Reader) => (reader === 'public' ? undefined : t.actors[reader]);
const viewerOf = (reader: Reader): Viewer =>
  reader === 'public'
    ? { role: 'public' }
    : {
        role: reader === 'otherEditor' ? 'editor' : reader,
        organisationId: (reader === 'editor' ? t.actors.ownOrganisation : t.actors.otherOrganisation).id,
      };

type Counts = { incidents: number; victims: number; victimsKilled: number };
type Row = Record<string, string | number | null>;

/**
 * The values an incident takes for the incident-level dimensions: several rows for multi-valued
 * ones. Like victim filters, attack-type and claim filters also limit which values are grouped.
 */
function incidentRows(record: ModelIncident, dimensions: string[], filters: Record<string, string>): Row[] {
  const { input } = record;
  const [start, end] = modelDateSpan(input.date);
  const single: Record<string, string | number | null> = {
    year: start.slice(0, 4) === end.slice(0, 4) ? Number(start.slice(0, 4)) : null,
    month: start.slice(0, 7) === end.slice(0, 7) ? start.slice(0, 7) : null,
    country: input.location.country,
    verificationStatus: record.verificationStatus,
    motive: input.motive ?? null,
    judicialOutcome: input.judicialOutcome ?? null,
  };
  let rows: Row[] = [{}];
  const cross = (options: Row[]) => (rows = rows.flatMap((row) => options.map((option) => ({ ...row, ...option }))));
  const claimDimensions = dimensions.filter((name) => name === 'actorType' || name === 'attribution');
  if (claimDimensions.length) {
    const claims = input.perpetratorClaims.filter(
      (claim) =>
        (!filters.actorType || filters.actorType.split(',').includes(claim.actorType)) &&
        (!filters.attribution || filters.attribution.split(',').includes(claim.attribution)) &&
        (!filters.actorName || claim.actorName.toLowerCase().includes(filters.actorName.toLowerCase())),
    );
    const tuples = claims.map((claim) => JSON.stringify(claimDimensions.map((name) => claim[name as 'actorType' | 'attribution'])));
    const distinct = [...new Set(tuples)].map((tuple) =>
      Object.fromEntries(claimDimensions.map((name, index) => [name, JSON.parse(tuple)[index]])),
    );
    cross(distinct.length ? distinct : [Object.fromEntries(claimDimensions.map((name) => [name, null]))]);
  }
  const attackTypes = input.attackTypes.filter((type) => !filters.attackType || filters.attackType.split(',').includes(type));
  if (dimensions.includes('attackType')) cross([...new Set(attackTypes)].map((attackType) => ({ attackType })));
  for (const name of dimensions) if (name in single) cross([{ [name]: single[name]! }]);
  return rows;
}

/** Expected non-empty groups and totals, straight from the documented rules. */
function modelStatistics(params: Record<string, string>, reader: Reader) {
  const viewer = viewerOf(reader);
  const { groupBy: groupByParam, includeDebunked, ...filters } = params;
  const groupBy = groupByParam ? groupByParam.split(',') : [];
  const byVictim = groupBy.includes('victimRole') || groupBy.includes('gender');
  const totals: Counts = { incidents: 0, victims: 0, victimsKilled: 0 };
  const groups = new Map<string, Counts & { ids: Set<string> }>();
  const add = (row: Row, id: string, victims: number, killed: number) => {
    const key = JSON.stringify(groupBy.map((name) => row[name] ?? null));
    const group = groups.get(key) ?? { incidents: 0, victims: 0, victimsKilled: 0, ids: new Set<string>() };
    group.ids.add(id);
    group.incidents = byVictim ? group.ids.size : group.incidents + 1;
    group.victims += victims;
    group.victimsKilled += killed;
    groups.set(key, group);
  };
  for (const record of records) {
    if (!modelVisible(record, viewer) || !modelMatches(record, filters, viewer)) continue;
    if (includeDebunked !== 'true' && record.verificationStatus === 'debunked') continue;
    const counted = record.input.victims.filter((victim) => modelVictimMatches(victim, record, filters, viewer));
    const killed = counted.filter((victim) => victim.outcome === 'killed').length;
    totals.incidents += 1;
    totals.victims += counted.length;
    totals.victimsKilled += killed;
    for (const row of incidentRows(record, groupBy, filters)) {
      if (!byVictim) add(row, record.id, counted.length, killed);
      else
        for (const victim of counted.length ? counted : [null]) {
          const hidden = victim?.protected && record.organisationId !== ownOrganisationOf(viewer);
          add(
            { ...row, victimRole: victim?.role ?? null, gender: hidden ? null : (victim?.gender ?? null) },
            record.id,
            victim ? 1 : 0,
            victim?.outcome === 'killed' ? 1 : 0,
          );
        }
    }
  }
  const rows = [...groups]
    .filter(() => groupBy.length > 0)
    .map(([key, { ids: _ids, ...counts }]) => [key, counts] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  return { rows, totals };
}

async function stats(query: string, reader: Reader = 'public', headers: Record<string, string> = {}) {
  return freshGet(t.app, `/v1/stats?${query}`, keyOf(reader), headers);
}
const apiRows = (body: { groupBy: string[]; groups: Array<Row & Counts> }) =>
  body.groups
    .filter((group) => group.incidents > 0) // zero-filled periods; checked separately
    .map(
      (group) =>
        [
          JSON.stringify(body.groupBy.map((name) => group[name] ?? null)),
          { incidents: group.incidents, victims: group.victims, victimsKilled: group.victimsKilled },
        ] as const,
    )
    .sort(([a], [b]) => a.localeCompare(b));

/** Every period from first to last, as the API writes it (year: number, month: 'YYYY-MM'). */
function periods(time: 'year' | 'month', first: string, last: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (let [year, month] = first.split('-').map(Number) as [number, number]; ;) {
    const current = time === 'year' ? year : `${year}-${String(month).padStart(2, '0')}`;
    out.push(current);
    if (String(current) >= last) return out;
    if (time === 'year' || month === 12) [year, month] = [year + 1, 1];
    else month++;
  }
}

beforeAll(async () => {
  own = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
  const other = await serviceWriter(t.app.db, t.actors.otherOrganisation.id);
  const random = seededRandom(4242);
  for (let index = 0; index < 50; index++) {
    const writer = random.chance(0.55) ? own : other;
    records.push(
      await writer.create(randomIncidentBody(random, index), {
        publish: random.chance(0.75),
        verification: random.pick(['unverified', 'verified', 'verified', 'disputed', 'debunked']),
      }),
    );
  }
  const hand = (key: string, overrides: Record<string, unknown>, verification = 'verified') =>
    own.create(randomIncidentBody(random, records.length, { perpetratorClaims: [], ...overrides }), { key, publish: true, verification });
  records.push(
    await hand('IS 2019', { location: { country: 'IS' }, date: { precision: 'year', value: '2019' }, victims: [] }),
    await hand('IS new year', {
      location: { country: 'IS' },
      date: { precision: 'range', from: '2014-12-20', to: '2015-01-10' },
      victims: [],
    }),
    await hand('NO protected', {
      location: { country: 'NO' },
      victims: [
        { name: 'Open', gender: 'male', role: 'journalist', outcome: 'injured' },
        { name: 'Hidden', gender: 'female', role: 'journalist', outcome: 'killed', protected: true },
      ],
    }),
    await hand('PT', {
      location: { country: 'PT' },
      attackTypes: ['killing', 'physical_assault'],
      victims: [
        { name: 'A', role: 'journalist', outcome: 'killed' },
        { name: 'B', role: 'activist', outcome: 'killed' },
        { name: 'C', role: 'journalist', outcome: 'injured' },
      ],
    }),
    await hand(
      'DK debunked',
      {
        location: { country: 'DK' },
        victims: [
          { name: 'D', outcome: 'killed' },
          { name: 'E', outcome: 'killed' },
        ],
      },
      'debunked',
    ),
  );
}, 120_000);

const DIMENSIONS = [
  'year',
  'month',
  'country',
  'attackType',
  'actorType',
  'attribution',
  'victimRole',
  'gender',
  'verificationStatus',
  'motive',
  'judicialOutcome',
];
const QUERIES = [
  '',
  ...DIMENSIONS.map((name) => `groupBy=${name}`),
  'groupBy=year,country',
  'groupBy=month,attackType',
  'groupBy=attackType,actorType',
  'groupBy=actorType,attribution',
  'groupBy=victimRole,gender',
  'groupBy=gender,country',
  'groupBy=year,victimRole',
  'groupBy=verificationStatus,motive',
  'groupBy=judicialOutcome,attribution',
  'groupBy=verificationStatus&includeDebunked=true',
  'groupBy=attackType,gender&includeDebunked=true',
  'groupBy=country&victimRole=journalist',
  'groupBy=year&victimOutcome=killed',
  'groupBy=gender&victimGender=female,non_binary',
  'groupBy=victimRole&victimRole=journalist,activist&victimOutcome=killed',
  'groupBy=attackType&country=TR,SY',
  'groupBy=year&dateFrom=2012&dateTo=2020',
  'groupBy=month&dateFrom=2016-01&dateTo=2016-12&dateMatch=within',
  'groupBy=actorType&actorName=police',
];

describe('counts match the model', () => {
  it.each(QUERIES.flatMap((query) => READERS.map((reader) => ({ query, reader }))))('"$query" as $reader', async ({ query, reader }) => {
    const response = await stats(query, reader);
    expect(response.status).toBe(200);
    const expected = modelStatistics(Object.fromEntries(new URLSearchParams(query)), reader);
    expect(response.body.totals).toEqual(expected.totals);
    expect(apiRows(response.body)).toEqual(expected.rows);
    const time = response.body.groupBy.find((name: string) => name === 'year' || name === 'month');
    if (time) {
      // zero-filled: every period between the first and last (or the date bounds) for each other value
      const known = response.body.groups
        .map((group: Row) => group[time])
        .filter((value: unknown) => value !== null)
        .map(String)
        .sort();
      const params = new URLSearchParams(query);
      const first = params.get('dateFrom') ?? known[0];
      const last = params.get('dateTo') ?? known.at(-1);
      const other = response.body.groupBy.find((name: string) => name !== time);
      expect(first && last).toBeTruthy();
      for (const value of new Set(response.body.groups.map((group: Row) => (other ? group[other] : null)))) {
        const series = response.body.groups
          .filter((group: Row) => (other ? group[other] : null) === value && group[time] !== null)
          .map((group: Row) => group[time]);
        expect(series, `series for ${other}=${value}`).toEqual(periods(time, first, last));
      }
    }
  });
});

describe('rules, by hand', () => {
  const CASES: Array<[name: string, query: string, reader: Reader, groups: Array<Row & Partial<Counts>>, totals: Counts]> = [
    [
      'a year-precision incident has a year but no month',
      'country=IS&groupBy=month',
      'public',
      [{ month: null, incidents: 2 }],
      { incidents: 2, victims: 0, victimsKilled: 0 },
    ],
    [
      'an incident spanning two years has no year',
      'country=IS&groupBy=year',
      'public',
      [
        { year: 2019, incidents: 1 },
        { year: null, incidents: 1 },
      ],
      { incidents: 2, victims: 0, victimsKilled: 0 },
    ],
    [
      'a protected gender is unknown outside its organisation',
      'country=NO&groupBy=gender',
      'public',
      [
        { gender: 'male', incidents: 1, victims: 1, victimsKilled: 0 },
        { gender: null, incidents: 1, victims: 1, victimsKilled: 1 },
      ],
      { incidents: 1, victims: 2, victimsKilled: 1 },
    ],
    [
      '... and for researchers',
      'country=NO&groupBy=gender',
      'researcher',
      [
        { gender: 'male', victims: 1 },
        { gender: null, victims: 1 },
      ],
      { incidents: 1, victims: 2, victimsKilled: 1 },
    ],
    [
      '... but known to the owning editor',
      'country=NO&groupBy=gender',
      'editor',
      [
        { gender: 'female', incidents: 1, victims: 1, victimsKilled: 1 },
        { gender: 'male', incidents: 1, victims: 1, victimsKilled: 0 },
      ],
      { incidents: 1, victims: 2, victimsKilled: 1 },
    ],
    [
      'a protected gender does not match victimGender outside its organisation',
      'country=NO&victimGender=female',
      'public',
      [],
      { incidents: 0, victims: 0, victimsKilled: 0 },
    ],
    [
      'victim filters restrict the counted victims',
      'country=PT&victimRole=journalist',
      'public',
      [],
      { incidents: 1, victims: 2, victimsKilled: 1 },
    ],
    [
      '... also per group, and a two-type incident counts in each group but once in the totals',
      'country=PT&victimOutcome=killed&groupBy=attackType',
      'public',
      [
        { attackType: 'killing', incidents: 1, victims: 2, victimsKilled: 2 },
        { attackType: 'physical_assault', incidents: 1, victims: 2, victimsKilled: 2 },
      ],
      { incidents: 1, victims: 2, victimsKilled: 2 },
    ],
    ['debunked incidents are left out by default', 'country=DK', 'public', [], { incidents: 0, victims: 0, victimsKilled: 0 }],
    [
      '... and counted with includeDebunked=true',
      'country=DK&includeDebunked=true',
      'public',
      [],
      { incidents: 1, victims: 2, victimsKilled: 2 },
    ],
  ];
  it.each(CASES)('%s', async (_name, query, reader, groups, totals) => {
    const response = await stats(query, reader);
    expect(response.status).toBe(200);
    expect(response.body.groups).toEqual(groups.map((group) => expect.objectContaining(group)));
    expect(response.body.totals).toEqual(totals);
    expect(response.body.meta.includeDebunked).toBe(query.includes('includeDebunked=true'));
  });

  it('zero-fills every year between dateFrom and dateTo', async () => {
    const response = await stats('groupBy=year&dateFrom=2005&dateTo=2025&country=IS');
    expect(response.body.groups.map((group: Row) => group.year)).toEqual([...periods('year', '2005', '2025'), null]);
    expect(response.body.groups.filter((group: Row & Counts) => group.incidents > 0).map((group: Row) => group.year)).toEqual([2019, null]);
  });
});

describe('invalid parameters are 400 problem+json', () => {
  it.each([
    ['groupBy=colour', 'groupBy'],
    ['groupBy=year,month', 'groupBy'],
    ['groupBy=country,country', 'groupBy'],
    ['groupBy=year,country,attackType', 'groupBy'],
    ['groupBy=Country', 'groupBy'],
    ['includeDebunked=yes', 'includeDebunked'],
    ['groupBy=year&dateFrom=2015-13', 'dateFrom'],
    ['sort=date', 'sort'],
  ])('%s', async (query, parameter) => {
    const response = await stats(query);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.errors.map((error: { parameter: string }) => error.parameter.split('.')[0])).toContain(parameter);
  });

  it.each(['public', 'researcher'] as const)('hasProtectedVictims is refused for %s', async (reader) => {
    expect((await stats('hasProtectedVictims=true', reader)).status).toBe(400);
  });
});

// Last: it writes, which changes the data the tests above count.
describe('conditional requests and the data version', () => {
  it('answers 304 to a matching If-None-Match, and a new ETag and higher dataVersion after a write', async () => {
    const first = await stats('groupBy=country');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/".+"$/);
    expect(first.body.meta).toEqual({ dataVersion: expect.any(Number), dataAsOf: expect.any(String), includeDebunked: false });

    const unchanged = await stats('groupBy=country', 'public', { 'if-none-match': etag });
    expect([unchanged.status, unchanged.text]).toEqual([304, '']);
    expect((await stats('groupBy=country', 'researcher', { 'if-none-match': etag })).status).toBe(200); // never across readers
    expect((await stats('groupBy=year', 'public', { 'if-none-match': etag })).status).toBe(200); // nor across queries

    records.push(await own.create(randomIncidentBody(seededRandom(1), 999, { location: { country: 'IS' } }), { publish: true }));
    const changed = await stats('groupBy=country', 'public', { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.body.meta.dataVersion).toBeGreaterThan(first.body.meta.dataVersion);
    expect(apiRows(changed.body)).toEqual(modelStatistics({ groupBy: 'country' }, 'public').rows);
  });
});
