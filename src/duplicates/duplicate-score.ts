import { normalizeForSearch } from '../incidents/search-text.ts';
import { nameForms, nameSimilarity, type NameForm } from '../incidents/name-key.ts';

/**
 * How alike two incidents are, 0..1, with the reasons a reviewer reads. Weights: victim name
 * 0.5, date 0.25, country 0.1, city 0.05, attack type 0.1. A name is what makes two records
 * the same attack, so without a matching name a score stays at 0.5 or below, under the
 * flagging threshold: unnamed victims in the same country and year are listed, never flagged.
 */
export const DUPLICATE_THRESHOLD = 0.6;
const WEIGHT = { name: 0.5, date: 0.25, country: 0.1, city: 0.05, attackType: 0.1 } as const;
/** Below this name similarity (name-key.ts nameSimilarity) two different names earn nothing. */
export const MIN_NAME_SIMILARITY = 0.5;
/** Dates this many days apart still earn half the date weight (a death reported the day after, time zones). */
const NEAR_DAYS = 7;

export interface ScoredVictim {
  name: string | null;
  nameOriginal: string | null;
  aliases: string[];
  protected: boolean;
}

export interface ScoredIncident {
  id: string;
  organisationId: string;
  date: { precision: string; start: string; end: string };
  country: string;
  city: string | null;
  attackTypes: string[];
  victims: ScoredVictim[];
}

export interface DuplicateReason {
  kind: 'victim_name' | 'date' | 'country' | 'city' | 'attack_type';
  detail: string;
}

export interface DuplicateScore {
  score: number;
  reasons: DuplicateReason[];
}

/**
 * `mayUseProtected(organisationId)` says whether the viewer may know that organisation's
 * protected victims. Victims it may not know are left out of the comparison entirely, so
 * neither the score nor the reasons depend on them; those it may know are compared but never
 * named: the reason says only that a protected victim's name matches.
 */
export function scoreDuplicate(
  subject: ScoredIncident,
  candidate: ScoredIncident,
  mayUseProtected: (organisationId: string) => boolean,
): DuplicateScore {
  const scored: Array<{ credit: number; weight: number; reason: DuplicateReason }> = [];
  const add = (weight: number, credit: number, kind: DuplicateReason['kind'], detail: string) => {
    if (credit > 0) scored.push({ credit, weight, reason: { kind, detail } });
  };

  const name = bestNameMatch(usable(subject, mayUseProtected), usable(candidate, mayUseProtected));
  if (name) add(WEIGHT.name, name.credit, 'victim_name', name.detail);

  const gap = daysApart(subject.date, candidate.date);
  if (gap === 0)
    add(WEIGHT.date, 1, 'date', `dates overlap within their precision: ${dateLabel(subject.date)} and ${dateLabel(candidate.date)}`);
  else if (gap <= NEAR_DAYS)
    add(
      WEIGHT.date,
      0.5,
      'date',
      `dates ${gap} day${gap === 1 ? '' : 's'} apart: ${dateLabel(subject.date)} and ${dateLabel(candidate.date)}`,
    );

  if (subject.country === candidate.country) add(WEIGHT.country, 1, 'country', `both in ${subject.country}`);
  if (subject.city && candidate.city && normalizeForSearch(subject.city) === normalizeForSearch(candidate.city)) {
    add(WEIGHT.city, 1, 'city', `both in ${candidate.city}`);
  }
  const shared = subject.attackTypes.filter((type) => candidate.attackTypes.includes(type));
  if (shared.length) add(WEIGHT.attackType, 1, 'attack_type', `both record ${shared.join(', ')}`);

  const score = scored.reduce((sum, item) => sum + item.weight * item.credit, 0);
  return {
    score: Math.round(score * 100) / 100,
    reasons: scored.sort((a, b) => b.weight * b.credit - a.weight * a.credit).map((item) => item.reason),
  };
}

function usable(incident: ScoredIncident, mayUseProtected: (organisationId: string) => boolean) {
  const allowed = mayUseProtected(incident.organisationId);
  return incident.victims
    .filter((victim) => allowed || !victim.protected)
    .map((victim) => ({ protected: victim.protected, forms: nameForms(victim) }));
}

type UsableVictim = ReturnType<typeof usable>[number];

/**
 * The closest pair of victims (nameSimilarity): the same consonant skeleton once normalised and
 * reordered ("Naji Jerf", "Naji Jarf", "ناجي الجرف") counts as a full match; a name sharing only
 * a first name or a family name with the other ("Naji Hamdan") earns nothing.
 */
function bestNameMatch(left: UsableVictim[], right: UsableVictim[]) {
  let best: { credit: number; a: NameForm; b: NameForm; protected: boolean } | undefined;
  for (const victimA of left) {
    for (const victimB of right) {
      for (const a of victimA.forms) {
        for (const b of victimB.forms) {
          const credit = nameSimilarity(a, b);
          if (credit >= MIN_NAME_SIMILARITY && (!best || credit > best.credit)) {
            best = { credit, a, b, protected: victimA.protected || victimB.protected };
          }
        }
      }
    }
  }
  if (!best) return undefined;
  const same = best.credit === 1;
  const detail = best.protected
    ? `a protected victim's name ${same ? 'matches' : 'is similar'}`
    : same
      ? `same victim name once spelling and word order are set aside: "${best.a.display}" and "${best.b.display}"`
      : `similar victim names: "${best.a.display}" and "${best.b.display}" (similarity ${best.credit.toFixed(2)})`;
  return { credit: Math.round(best.credit * 100) / 100, detail };
}

const DAY_MS = 86_400_000;
const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / DAY_MS;

/** 0 when the [start, end] spans overlap, else the days between them. */
export function daysApart(a: { start: string; end: string }, b: { start: string; end: string }): number {
  if (a.start <= b.end && b.start <= a.end) return 0;
  return a.end < b.start ? dayNumber(b.start) - dayNumber(a.end) : dayNumber(a.start) - dayNumber(b.end);
}

/** "2015", "2015-10", "2015-10-15" or "2017-09-20..2017-09-30": the date as precisely as it is known. */
export function dateLabel(date: { precision: string; start: string; end: string }): string {
  if (date.precision === 'year') return date.start.slice(0, 4);
  if (date.precision === 'month') return date.start.slice(0, 7);
  if (date.precision === 'day') return date.start;
  return `${date.start}..${date.end}`;
}
