/**
 * Names of the same person are written many ways once they cross alphabets: "Abd al-Qader",
 * "Abdulkader", "Abdel Kader"; "Hala" and "Halla"; "Barakāt". Both the stored search text and
 * the query go through this one function, so spellings that reduce to the same key match.
 * It is deliberately simple and documented: accents dropped, case folded, Arabic articles and
 * the "Abd al-" family joined, q/k and doubled letters merged.
 */
const FOLDED: Record<string, string> = { ı: 'i', ł: 'l', ø: 'o', ß: 'ss', đ: 'd', æ: 'ae', œ: 'oe', þ: 'th' };

export function normalizeForSearch(text: string): string {
  const words = text
    .normalize('NFKD')
    .replace(/\p{Mn}/gu, '') // combining marks: accents, macrons
    .toLowerCase()
    // Letters that are not a base letter plus an accent, so NFKD leaves them alone.
    .replace(/[ıłøßđæœþ]/g, (letter) => FOLDED[letter] ?? letter)
    .replace(/['’ʿʾ`]/g, '') // ayn/hamza apostrophes vanish in most transliterations
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

  const joined: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    // "abd al qader", "abdul kader", "abdel-kader" -> "abdkader"
    if (/^abd(ul|al|el|ol)?$/.test(word) && index + 1 < words.length) {
      let next = index + 1;
      if (/^(al|el|ul)$/.test(words[next]!) && next + 1 < words.length) next++;
      joined.push(`abd${words[next]}`);
      index = next;
      continue;
    }
    if (/^(al|el)$/.test(word)) continue; // the article alone: "al-Qader" ~ "Qader"
    joined.push(word);
  }

  return joined
    .map((word) =>
      word
        .replace(/^abd(ul|al|el|ol)(?=\p{L}{3})/u, 'abd')
        .replace(/q/g, 'k')
        .replace(/ou/g, 'u')
        .replace(/(\p{L})\1+/gu, '$1'),
    )
    .join(' ');
}

/** What anyone may find an incident by: never a protected victim, internal notes or a private source. */
export function publicSearchText(incident: {
  title: string;
  description: string | null;
  victims: Array<{ name: string | null; nameOriginal: string | null; aliases: string[]; outlet: string | null; protected: boolean }>;
  perpetratorClaims: Array<{ actorName: string }>;
}): string {
  const parts = [
    incident.title,
    incident.description ?? '',
    ...incident.victims
      .filter((victim) => !victim.protected)
      .flatMap((victim) => [victim.name ?? '', victim.nameOriginal ?? '', ...victim.aliases, victim.outlet ?? '']),
    ...incident.perpetratorClaims.map((claim) => claim.actorName),
  ];
  return normalizeForSearch(parts.join(' '));
}
