import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NAME_SIMILARITY } from '../src/duplicates/duplicate-score.ts';
import { NEARBY_SKELETON_SIMILARITY } from '../src/duplicates/candidate.queries.ts';
import { nameForms, nameSimilarity, skeletonKey, trigramSimilarity, victimNameKey } from '../src/incidents/name-key.ts';
import { nameSkeleton, normalizeForSearch, publicSearchText, searchPatterns } from '../src/incidents/search-text.ts';

/**
 * The name normaliser over test/fixtures/name-variants.json, without a database: search as
 * incident-filters.ts compiles it (searchPatterns, each a LIKE on search_text) against
 * publicSearchText, and duplicate name scores (nameSimilarity). test/names-across-alphabets.test.ts
 * checks the same through HTTP; `npm run bench -- --only names` counts precision and recall.
 */
interface Pair {
  a: string;
  b: string;
  kind: string;
  knownLimitation?: { search?: string; duplicates?: string };
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/name-variants.json', import.meta.url), 'utf8')) as {
  positives: Pair[];
  negatives: Pair[];
};

/** A LIKE pattern as a regular expression: % any text, \ escapes. */
const likeRegex = (pattern: string) =>
  new RegExp(
    `^${pattern.replace(/\\([\\%_])|([%_])|([.*+?^${}()|[\]\\])/g, (_, escaped, wild, special) =>
      escaped ? `\\${escaped}` : wild ? (wild === '%' ? '.*' : '.') : `\\${special}`,
    )}$`,
    's',
  );
const searchText = (name: string) =>
  publicSearchText({
    title: 'Reporter attacked',
    description: null,
    victims: [{ name, nameOriginal: null, aliases: [], outlet: null, protected: false }],
    perpetratorClaims: [],
  });
/** Whether q finds an incident whose one victim is `stored`: every word has a pattern that matches. */
const finds = (q: string, stored: string) =>
  searchPatterns(q).every((patterns) => patterns.some((pattern) => likeRegex(pattern).test(searchText(stored))));
const forms = (name: string) => nameForms({ name, nameOriginal: null, aliases: [] });
const bestSimilarity = (a: string, b: string) => Math.max(0, ...forms(a).flatMap((x) => forms(b).map((y) => nameSimilarity(x, y))));

describe('the fixture', () => {
  it('holds at least 60 variant pairs and 20 negative pairs, across scripts and languages', () => {
    expect(fixture.positives.length).toBeGreaterThanOrEqual(60);
    expect(fixture.negatives.length).toBeGreaterThanOrEqual(20);
    const kinds = new Set(fixture.positives.map((pair) => pair.kind));
    for (const kind of [
      'arabic-vowels',
      'article',
      'abd',
      'arabic-script',
      'persian',
      'persian-script',
      'turkish',
      'kurdish',
      'russian',
      'russian-script',
    ]) {
      expect(kinds).toContain(kind);
    }
  });
});

describe('variants of one name match', () => {
  const positives = fixture.positives;
  it.each(positives.filter((pair) => !pair.knownLimitation?.search))('search: "$b" finds "$a" and back ($kind)', ({ a, b }) => {
    expect(finds(b, a)).toBe(true);
    expect(finds(a, b)).toBe(true);
  });
  it.each(positives.filter((pair) => !pair.knownLimitation?.duplicates))(
    'duplicates: "$a" and "$b" are the same name ($kind)',
    ({ a, b }) => {
      expect(bestSimilarity(a, b)).toBeGreaterThanOrEqual(0.9); // enough for an import to leave the row out (import-hooks.ts)
    },
  );
});

describe('different people stay apart', () => {
  const negatives = fixture.negatives;
  it.each(negatives.filter((pair) => !pair.knownLimitation?.search))('search: "$b" does not find "$a" nor back ($kind)', ({ a, b }) => {
    expect(finds(b, a)).toBe(false);
    expect(finds(a, b)).toBe(false);
  });
  it.each(negatives.filter((pair) => !pair.knownLimitation?.duplicates))(
    'duplicates: "$a" and "$b" earn no name credit ($kind)',
    ({ a, b }) => {
      expect(bestSimilarity(a, b)).toBeLessThan(MIN_NAME_SIMILARITY);
    },
  );
});

describe('the SQL prefilters see what scoring credits', () => {
  it('every pair with name credit has one stored key, or skeleton keys within the nearby prefilter', () => {
    for (const { a, b } of [...fixture.positives, ...fixture.negatives]) {
      if (bestSimilarity(a, b) < MIN_NAME_SIMILARITY) continue;
      const [keyA, keyB] = [victimNameKey({ name: a }), victimNameKey({ name: b })];
      if (keyA === keyB) continue;
      expect(trigramSimilarity(keyA!, keyB!), `${a} / ${b}`).toBeGreaterThanOrEqual(NEARBY_SKELETON_SIMILARITY);
    }
  });

  it('the stored key is the skeleton of the readable key the prefilters are given', () => {
    for (const { a, b } of fixture.positives) {
      for (const name of [a, b]) expect(victimNameKey({ name })).toBe(skeletonKey(forms(name)[0]!.key));
    }
  });
});

describe('rules', () => {
  it.each([
    ['Naji Jerf', 'naji jerf', 'nj jrf'],
    ['ناجي الجرف', 'naji jrf', 'nj jrf'],
    ['Abd ar-Rahman', 'abdrahman', 'abdrhmn'],
    ['عبدالرحمن', 'abdrhmn', 'abdrhmn'],
    ['Анна Политковская', 'ana politkovskaya', 'an pltkvsk'],
    ['رضایی', 'rzayi', 'rz'],
    ['Cemal Çelik', 'cemal celik', 'jml jlk'],
    ['Alexander Xani', 'alexander xani', 'alksndr hn'],
    ['Ahmad Hamid', 'ahmad hamid', 'ahmt hmt'],
  ])('%s reads "%s", skeleton "%s"', (name, readable, skeleton) => {
    expect(normalizeForSearch(name)).toBe(readable);
    expect(readable.split(' ').map(nameSkeleton).join(' ')).toBe(skeleton);
  });

  it('keeps the spellings search already matched', () => {
    for (const [a, b] of [
      ['Abd al-Qader', 'Abdulkader'],
      ['Abdel Kader', 'Abdulkader'],
      ['Halla', 'Hala'],
      ['Barakāt', 'Barakat'],
      ['Orouba', 'Oruba'],
    ] as const) {
      expect(normalizeForSearch(a)).toBe(normalizeForSearch(b));
    }
  });

  it('puts no protected victim into the search text, not even a skeleton', () => {
    const text = publicSearchText({
      title: 'Threats',
      description: null,
      perpetratorClaims: [],
      victims: [{ name: 'Zubayda Qasimova', nameOriginal: 'Зубайда Гасымова', aliases: ['Sapphire Heron'], outlet: null, protected: true }],
    });
    expect(text).toBe('threats');
  });

  it('a skeleton matches as a whole word, never as part of one', () => {
    expect(finds('Naji Jarf', 'Naji Jerf')).toBe(true);
    expect(finds('Jerf', 'Naji Jarfan')).toBe(false); // skeleton jrf is not jrfn; "jerf" is no part of "jarfan"
    expect(finds('Jarf', 'Naji Jarfan')).toBe(true); // the readable word is part of it, as any substring
    expect(finds('Naji Jarf', 'Naji Hamdan')).toBe(false);
  });
});
