import { ValidationError, type FieldError } from '../errors.ts';
import type { Incident } from '../incidents/incident.schemas.ts';
import { MIN_NAME_SIMILARITY } from './duplicate-score.ts';
import { nameForms, nameSimilarity, type NameForm } from '../incidents/name-key.ts';

/**
 * Which victims of a merged incident are the same person as a victim of the survivor. A merge
 * keeps one victim per pair (the survivor's), so a person recorded under two spellings is
 * counted once afterwards.
 *
 * Names are compared exactly as duplicate detection compares them, with nothing of its own:
 * every form of a name (name, original script, aliases: name-key.ts nameForms), two forms
 * scored by name-key.ts nameSimilarity (1 = the same name across spellings, scripts and word
 * order; a name sharing only a first or a family name with the other stays below the
 * threshold), and the duplicate score's MIN_NAME_SIMILARITY. So pairing improves whenever that
 * matcher does, and a merge never pairs names the duplicate score would not call alike.
 */
type Victim = Incident['victims'][number];

export type VictimPairMatch = 'same_name' | 'similar_name' | 'unnamed' | 'reviewer';

export interface VictimPair {
  /** The survivor's victim: it stays, with the other's spellings as aliases. */
  kept: string;
  /** The merged incident's victim, the same person: folded into `kept`. */
  merged: string;
  names: { kept: string | null; merged: string | null };
  match: VictimPairMatch;
  /** 1 for the same name, the nameSimilarity of the closest forms for similar ones, else null. */
  similarity: number | null;
  reason: string;
}

const displayName = (victim: Victim) => victim.name ?? victim.nameOriginal ?? null;
/** Both genders recorded and different: not the same person, whatever the names say. */
const conflicting = (a: Victim, b: Victim) => Boolean(a.gender && b.gender && a.gender !== b.gender);

/**
 * The pairing a merge applies unless the reviewer sends one:
 * 1. The same name (any form: name, original script, alias) once normalised and reordered. A
 *    record that lists one person twice folds both into the survivor's victim, so several
 *    merged victims may share one kept victim here (an unpaired one of the same name first).
 * 2. Similar names (nameSimilarity >= the duplicate score's MIN_NAME_SIMILARITY), closest
 *    first, each victim at most once.
 * 3. Unnamed victims cannot be told apart: they pair in order, so as many are kept as the record
 *    that lists more has.
 * Victims whose recorded genders differ are never paired.
 */
export function proposeVictimPairs(kept: Victim[], incoming: Victim[]): VictimPair[] {
  const formsOf = new Map<Victim, NameForm[]>([...kept, ...incoming].map((victim) => [victim, nameForms(victim)]));
  const forms = (victim: Victim) => formsOf.get(victim)!;
  const pairs: VictimPair[] = [];
  const keptUsed = new Set<Victim>();
  const incomingUsed = new Set<Victim>();
  const pair = (keep: Victim, other: Victim, match: VictimPairMatch, similarity: number | null, reason: string) => {
    keptUsed.add(keep);
    incomingUsed.add(other);
    pairs.push({
      kept: keep.id,
      merged: other.id,
      names: { kept: displayName(keep), merged: displayName(other) },
      match,
      similarity,
      reason,
    });
  };

  for (const other of incoming) {
    if (!forms(other).length) continue;
    const same = kept.flatMap((keep) => {
      const form = conflicting(keep, other) ? undefined : sameForm(forms(keep), forms(other));
      return form ? [{ keep, form }] : [];
    });
    const choice = same.find(({ keep }) => !keptUsed.has(keep)) ?? same[0];
    if (choice) {
      const [a, b] = choice.form;
      pair(choice.keep, other, 'same_name', 1, `same name once spelling and word order are set aside: "${a.display}" and "${b.display}"`);
    }
  }

  const similar = kept.flatMap((keep, keptIndex) =>
    incoming.flatMap((other, incomingIndex) => {
      if (keptUsed.has(keep) || incomingUsed.has(other) || conflicting(keep, other)) return [];
      const best = closestForms(forms(keep), forms(other));
      return best ? [{ keep, other, keptIndex, incomingIndex, ...best }] : [];
    }),
  );
  similar.sort((a, b) => b.similarity - a.similarity || a.keptIndex - b.keptIndex || a.incomingIndex - b.incomingIndex);
  for (const candidate of similar) {
    if (keptUsed.has(candidate.keep) || incomingUsed.has(candidate.other)) continue;
    const similarity = Math.round(candidate.similarity * 100) / 100;
    pair(
      candidate.keep,
      candidate.other,
      'similar_name',
      similarity,
      `similar names: "${candidate.a.display}" and "${candidate.b.display}" (similarity ${similarity.toFixed(2)})`,
    );
  }

  const unnamedKept = kept.filter((victim) => !forms(victim).length);
  for (const other of incoming.filter((victim) => !forms(victim).length)) {
    const keep = unnamedKept.find((victim) => !keptUsed.has(victim) && !conflicting(victim, other));
    if (keep)
      pair(keep, other, 'unnamed', null, 'neither victim is named: as many unnamed victims are kept as the record that lists more has');
  }

  const order = new Map(incoming.map((victim, index) => [victim.id, index]));
  return pairs.sort((a, b) => order.get(a.merged)! - order.get(b.merged)!);
}

/** The first forms of the two that are the same name (nameSimilarity 1). */
function sameForm(left: NameForm[], right: NameForm[]): [NameForm, NameForm] | undefined {
  for (const a of left) {
    const b = right.find((form) => nameSimilarity(a, form) === 1);
    if (b) return [a, b];
  }
  return undefined;
}

/** The closest forms of the two, if alike enough for the duplicate score to count them. */
function closestForms(left: NameForm[], right: NameForm[]) {
  let best: { similarity: number; a: NameForm; b: NameForm } | undefined;
  for (const a of left) {
    for (const b of right) {
      const similarity = nameSimilarity(a, b);
      if (similarity >= MIN_NAME_SIMILARITY && (!best || similarity > best.similarity)) best = { similarity, a, b };
    }
  }
  return best;
}

/**
 * The reviewer's own pairing, checked against the two incidents: every `keep` a victim of the
 * survivor, every `merge` a victim of the merged incident, and no merged victim twice (a kept
 * victim may take several, for a record that lists one person twice). Every problem is listed
 * at once, each with its pointer; nothing is written when there is one.
 */
export function reviewerVictimPairs(kept: Victim[], incoming: Victim[], requested: Array<{ keep: string; merge: string }>): VictimPair[] {
  const keptById = new Map(kept.map((victim) => [victim.id, victim]));
  const incomingById = new Map(incoming.map((victim) => [victim.id, victim]));
  const errors: FieldError[] = [];
  const mergedAt = new Map<string, number>();
  requested.forEach(({ keep, merge }, index) => {
    if (!keptById.has(keep)) {
      errors.push({
        pointer: `/victimPairs/${index}/keep`,
        detail: incomingById.has(keep)
          ? 'this victim belongs to the incident being merged; `keep` names a victim of the survivor (`into`)'
          : 'not a victim of the survivor (`into`)',
      });
    }
    if (!incomingById.has(merge)) {
      errors.push({
        pointer: `/victimPairs/${index}/merge`,
        detail: keptById.has(merge)
          ? 'this victim belongs to the survivor; `merge` names a victim of the incident being merged (the one in the path)'
          : 'not a victim of the incident being merged (the one in the path)',
      });
    } else if (mergedAt.has(merge)) {
      errors.push({
        pointer: `/victimPairs/${index}/merge`,
        detail: `this victim is already paired in /victimPairs/${mergedAt.get(merge)}`,
      });
    } else {
      mergedAt.set(merge, index);
    }
  });
  if (errors.length) throw new ValidationError('The request body is not valid.', errors);
  return requested.map(({ keep, merge }) => {
    const keepVictim = keptById.get(keep)!;
    const other = incomingById.get(merge)!;
    return {
      kept: keep,
      merged: merge,
      names: { kept: displayName(keepVictim), merged: displayName(other) },
      match: 'reviewer' as const,
      similarity: null,
      reason: 'paired by the reviewer',
    };
  });
}
