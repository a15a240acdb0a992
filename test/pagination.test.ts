import { beforeAll, describe, expect, it } from 'vitest';
import {
  freshGet,
  modelDateSpan,
  modelMatches,
  modelVisible,
  randomIncidentBody,
  seededRandom,
  serviceWriter,
  type ModelIncident,
  type SeededRandom,
  type ServiceWriter,
  type Viewer,
} from './support/factories.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * Keyset pagination over GET /v1/incidents: every sort walks every visible incident exactly once,
 * in order, also while other requests insert and delete incidents; includeTotal; the limit.
 */

const t = useTestApp();
let writers: ServiceWriter[];
const random: SeededRandom = seededRandom(777);
const records: ModelIncident[] = [];

type Reader = 'public' | 'researcher' | 'editor' | 'otherEditor';
const READERS: Reader[] = ['public', 'researcher', 'editor', 'otherEditor'];
const SORTS = ['-date', 'date', '-updated', 'updated', 'relevance'] as const;
const keyOf = (reader: Reader) => (reader === 'public' ? undefined : t.actors[reader]);
const viewerOf = (reader: Reader): Viewer =>
  reader === 'public'
    ? { role: 'public' }
    : {
        role: reader === 'otherEditor' ? 'editor' : reader,
        organisationId: (reader === 'editor' ? t.actors.ownOrganisation : t.actors.otherOrganisation).id,
      };

/** Few distinct start dates, so many rows tie on the sort key and the id must break the tie. */
const DATES = [
  { precision: 'day', value: '2020-05-05' },
  { precision: 'day', value: '2020-05-01' },
  { precision: 'month', value: '2020-05' },
  { precision: 'year', value: '2019' },
  { precision: 'range', from: '2019-01-01', to: '2020-05-05' },
];
const TITLES = ['Pagewalk report', 'Pagewalkers met the reporter', 'A long note on the pagewalk incident near the port'];

function create(tag: 'Pagewalk' | 'Churnwalk', overrides: Record<string, unknown> = {}, publish = random.chance(0.7)) {
  const writer = random.pick(writers);
  const title = random.pick(TITLES).replace(/pagewalk/i, tag);
  return writer.create(randomIncidentBody(random, records.length, { title, date: random.pick(DATES), ...overrides }), { publish });
}

async function page(query: Record<string, string>, reader: Reader = 'public') {
  const response = await freshGet(t.app, `/v1/incidents?${new URLSearchParams(query)}`, keyOf(reader));
  expect(response.status, response.text).toBe(200);
  return response.body as {
    data: Array<{ id: string; date: { start: string }; updatedAt: string }>;
    nextCursor: string | null;
    total?: number;
  };
}

/** Every page in turn, following nextCursor. */
async function walk(query: Record<string, string>, reader: Reader) {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const body = await page({ ...query, ...(cursor ? { cursor } : {}) }, reader);
    pages.push(body.data.map((incident) => incident.id));
    cursor = body.nextCursor;
    expect(pages.length).toBeLessThan(500);
  } while (cursor);
  return pages;
}

/** The order the sort promises, computed in JS (relevance has no JS model: only the set is checked). */
function expectedOrder(sort: (typeof SORTS)[number], items: ModelIncident[]) {
  const key = (record: ModelIncident) => (sort.endsWith('date') ? modelDateSpan(record.input.date)[0] : record.updatedAt);
  const ascending = items.toSorted((a, b) => key(a).localeCompare(key(b)) || (a.id < b.id ? -1 : 1));
  return (sort.startsWith('-') ? ascending.toReversed() : ascending).map((record) => record.id);
}

const visibleFor = (reader: Reader, params: Record<string, string> = {}) =>
  records.filter((record) => modelVisible(record, viewerOf(reader)) && modelMatches(record, params, viewerOf(reader)));

beforeAll(async () => {
  writers = [await serviceWriter(t.app.db, t.actors.ownOrganisation.id), await serviceWriter(t.app.db, t.actors.otherOrganisation.id)];
  for (let index = 0; index < 60; index++) records.push(await create('Pagewalk'));
}, 120_000);

describe('walking nextCursor', () => {
  // Every reader with one page size; the smallest and largest page sizes for the reader who sees most.
  const WALKS = SORTS.flatMap((sort) => [
    ...READERS.map((reader) => ({ sort, reader, limit: '7' })),
    ...['1', '200'].map((limit) => ({ sort, reader: 'researcher' as Reader, limit })),
  ]);
  it.each(WALKS)('sort=$sort, limit=$limit as $reader returns every visible incident once, in order', async ({ sort, reader, limit }) => {
    const query = { sort, limit, ...(sort === 'relevance' ? { q: 'pagewalk' } : {}) };
    const pages = await walk(query, reader);
    const ids = pages.flat();
    const visible = visibleFor(reader);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages.every((ids) => ids.length <= Number(limit))).toBe(true);
    expect(pages.slice(0, -1).every((ids) => ids.length === Number(limit))).toBe(true);
    if (sort === 'relevance') expect(ids.toSorted()).toEqual(visible.map((record) => record.id).sort());
    else expect(ids).toEqual(expectedOrder(sort, visible));
  });

  it('relevance puts the whole-word matches before the partial ones', async () => {
    const ids = (await walk({ sort: 'relevance', q: 'pagewalk', limit: '5' }, 'researcher')).flat();
    const whole = (id: string) => !records.find((record) => record.id === id)!.input.title.startsWith('Pagewalkers');
    const firstPartial = ids.findIndex((id) => !whole(id));
    expect(firstPartial).toBeGreaterThan(0);
    expect(ids.slice(firstPartial).every((id) => !whole(id))).toBe(true);
  });

  it.each([
    ['a cursor of another sort', async () => (await page({ sort: 'date', limit: '2' })).nextCursor!, '-date'],
    ['a made-up cursor', async () => Buffer.from('["-date","2020-01-01","not-an-id"]').toString('base64url'), '-date'],
    ['garbage', async () => '!!!', '-date'],
  ])('%s is 400 naming the cursor', async (_name, cursorOf, sort) => {
    const response = await freshGet(t.app, `/v1/incidents?${new URLSearchParams({ sort, cursor: await cursorOf() })}`);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ parameter: 'cursor' })]);
  });
});

describe('includeTotal', () => {
  const FILTERS: Array<Record<string, string>> = [{}, { country: 'TR,SY' }, { attackType: 'killing' }];
  const TOTALS = READERS.flatMap((reader) => FILTERS.map((filters) => ({ reader, filters })));
  it.each(TOTALS)('as $reader with $filters counts every match, on every page', async ({ reader, filters }) => {
    const expected = visibleFor(reader, filters).length;
    const first = await page({ ...filters, includeTotal: 'true', limit: '3' }, reader);
    expect(first.total).toBe(expected);
    if (first.nextCursor)
      expect((await page({ ...filters, includeTotal: 'true', limit: '3', cursor: first.nextCursor }, reader)).total).toBe(expected);
    expect(await page({ ...filters, limit: '3' }, reader)).not.toHaveProperty('total');
  });
});

describe('while others insert and delete', () => {
  it.each(SORTS)(
    'sort=%s never repeats a row, never returns a row deleted before the page, and returns every row that stayed',
    async (sort) => {
      const location = { country: 'CL', region: `Churn ${sort}` }; // each sort churns its own rows
      for (let index = 0; index < 14; index++) records.push(await create('Churnwalk', { location }, true));
      const query = { sort, limit: '4', region: location.region, ...(sort === 'relevance' ? { q: 'churnwalk' } : {}) };
      const initial = visibleFor('public', { region: location.region });
      expect(initial).toHaveLength(14);
      const inserted: string[] = [];
      const deletedBefore: string[] = []; // deletions finished before the page request started
      const deletedDuring: string[] = [];
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const alreadyDeleted = [...deletedBefore];
        const seen = new Set(pages.flat());
        const unseen = initial.filter((record) => !record.deleted && !seen.has(record.id));
        const seenLive = initial.filter((record) => !record.deleted && seen.has(record.id));
        const mutate = async () => {
          for (const victim of [random.pick(unseen.length ? unseen : initial), seenLive.length ? random.pick(seenLive) : undefined]) {
            if (!victim || victim.deleted) continue;
            await writers.find((writer) => writer.organisationId === victim.organisationId)!.remove(victim);
            deletedDuring.push(victim.id);
          }
          const record = await create('Churnwalk', { location }, true);
          records.push(record);
          inserted.push(record.id);
        };
        const pending = page({ ...query, ...(cursor ? { cursor } : {}) });
        await Promise.all([pending, pages.length ? mutate() : undefined]);
        const body = await pending;
        pages.push(body.data.map((incident) => incident.id));
        for (const id of pages.at(-1)!) expect(alreadyDeleted, 'a row deleted before this page was requested').not.toContain(id);
        deletedBefore.push(...deletedDuring.splice(0));
        cursor = body.nextCursor;
      } while (cursor);

      const ids = pages.flat();
      expect(new Set(ids).size).toBe(ids.length);
      const stayed = initial.filter((record) => !record.deleted).map((record) => record.id);
      expect(stayed.length).toBeGreaterThan(0);
      expect(ids).toEqual(expect.arrayContaining(stayed));
      expect(deletedBefore.length).toBeGreaterThan(2);
      for (const id of ids) expect([...initial.map((record) => record.id), ...inserted]).toContain(id);
    },
  );
});

describe('limit', () => {
  it('200 is the largest page: exactly 200 rows and a cursor when more exist', async () => {
    // Only the count matters here, so the extra rows go in with one plain INSERT.
    const filler = Array.from({ length: 201 }, (_, index) => ({
      organisation_id: t.actors.otherOrganisation.id,
      title: `Filler ${index}`,
      country: 'CL',
      attack_types: ['other'],
      date_start: '2021-01-01',
      date_end: '2021-01-01',
      date_precision: 'day',
      created_at: new Date(),
      updated_at: new Date(),
    }));
    await t.app.db.insertInto('incidents').values(filler).execute();
    const body = await page({ limit: '200' }, 'researcher');
    expect(body.data).toHaveLength(200);
    expect(body.nextCursor).toEqual(expect.any(String));
    expect((await page({}, 'researcher')).data).toHaveLength(50); // the default
  });

  it.each(['201', '0', '-1', '2.5', 'many'])('limit=%s is 400 problem+json', async (limit) => {
    const response = await freshGet(t.app, `/v1/incidents?limit=${limit}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.errors).toEqual([expect.objectContaining({ parameter: 'limit' })]);
  });
});
