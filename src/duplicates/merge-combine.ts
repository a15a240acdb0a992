import { normalizeForSearch } from '../incidents/search-text.ts';
import type { Incident, PerpetratorClaimInput, SourceInput, VictimInput } from '../incidents/incident.schemas.ts';
import { nameForms } from './name-key.ts';

/**
 * What a survivor holds after a merge: its own victims, claims and sources (ids kept) plus
 * the loser's that it does not already have. Nothing is lost: a repeated item keeps the
 * survivor's values and takes the loser's where the survivor has none, and a victim's other
 * spelling becomes an alias. Where the two disagree on confidentiality, the stricter wins.
 */
type Victim = Incident['victims'][number];
type Claim = Incident['perpetratorClaims'][number];
type Source = Incident['sources'][number];

const MAX_ALIASES = 20; // what the API accepts on a later edit

export function combineChildren(survivor: Incident, loser: Incident) {
  return {
    victims: combineVictims(survivor.victims, loser.victims),
    perpetratorClaims: combine<Claim, PerpetratorClaimInput>(survivor.perpetratorClaims, loser.perpetratorClaims, claimKeys, (kept, other) => ({
      ...kept,
      attributedBy: kept.attributedBy ?? other.attributedBy,
      statement: kept.statement ?? other.statement,
    })),
    sources: combine<Source, SourceInput>(survivor.sources, loser.sources, sourceKeys, (kept, other) => ({
      ...kept,
      url: kept.url ?? other.url,
      publisher: kept.publisher ?? other.publisher,
      title: kept.title ?? other.title,
      publishedOn: kept.publishedOn ?? other.publishedOn,
      public: kept.public && other.public,
    })),
  };
}

/** Same victim = a name form (name, original script, alias) in common once normalised and reordered. */
const victimKeys = (victim: Victim) => nameForms(victim).map((form) => form.key);
/** Same claim = the same actor (normalised name) with the same attribution. */
const claimKeys = (claim: Claim) => [`${normalizeForSearch(claim.actorName)}|${claim.attribution}`];
/** Same source = the same URL, or the same title. */
const sourceKeys = (source: Source) => [
  ...(source.url ? [`url:${normalizeUrl(source.url)}`] : []),
  ...(source.title ? [`title:${normalizeForSearch(source.title)}`] : []),
];

function combine<T extends { id: string }, Input>(
  kept: T[],
  incoming: T[],
  keysOf: (item: T) => string[],
  fill: (kept: T, other: T) => T,
): Input[] {
  const result: T[] = [...kept];
  for (const item of incoming) {
    const keys = new Set(keysOf(item));
    const index = result.findIndex((existing) => keysOf(existing).some((key) => keys.has(key)));
    if (index === -1) result.push({ ...item, id: undefined } as unknown as T);
    else result[index] = fill(result[index]!, item);
  }
  return result as unknown as Input[];
}

function combineVictims(kept: Victim[], incoming: Victim[]): VictimInput[] {
  const named = combine<Victim, Victim>(kept, incoming.filter((victim) => victimKeys(victim).length), victimKeys, (survivor, other) => ({
    ...survivor,
    nameOriginal: survivor.nameOriginal ?? other.nameOriginal,
    aliases: otherSpellings({ ...survivor, nameOriginal: survivor.nameOriginal ?? other.nameOriginal }, other),
    role: survivor.role ?? other.role,
    gender: survivor.gender ?? other.gender,
    nationality: survivor.nationality ?? other.nationality,
    outlet: survivor.outlet ?? other.outlet,
    locality: survivor.locality ?? other.locality,
    employment: survivor.employment ?? other.employment,
    outcome: survivor.outcome ?? other.outcome,
    protected: survivor.protected || other.protected,
  }));
  // Victims without a name cannot be told apart: keep as many as the record that lists more.
  const unnamedKept = kept.filter((victim) => !victimKeys(victim).length).length;
  const unnamedIncoming = incoming.filter((victim) => !victimKeys(victim).length);
  const extra = unnamedIncoming.slice(unnamedKept).map((victim) => ({ ...victim, id: undefined }));
  return [...named, ...extra];
}

/** The survivor's aliases plus every spelling the other record used that the survivor does not show. */
function otherSpellings(survivor: Victim, other: Victim): string[] {
  const shown = new Set([survivor.name, survivor.nameOriginal, ...survivor.aliases].filter(Boolean));
  const aliases = [...survivor.aliases];
  for (const spelling of [other.name, other.nameOriginal, ...other.aliases]) {
    if (spelling && !shown.has(spelling)) {
      shown.add(spelling);
      aliases.push(spelling);
    }
  }
  return aliases.slice(0, MAX_ALIASES);
}

/** Case of scheme and host, a trailing slash and a fragment do not make another source. */
function normalizeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.hash = '';
    return parsed.toString().replace(/\/+$/, '');
  } catch {
    return url.trim();
  }
}
