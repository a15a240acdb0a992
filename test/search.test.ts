import { beforeAll, describe, expect, it } from 'vitest';
import { freshGet, listAllIds, modelVisible, serviceWriter, type ModelIncident, type Viewer } from './support/factories.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * Free-text search (q): which fields are searchable, which spellings of a name match each other
 * (src/incidents/search-text.ts), what is never searchable, and sort=relevance.
 */

const t = useTestApp();
const records = new Map<string, ModelIncident>();

type Reader = 'public' | 'researcher' | 'editor' | 'reviewer' | 'otherEditor';
const READERS: Reader[] = ['public', 'researcher', 'editor', 'reviewer', 'otherEditor'];
const keyOf = (reader: Reader) => (reader === 'public' ? undefined : t.actors[reader]);
const viewerOf = (reader: Reader): Viewer =>
  reader === 'public'
    ? { role: 'public' }
    : {
        role: reader === 'otherEditor' ? 'editor' : reader,
        organisationId: (['researcher', 'otherEditor'].includes(reader) ? t.actors.otherOrganisation : t.actors.ownOrganisation).id,
      };

const victim = (fields: Record<string, unknown>) => ({ role: 'journalist', outcome: 'injured', ...fields });
const body = (fields: Record<string, unknown>) => ({
  title: 'Reporter attacked',
  date: { precision: 'day', value: '2020-01-01' },
  location: { country: 'TR' },
  attackTypes: ['physical_assault'],
  ...fields,
});

/** name -> [organisation, published, body]; every searchable word in the test appears in exactly the fixtures that should match it. */
const FIXTURES: Record<string, ['own' | 'other', boolean, Record<string, unknown>]> = {
  fields: [
    'own',
    true,
    body({
      title: 'Marblehead printing house raided',
      description: 'Police searched the Thistlewood district offices.',
      victims: [victim({ name: 'Corvina Delacroix', nameOriginal: 'كورفينا ديلاكروا', aliases: ['Nightowl'], outlet: 'Lanterna Gazette' })],
      perpetratorClaims: [{ actorName: 'Brigade Ironwood', actorType: 'non_state_armed_group', attribution: 'claimed_by_perpetrator' }],
    }),
  ],
  barakat: ['own', true, body({ location: { country: 'SY' }, victims: [victim({ name: 'Hala Barakāt', outlet: 'Oruba Radio' })] })],
  mansour: ['own', true, body({ victims: [victim({ name: 'Halla Mansour' })] })],
  qader: ['own', true, body({ victims: [victim({ name: 'Abd al-Qader Hassan' })] })],
  kader: ['other', true, body({ victims: [victim({ name: 'Abdulkader Saleh' })] })],
  draft: ['other', false, body({ victims: [victim({ name: 'Hala Darwish' })] })],
  protected: [
    'own',
    true,
    body({
      title: 'Threats against a Baku editor',
      internalNotes: 'Codeword Marigoldvane; the family is in hiding.',
      victims: [
        victim({
          name: 'Zubayda Qasimova',
          nameOriginal: 'Зубайда Гасымова',
          aliases: ['Sapphire Heron'],
          outlet: 'Caspian Whisper',
          protected: true,
        }),
      ],
      sources: [
        { title: 'Falconridge memo', url: 'https://example.org/falconridge', kind: 'witness_statement', public: false },
        { title: 'Public statement', url: 'https://example.org/statement', kind: 'media_report', public: true },
      ],
    }),
  ],
  // Relevance pairs: the weaker match is the more recent one, so date order would put it first.
  kestrelExact: ['own', true, body({ title: 'Kestrel report from the border', date: { precision: 'day', value: '2019-01-01' } })],
  kestrelPartial: ['own', true, body({ title: 'Kestrelwing report from the border', date: { precision: 'day', value: '2021-01-01' } })],
  tariqAdjacent: ['other', true, body({ victims: [victim({ name: 'Tariq Nasser' })], date: { precision: 'day', value: '2018-05-05' } })],
  tariqApart: [
    'own',
    true,
    body({ title: 'Tariq and his colleagues met on Nasser street', date: { precision: 'day', value: '2022-05-05' } }),
  ],
};

beforeAll(async () => {
  const writers = {
    own: await serviceWriter(t.app.db, t.actors.ownOrganisation.id),
    other: await serviceWriter(t.app.db, t.actors.otherOrganisation.id),
  };
  for (const [key, [organisation, publish, fixture]] of Object.entries(FIXTURES)) {
    records.set(key, await writers[organisation].create(fixture, { key, publish }));
  }
}, 60_000);

/** The named fixtures the reader can see, as sorted ids. */
const visibleIds = (keys: string[], reader: Reader) =>
  keys
    .map((key) => records.get(key)!)
    .filter((record) => modelVisible(record, viewerOf(reader)))
    .map((record) => record.id)
    .sort();
const search = async (q: string, reader: Reader, extra: Record<string, string> = {}) =>
  (await listAllIds(t.app, { q, ...extra }, keyOf(reader))).sort();

describe('q searches title, description, victim names, original names, aliases, outlets and actor names', () => {
  const FIELDS: Array<[field: string, q: string]> = [
    ['title', 'Marblehead'],
    ['description', 'thistlewood'],
    ['victim name', 'Corvina Delacroix'],
    ['name in original script', 'كورفينا'],
    ['alias', 'NIGHTOWL'],
    ['outlet', 'Lanterna Gazette'],
    ['actor name', 'brigade ironwood'],
    ['two fields at once', 'marblehead ironwood'],
  ];
  it.each(READERS.flatMap((reader) => FIELDS.map(([field, q]) => ({ field, q, reader }))))(
    '$field ("$q") as $reader',
    async ({ q, reader }) => {
      expect(await search(q, reader)).toEqual(visibleIds(['fields'], reader));
    },
  );

  it('every word must match (AND), and q combines with other filters', async () => {
    expect(await search('Marblehead Kestrel', 'public')).toEqual([]);
    expect(await search('Hala', 'public', { country: 'SY' })).toEqual(visibleIds(['barakat'], 'public'));
  });
});

describe('spelling variants of a name match each other', () => {
  const VARIANTS: Array<[q: string, keys: string[]]> = [
    ['Hala', ['barakat', 'mansour', 'draft']],
    ['Halla', ['barakat', 'mansour', 'draft']],
    ['halla barakat', ['barakat']],
    ['Barakāt', ['barakat']],
    ['Barakat', ['barakat']],
    ['BARAKAT', ['barakat']],
    ['Oruba', ['barakat']],
    ['Orouba', ['barakat']],
    ['Abd al-Qader', ['qader', 'kader']],
    ['Abdulkader', ['qader', 'kader']],
    ['Abdel Kader', ['qader', 'kader']],
    ['Abdul Qader Hasan', ['qader']],
    ['Abdelkader Saleh', ['kader']],
  ];
  it.each(READERS.flatMap((reader) => VARIANTS.map(([q, keys]) => ({ q, keys, reader }))))(
    '"$q" finds $keys as $reader',
    async ({ q, keys, reader }) => {
      expect(await search(q, reader)).toEqual(visibleIds(keys, reader));
    },
  );
});

describe('never searchable', () => {
  const SECRETS: Array<[what: string, q: string]> = [
    ["a protected victim's outlet", 'Caspian Whisper'],
    ['internal notes', 'Marigoldvane'],
    ['a private source title', 'Falconridge'],
    ['a source (even a public one)', 'Public statement'],
  ];
  it.each(READERS.flatMap((reader) => SECRETS.map(([what, q]) => ({ what, q, reader }))))(
    '$what ("$q") finds nothing as $reader, not even for the owning organisation: the search text holds public facts only',
    async ({ q, reader }) => {
      expect(await search(q, reader)).toEqual([]);
    },
  );

  // Encrypted at rest, a protected victim's names are found through the blind index only
  // (src/incidents/sealed-fields.ts): by whole words, and only by the owning organisation.
  const OWN_ONLY: Array<[what: string, q: string]> = [
    ["a protected victim's name", 'Zubayda'],
    ["a protected victim's name in another spelling", 'Zoubaida Kasimova'],
    ["a protected victim's name in the original script", 'Зубайда'],
    ["a protected victim's alias", 'Sapphire Heron'],
  ];
  it.each(READERS.flatMap((reader) => OWN_ONLY.map(([what, q]) => ({ what, q, reader }))))(
    '$what ("$q") is found only by its own organisation, as $reader',
    async ({ q, reader }) => {
      const own = reader === 'editor' || reader === 'reviewer';
      expect(await search(q, reader)).toEqual(own ? [records.get('protected')!.id] : []);
    },
  );
  it.each(['Zubay', 'Qasim', 'Sapphire Her'])('part of a protected name ("%s") finds nothing, even for its organisation', async (q) => {
    expect(await search(q, 'editor')).toEqual([]);
  });

  it.each(READERS)('the same incident is still found by its public title as %s', async (reader) => {
    expect(await search('Baku editor', reader)).toEqual(visibleIds(['protected'], reader));
  });
});

describe('sort=relevance', () => {
  const PAIRS: Array<[q: string, better: string, worse: string]> = [
    ['kestrel', 'kestrelExact', 'kestrelPartial'],
    ['Tariq Nasser', 'tariqAdjacent', 'tariqApart'],
  ];
  it.each(PAIRS)('"%s" lists %s before %s (date order would not)', async (q, better, worse) => {
    const expected = [records.get(better)!.id, records.get(worse)!.id];
    expect(await listAllIds(t.app, { q, sort: 'relevance' })).toEqual(expected);
    expect(await listAllIds(t.app, { q, sort: '-date' })).toEqual(expected.toReversed());
  });

  it.each([
    ['sort=relevance', 'sort'],
    ['sort=relevance&country=TR', 'sort'],
    ['q=a', 'q'],
    ['q=%20%20x%20&sort=relevance', 'q'],
  ])('%s is 400 problem+json naming %s', async (query, parameter) => {
    const response = await freshGet(t.app, `/v1/incidents?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.errors.map((error: { parameter: string }) => error.parameter)).toContain(parameter);
  });
});
