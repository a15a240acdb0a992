import { normalizeForSearch } from '../incidents/search-text.ts';

/**
 * Names compared for duplicates. Both sides go through normalizeForSearch (accents, case,
 * "Abd al-"/"Abdul", "al-"/"el-", q/k, doubled letters), then the words are sorted so name
 * order does not matter: "Barakat Hala", "Hala Barakat" and "Halla Barakat" share one key.
 * Placeholders such as "Unidentified" name nobody and never match. Trigram similarity does not
 * depend on word order either, so one sorted key serves equality and similarity alike.
 */
const PLACEHOLDERS = new Set(
  ['unidentified', 'unknown', 'unnamed', 'anonymous', 'no name', 'name unknown', 'name withheld', 'full name unavailable', 'n a']
    .map(normalizeForSearch),
);

/** The normalised name, word order kept; null for no name. */
export function nameKey(name: string | null | undefined): string | null {
  if (!name) return null;
  const key = normalizeForSearch(name);
  return key && !PLACEHOLDERS.has(key) ? key : null;
}

/** The order-insensitive form of a key: its words sorted. */
export function sortedKey(key: string): string {
  return key.split(' ').sort().join(' ');
}

/** A victim's stored key (victims.name_key): the name, else the name in the original script, words sorted. */
export function victimNameKey(victim: { name: string | null; name_original?: string | null; nameOriginal?: string | null }) {
  const key = nameKey(victim.name) ?? nameKey(victim.name_original ?? victim.nameOriginal);
  return key && sortedKey(key);
}

export interface NameForm {
  /** As written, for the reasons shown to people. */
  display: string;
  /** Normalised, words sorted: the form of victims.name_key. */
  key: string;
}

/** Every way a victim is named (name, original script, aliases), deduplicated by key. */
export function nameForms(victim: { name: string | null; nameOriginal: string | null; aliases: string[] }): NameForm[] {
  const forms = new Map<string, NameForm>();
  for (const display of [victim.name, victim.nameOriginal, ...victim.aliases]) {
    const key = nameKey(display);
    if (display && key && !forms.has(sortedKey(key))) forms.set(sortedKey(key), { display, key: sortedKey(key) });
  }
  return [...forms.values()];
}

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
