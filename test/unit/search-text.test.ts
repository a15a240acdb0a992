import { describe, expect, it } from 'vitest';
import { normalizeForSearch, publicSearchText, searchPatterns } from '../../src/incidents/search-text.ts';

/**
 * What an incident can be found by, without a database: the normaliser, the public search text
 * (never a protected victim, internal notes or a private source) and the LIKE patterns of a
 * query. Names across spellings and scripts, in bulk: test/name-variants.test.ts.
 */
describe('normalizeForSearch', () => {
  it.each([
    ['drops accents and folds case', 'Barakāt ÇELİK Jérôme', 'barakat celik jerome'],
    ['folds letters that are not a letter plus an accent', 'Łódź Straße Ørsted', 'lodz strase orsted'],
    ['splits on punctuation and collapses spaces', '  Reporter,  attacked!\n(again) ', 'reporter atacked again'],
    ['drops ayn and hamza apostrophes', "Sa'id Ma’ruf", 'said maruf'],
    ['drops the article, hyphenated or alone', 'al-Jerf el Qader', 'jerf kader'],
    ['joins "Abd" with its article and the name', 'Abd al-Qader, Abdel Kader, Abdulkader', 'abdkader abdkader abdkader'],
    ['reads q as k, ou as u and doubled letters as one', 'Qassem Orouba Hammadi', 'kasem oruba hamadi'],
    ['transliterates Cyrillic', 'Анна Политковская', 'ana politkovskaya'],
    ['transliterates Arabic script, article dropped', 'ناجي الجرف', 'naji jrf'],
    ['keeps digits', 'Channel 4 in 2015', 'chanel 4 in 2015'],
    ['is empty for text without letters or digits', ' -- !? ', ''],
  ])('%s', (_name, text, expected) => {
    expect(normalizeForSearch(text)).toBe(expected);
  });

  it('is idempotent', () => {
    for (const text of ['Abd al-Qader Barakāt', 'Анна Политковская', 'ناجي الجرف', 'Orouba Hammadi']) {
      expect(normalizeForSearch(normalizeForSearch(text))).toBe(normalizeForSearch(text));
    }
  });
});

describe('publicSearchText', () => {
  /** A whole stored incident, with everything the owner may read: the search text must take only what anyone may. */
  const incident = {
    title: 'Reporter attacked in Istanbul',
    description: 'Attacked outside the newsroom.',
    internalNotes: 'Family asked us not to contact Zeynep Kaya',
    victims: [
      { name: 'Public Person', nameOriginal: 'Публичный', aliases: ['The Columnist'], outlet: 'Radio Sur', protected: false },
      { name: 'Secret Witness', nameOriginal: 'شاهد سري', aliases: ['Sapphire Heron'], outlet: 'Hidden Outlet', protected: true },
    ],
    perpetratorClaims: [{ actorName: 'Unknown assailants', actorType: 'unknown', attribution: 'suspected_by_documenter' }],
    sources: [
      { url: 'https://example.org/ministry', title: 'Ministry statement', public: true },
      { url: 'https://example.org/private-tip', title: 'Private tip from Kerem', public: false },
    ],
  };
  const text = publicSearchText(incident);

  it("holds the title, description, public victims (names, original script, aliases, outlet) and perpetrators, normalised, then the names' marked skeletons", () => {
    expect(text).toBe(
      'reporter atacked in istanbul atacked utside the newsrom public person publichnyi the columnist radio sur unknown asailants' +
        ' ~pblj~ ~prsn~ ~pblsn~ ~t~ ~jlmnst~',
    );
  });

  it('never holds a protected victim, not even as a skeleton', () => {
    for (const part of ['secret', 'witnes', 'shahd', 'sapphire', 'saphire', 'heron', 'hiden', '~srt~', '~hrn~'])
      expect(text).not.toContain(part);
  });

  it('never holds internal notes or a source, public or private', () => {
    for (const part of ['family', 'zeynep', 'kaya', 'ministry', 'statement', 'private', 'kerem', 'example'])
      expect(text).not.toContain(part);
  });

  it('is only the title when nothing else is there', () => {
    expect(publicSearchText({ title: 'Threats', description: null, victims: [], perpetratorClaims: [] })).toBe('threats');
    expect(
      publicSearchText({
        title: 'Threats',
        description: null,
        victims: [{ name: null, nameOriginal: null, aliases: [], outlet: null, protected: false }],
        perpetratorClaims: [],
      }),
    ).toBe('threats');
  });
});

describe('searchPatterns', () => {
  it('gives each query word its readable substring and its marked skeleton', () => {
    expect(searchPatterns('Naji Jarf')).toEqual([
      ['%naji%', '%~nj~%'],
      ['%jarf%', '%~jrf~%'],
    ]);
  });

  it('normalises the query as the stored text is normalised', () => {
    expect(searchPatterns('ناجي الجرف')).toEqual([['%naji%', '%~nj~%'], ['%jrf%']]);
    expect(searchPatterns('Abd al-Qader')).toEqual([['%abdkader%', '%~abdkdr~%']]);
  });

  it('matches a Latin word of vowels only by its readable form (its skeleton "a" would match every such name)', () => {
    expect(searchPatterns('Aya')).toEqual([['%aya%']]);
  });

  it('escapes LIKE wildcards and backslashes', () => {
    expect(searchPatterns('100%')).toEqual([['%100%']]);
    expect(searchPatterns('a_b')).toEqual([['%a%'], ['%b%']]);
    // Only letters and digits reach a pattern: %, _ and \ are separators to the normaliser.
    expect(searchPatterns('%_\\')).toEqual([]);
  });

  it('has no pattern for an empty or punctuation-only query', () => {
    expect(searchPatterns('')).toEqual([]);
    expect(searchPatterns(' , ; ')).toEqual([]);
  });
});
