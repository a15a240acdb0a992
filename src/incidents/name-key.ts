import { nameSkeleton, normalizeForSearch } from './search-text.ts';

/**
 * Names compared for duplicates, in two forms (src/incidents/search-text.ts has the rules):
 * - the readable key: normalizeForSearch (accents, case, scripts transliterated, "Abd al-" /
 *   "Abdul", articles, q/k, doubled letters), words sorted, so name order does not matter:
 *   "Barakat Hala", "Hala Barakat" and "Halla Barakat" share one key;
 * - the skeleton key: each of those words reduced to its consonant skeleton, words sorted:
 *   "Naji Jerf", "Naji Jarf", "Jarf Naji" and "ناجي الجرف" are all "jrf nj". This is what
 *   victims.name_key stores (migration 2026-12-03-0012 recomputed the older rows), so the SQL
 *   prefilters find other spellings and scripts by equality, and other names by trigrams.
 * Placeholders such as "Unidentified" name nobody and never match.
 */
const PLACEHOLDERS = new Set(
  ['unidentified', 'unknown', 'unnamed', 'anonymous', 'no name', 'name unknown', 'name withheld', 'full name unavailable', 'n a'].map(
    normalizeForSearch,
  ),
);

/** The normalised (readable) name, word order kept; null for no name. */
export function nameKey(name: string | null | undefined): string | null {
  if (!name) return null;
  const key = normalizeForSearch(name);
  return key && !PLACEHOLDERS.has(key) ? key : null;
}

/** The order-insensitive form of a key: its words sorted. */
export function sortedKey(key: string): string {
  return key.split(' ').sort().join(' ');
}

/** The skeleton of a readable key, words sorted: the form of victims.name_key. */
export function skeletonKey(key: string): string {
  return sortedKey(key.split(' ').map(nameSkeleton).join(' '));
}

/** A victim's stored key (victims.name_key): the skeleton key of the name, else of the name in the original script. */
export function victimNameKey(victim: { name: string | null; name_original?: string | null; nameOriginal?: string | null }) {
  const key = nameKey(victim.name) ?? nameKey(victim.name_original ?? victim.nameOriginal);
  return key && skeletonKey(key);
}

export interface NameForm {
  /** As written, for the reasons shown to people. */
  display: string;
  /** Normalised and readable, words sorted: what similar spellings are compared by (trigrams). */
  key: string;
  /** Consonant skeletons, words sorted: the form of victims.name_key. Equal skeletons = the same name. */
  skeleton: string;
}

/** Every way a victim is named (name, original script, aliases), deduplicated by key. */
export function nameForms(victim: { name: string | null; nameOriginal: string | null; aliases: string[] }): NameForm[] {
  const forms = new Map<string, NameForm>();
  for (const display of [victim.name, victim.nameOriginal, ...victim.aliases]) {
    const readable = nameKey(display);
    if (!display || !readable) continue;
    const key = sortedKey(readable);
    if (!forms.has(key)) forms.set(key, { display, key, skeleton: skeletonKey(readable) });
  }
  return [...forms.values()];
}

/** What a name that leaves one of its words unmatched can score at most: below MIN_NAME_SIMILARITY (duplicate-score.ts). */
const UNMATCHED_WORD_CAP = 0.4;
/**
 * Two words are the same word with one skeleton, or with skeletons equal once consonants that
 * spellings swap are taken as one (s/z: Espinosa / Espinoza; d/t, q/k, g/j: Gamal / Jamal,
 * p/b, v/f). A consonant more or less is another name (Rahman / Rahim, Naji / Najib, Barakat /
 * Barakeh), and so is another consonant (Aktaş / Aktan, Klimov / Kulikov).
 */
const SOUND_CLASS: Record<string, string> = { z: 's', d: 't', q: 'k', g: 'j', p: 'b', v: 'f' };
const soundClasses = (skeleton: string) => skeleton.replace(/[zdqgpv]/g, (letter) => SOUND_CLASS[letter]!);

/**
 * How alike two name forms are, 0..1. The same skeleton key is 1: the same name across
 * spellings, scripts and word order. Otherwise the better trigram similarity of the readable
 * keys (typos: Espinosa / Espinoza) and of the skeleton keys (a word more on one side in
 * another script); but a name whose every word does not find a counterpart in the other
 * (the shorter name's words, each matched to a word of the longer one) is a different person
 * who shares a first name or a family name: "Naji Jerf" and "Naji Hamdan", "Mohammed Ali" and
 * "Mohammed Alwan" score at most 0.4, whatever trigrams they share.
 */
export function nameSimilarity(a: NameForm, b: NameForm): number {
  if (a.skeleton === b.skeleton) return 1;
  const similarity = Math.max(trigramSimilarity(a.key, b.key), trigramSimilarity(a.skeleton, b.skeleton));
  const [shorter, longer] = [wordsOf(a), wordsOf(b)].sort((x, y) => x.length - y.length) as [Word[], Word[]];
  const matched = shorter.every((word) => longer.some((other) => sameWord(word, other)));
  return matched ? similarity : Math.min(similarity, UNMATCHED_WORD_CAP);
}

interface Word {
  skeleton: string;
}
const wordsOf = (form: NameForm): Word[] => form.key.split(' ').map((readable) => ({ skeleton: nameSkeleton(readable) }));
const sameWord = (a: Word, b: Word) => a.skeleton === b.skeleton || soundClasses(a.skeleton) === soundClasses(b.skeleton);

/**
 * pg_trgm's similarity, in TypeScript, so scores match what the SQL prefilter saw: each word
 * padded ("  w" ... "d "), trigrams as a set, shared / (all distinct). Word order is irrelevant.
 */
export function trigramSimilarity(a: string, b: string): number {
  const left = trigrams(a);
  const right = trigrams(b);
  if (left.size === 0 || right.size === 0) return 0;
  let shared = 0;
  for (const trigram of left) if (right.has(trigram)) shared++;
  return shared / (left.size + right.size - shared);
}

function trigrams(text: string): Set<string> {
  const set = new Set<string>();
  for (const word of text.split(/[^\p{L}\p{N}]+/u).filter(Boolean)) {
    const padded = `  ${word} `;
    for (let index = 0; index + 3 <= padded.length; index++) set.add(padded.slice(index, index + 3));
  }
  return set;
}
