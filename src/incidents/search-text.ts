/**
 * Names of the same person are written many ways once they cross alphabets: "Abd al-Qader",
 * "Abdulkader", "Abdel Kader"; "Hala" and "Halla"; "Barakāt"; "Naji Jerf", "Naji Jarf" and
 * "ناجي الجرف"; "Politkovskaya" and "Политковская". Two forms, both computed here:
 *
 * - normalizeForSearch: the readable form. Accents dropped, case folded, Arabic, Persian and
 *   Cyrillic script transliterated letter by letter, Arabic articles and the "Abd al-" family
 *   joined, q/k, ou/u and doubled letters merged. Stored in incidents.search_text and matched
 *   as a substring, so a part of a word ("Politkov") still finds it.
 * - nameSkeleton: the consonant skeleton of one readable word, for names only. Arabic script
 *   writes no short vowels, and Latin spellings of one name differ mostly in vowels (Jerf /
 *   Jarf, Fares / Faris), doubling (Hamadi / Hammadi), y and w used as vowels (Hamady,
 *   Politkovskaia / Politkovskaya) and digraphs for one sound (kh, gh, sh, th, dh, dj). The
 *   skeleton keeps what survives all of those: the consonants, folded to one letter per sound.
 *   It is compared as a whole word, never as a substring: skeletons are short.
 *
 * The rules, measured over test/fixtures/name-variants.json (`npm run bench -- --only names`):
 * a word-initial vowel (or y) becomes one marker "a", so Ahmad (ahmt) and Hamid (hmt), Ali (al)
 * and Layla (ll) stay apart; then the other vowels and y go; w is v, kept only before a vowel or
 * at the start (Marwan, Walid, Javad = Jawad); c is the Turkish c (Cemal = Jamal; ç and c alike,
 * Çelik = Celik); ch, sh and ş are s; kh and the Kurdish x are h (Halil = Khalil = Xelîl), x
 * between vowels is ks (Alexander = Aleksandr); a final h goes (Fatima / Fatimah, Abdullah /
 * عبدالله) and a final d is t (Turkish Ahmet, Mehmet). Known limits: names that differ
 * only in vowels get one skeleton (Mahmoud and Mohammed are both "mhmt"; Hassan and Hussein
 * both "hsn"), so a skeleton match alone is weak evidence for a one-word name; French "ch" for
 * ش (Cherif) is s like English sh, but French "c" before e/i (Yacine) is read as the Turkish c.
 */
const FOLDED: Record<string, string> = { ı: 'i', ł: 'l', ø: 'o', ß: 'ss', đ: 'd', æ: 'ae', œ: 'oe', þ: 'th' };

/**
 * Arabic script, letter by letter. Long vowels are written (ا و ي), short ones are not, so the
 * readable form of "ناجي" is "naji" but of "جرف" only "jrf": the skeleton is what compares.
 * و and ي are vowels (u, i) except before a vowel letter or at the start of a word (w, y).
 * A word with a Persian letter (پ چ ژ گ ک ی) reads ض ذ ظ as z and ث as s, as Persian and
 * Kurdish do (رضایی = Rezaei); Arabic reads them d, dh, z, th (رمضان = Ramadan).
 */
const ARABIC: Record<string, string> = {
  ا: 'a',
  ٱ: 'a',
  ى: 'a',
  ة: 'a',
  ء: '',
  ب: 'b',
  ت: 't',
  ث: 'th',
  ج: 'j',
  ح: 'h',
  خ: 'kh',
  د: 'd',
  ذ: 'dh',
  ر: 'r',
  ز: 'z',
  س: 's',
  ش: 'sh',
  ص: 's',
  ض: 'd',
  ط: 't',
  ظ: 'z',
  غ: 'gh',
  ف: 'f',
  ق: 'q',
  ك: 'k',
  ل: 'l',
  م: 'm',
  ن: 'n',
  ه: 'h',
  // Persian and Kurdish letters.
  پ: 'p',
  چ: 'ch',
  ژ: 'zh',
  گ: 'g',
  ک: 'k',
  ڤ: 'v',
  ڕ: 'r',
  ڵ: 'l',
  ھ: 'h',
  ە: 'e',
  ێ: 'e',
  ۆ: 'o',
  ۀ: 'h',
};
const PERSIAN_LETTERS = /[پچژگکی]/u;
const PERSIAN: Record<string, string> = { ض: 'z', ذ: 'z', ظ: 'z', ث: 's' };
const ARABIC_VOWEL_LETTER = /[اٱىةوييیۆێە]/u;

/** Russian, Ukrainian and common Central Asian Cyrillic, as in most English-language reports. */
const CYRILLIC: Record<string, string> = {
  а: 'a',
  б: 'b',
  в: 'v',
  г: 'g',
  д: 'd',
  е: 'e',
  ё: 'e',
  ж: 'zh',
  з: 'z',
  и: 'i',
  й: 'y',
  к: 'k',
  л: 'l',
  м: 'm',
  н: 'n',
  о: 'o',
  п: 'p',
  р: 'r',
  с: 's',
  т: 't',
  у: 'u',
  ф: 'f',
  х: 'kh',
  ц: 'ts',
  ч: 'ch',
  ш: 'sh',
  щ: 'shch',
  ъ: '',
  ы: 'y',
  ь: '',
  э: 'e',
  ю: 'yu',
  я: 'ya',
  і: 'i',
  ї: 'yi',
  є: 'ye',
  ґ: 'g',
  ў: 'u',
  қ: 'k',
  ғ: 'gh',
  ҳ: 'h',
  ң: 'n',
  ә: 'a',
  ө: 'o',
  ү: 'u',
  һ: 'h',
};

function transliterateArabic(word: string): string {
  // The article: "الجرف" is "al-Jerf", and the article is dropped like "al-" (not in "الله" alone).
  const stem = word.length > 3 && word.startsWith('ال') ? word.slice(2) : word;
  const persian = PERSIAN_LETTERS.test(stem);
  const letters = [...stem.replace(/ـ/g, '')];
  let out = '';
  letters.forEach((letter, index) => {
    const next = letters[index + 1];
    if (letter === 'و' || letter === 'ي' || letter === 'ی') {
      const consonant = index === 0 || (next !== undefined && ARABIC_VOWEL_LETTER.test(next));
      out += letter === 'و' ? (consonant ? 'w' : 'u') : consonant ? 'y' : 'i';
    } else if (letter === 'ع') {
      out += index === 0 ? 'a' : ''; // ayn: a vowel at the start (Abd, Ali, Omar), else unwritten in Latin
    } else {
      out += (persian ? PERSIAN[letter] : undefined) ?? ARABIC[letter] ?? letter;
    }
  });
  return out;
}

const transliterateCyrillic = (word: string) => [...word].map((letter) => CYRILLIC[letter] ?? letter).join('');

const ABD_WORD = /^abd(?:[aeiou](?:l|[rsdtnz]|sh)?)?$/;
/** The article after "Abd": al, el, ul and the assimilated ar, as, ad, at, az, an, ash, ur, us... */
const ABD_ARTICLE = /^[aeu](?:l|[rsdtnz]|sh)$/;
/** "abdulkader", "abdelkader", "abdurrahman", "abdussalam" -> "abd" + the name (at least 3 letters). */
const ABD_PREFIX = /^abd(?:[aeiou](?:l|([rsdtnz])(?=\1)))(?=\p{L}{3})/u;
/** Hyphenated articles glued to the next word: al-, el-, ad-, ar-, as-, ash-, at-, az-, an-, ul-, ud-... */
const HYPHEN_ARTICLE = /(?<![\p{L}\p{N}])[aeu](?:l|[rsdtnz]|sh|th|dh)[-‐‑–](?=\p{L})/gu;

export function normalizeForSearch(text: string): string {
  const words = text
    .normalize('NFKD')
    .replace(/\p{Mn}/gu, '') // combining marks: accents, macrons, Arabic short-vowel signs
    .toLowerCase()
    // Letters that are not a base letter plus an accent, so NFKD leaves them alone.
    .replace(/[ıłøßđæœþ]/g, (letter) => FOLDED[letter] ?? letter)
    .replace(/['’ʿʾ`]/g, '') // ayn/hamza apostrophes vanish in most transliterations
    .replace(HYPHEN_ARTICLE, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((word) =>
      /[\u0600-\u06ff]/u.test(word) ? transliterateArabic(word) : /[\u0400-\u04ff]/u.test(word) ? transliterateCyrillic(word) : word,
    )
    .filter(Boolean);

  const joined: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    // "abd al qader", "abdul kader", "abdel-kader", "abd ar-rahman" -> "abdkader", "abdrahman"
    if (ABD_WORD.test(word) && index + 1 < words.length) {
      let next = index + 1;
      if (ABD_ARTICLE.test(words[next]!) && next + 1 < words.length) next++;
      joined.push(`abd${words[next]}`);
      index = next;
      continue;
    }
    if (/^(al|el)$/.test(word)) continue; // the article alone: "al Qader" ~ "Qader"
    joined.push(word);
  }

  return joined
    .map((word) =>
      word
        .replace(ABD_PREFIX, 'abd')
        .replace(/q/g, 'k')
        .replace(/ou/g, 'u')
        .replace(/(\p{L})\1+/gu, '$1'),
    )
    .join(' ');
}

/**
 * The consonant skeleton of one word of normalizeForSearch's output (see the rules above):
 * "jerf", "jarf" and "jrf" (from جرف) are all "jrf"; "mohamed", "muhamad", "mhmd" are "mhmt".
 * Digits are kept as they are.
 */
export function nameSkeleton(word: string): string {
  if (!/\p{L}/u.test(word)) return word;
  if (word === 'ibn' || word === 'bin' || word === 'ben') return 'bn';
  let folded = word
    .replace(/dzh|dj/g, 'j')
    .replace(/sch|shch|sh|ch/g, 's')
    .replace(/zh/g, 'j')
    .replace(/kh/g, 'h')
    .replace(/gh/g, 'g')
    .replace(/th/g, 't')
    .replace(/dh/g, 'd')
    .replace(/ph/g, 'f')
    .replace(/ck/g, 'k')
    .replace(/(?<=[aeiou])x(?=[aeiou])/g, 'ks') // between vowels the x of Alexander = Aleksandr
    .replace(/x/g, 'h') // elsewhere the Kurdish x: Xelîl = Khalil, Şêx = Sheikh
    .replace(/c/g, 'j') // Turkish c (Cemal = Jamal); ç arrives here as c
    .replace(/q/g, 'k')
    // w before a consonant is a vowel (Dawlat = Dolat = دولت); otherwise it is the v of Russian,
    // Persian and Turkish spellings (Javad = Jawad).
    .replace(/(?<!^)w(?![aeiouy])/g, '')
    .replace(/w/g, 'v')
    .replace(/(\p{L})\1+/gu, '$1');
  const initialVowel = /^[aeiouy]/.test(folded);
  folded = folded.replace(/[aeiouy]/g, '');
  if (folded.length > 1) folded = folded.replace(/h$/, '');
  folded = folded.replace(/d$/, 't');
  return (initialVowel ? 'a' : '') + folded;
}

/** The skeletons of the words of a text, in order. */
export function skeletonWords(text: string): string[] {
  return normalizeForSearch(text).split(' ').filter(Boolean).map(nameSkeleton);
}

/**
 * search_text marks a name's skeleton words "~jrf~": the marks are not letters, so pg_trgm
 * still indexes "jrf" as a word (and LIKE '%~jrf~%' uses the trigram index), while a readable
 * query word never matches a skeleton by accident unless it is one.
 */
const SKELETON_MARK = '~';
const marked = (skeleton: string) => `${SKELETON_MARK}${skeleton}${SKELETON_MARK}`;

/** A name's part of search_text: its skeleton words, marked ("~nj~ ~jrf~"); '' for no name. Word by word, like the normaliser. */
export function nameSkeletonText(name: string): string {
  return skeletonWords(name).map(marked).join(' ');
}

/**
 * What anyone may find an incident by: never a protected victim, internal notes or a private
 * source. The readable text of every public field, then the skeletons of each public victim's
 * names (name, original script, aliases) so that other spellings and scripts of a name match.
 */
export function publicSearchText(incident: {
  title: string;
  description: string | null;
  victims: Array<{ name: string | null; nameOriginal: string | null; aliases: string[]; outlet: string | null; protected: boolean }>;
  perpetratorClaims: Array<{ actorName: string }>;
}): string {
  const visible = incident.victims.filter((victim) => !victim.protected);
  const parts = [
    incident.title,
    incident.description ?? '',
    ...visible.flatMap((victim) => [victim.name ?? '', victim.nameOriginal ?? '', ...victim.aliases, victim.outlet ?? '']),
    ...incident.perpetratorClaims.map((claim) => claim.actorName),
  ];
  const skeletons = visible.flatMap((victim) => [victim.name ?? '', victim.nameOriginal ?? '', ...victim.aliases].map(nameSkeletonText));
  return [normalizeForSearch(parts.join(' ')), ...skeletons].filter(Boolean).join(' ');
}

/**
 * A search query as LIKE patterns on search_text: one list per query word, and a word matches
 * when any of its patterns does (every word must match). A word matches as a readable
 * substring, as before ("Naji" also finds "Najib", "Politkov" finds "Politkovskaya"), or by
 * its skeleton as a whole name word ("Jarf" finds "Jerf" and "الجرف", not "Jarfan"). A Latin
 * word of vowels only (skeleton "a": "Aya", "Eyo") would match every such name, so it matches
 * by its readable form only.
 */
export function searchPatterns(q: string): string[][] {
  const latin = !/[\u0400-\u04ff\u0600-\u06ff]/u.test(q);
  return normalizeForSearch(q)
    .split(' ')
    .filter(Boolean)
    .map((word) => {
      const skeleton = nameSkeleton(word);
      const patterns = [`%${escapeLike(word)}%`];
      if (skeleton !== word && (/[^a]/.test(skeleton) || !latin)) patterns.push(`%${marked(escapeLike(skeleton))}%`);
      return patterns;
    });
}

/** The text sort=relevance compares with search_text: the readable query and its skeletons. */
export function relevanceText(q: string): string {
  const words = normalizeForSearch(q).split(' ').filter(Boolean);
  return [...words, ...words.map(nameSkeleton)].join(' ');
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (match) => `\\${match}`);
}
