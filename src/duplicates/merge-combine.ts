import { normalizeForSearch } from '../incidents/search-text.ts';
import type { Incident, PerpetratorClaimInput, SourceInput, VictimInput } from '../incidents/incident.schemas.ts';
import type { VictimPair } from './victim-pairing.ts';

/**
 * What a survivor holds after a merge: its own victims, claims and sources (ids kept) plus
 * the loser's that it does not already have (for victims: those the pairing of
 * victim-pairing.ts, or the reviewer's, did not pair with one of its own). Nothing is lost: a
 * repeated item keeps the survivor's values and takes the loser's where the survivor has none,
 * and a victim's other spelling becomes an alias. Where the two disagree on confidentiality,
 * the stricter wins.
 */
type Victim = Incident['victims'][number];
type Claim = Incident['perpetratorClaims'][number];
type Source = Incident['sources'][number];

const MAX_ALIASES = 20; // what the API accepts on a later edit

export function combineChildren(survivor: Incident, loser: Incident, victimPairs: ReadonlyArray<Pick<VictimPair, 'kept' | 'merged'>>) {
  return {
    victims: combineVictims(survivor.victims, loser.victims, victimPairs),
    perpetratorClaims: combine<Claim, PerpetratorClaimInput>(
      survivor.perpetratorClaims,
      loser.perpetratorClaims,
      claimKeys,
      (kept, other) => ({
        ...kept,
        attributedBy: kept.attributedBy ?? other.attributedBy,
        statement: kept.statement ?? other.statement,
      }),
    ),
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

/**
 * The survivor's victims, each filled from the merged victims paired with it (its values kept,
 * the fields it lacks taken from them, their spellings added as aliases, protected if either
 * is), then the merged incident's unpaired victims as new victims.
 */
function combineVictims(kept: Victim[], incoming: Victim[], pairs: ReadonlyArray<Pick<VictimPair, 'kept' | 'merged'>>): VictimInput[] {
  const incomingById = new Map(incoming.map((victim) => [victim.id, victim]));
  const absorbed = new Map<string, Victim[]>();
  for (const pair of pairs) absorbed.set(pair.kept, [...(absorbed.get(pair.kept) ?? []), incomingById.get(pair.merged)!]);
  const paired = new Set(pairs.map((pair) => pair.merged));
  const survivors = kept.map((victim) => (absorbed.get(victim.id) ?? []).reduce(fillVictim, victim));
  const added = incoming.filter((victim) => !paired.has(victim.id)).map((victim) => ({ ...victim, id: undefined }));
  return [...survivors, ...added];
}

function fillVictim(survivor: Victim, other: Victim): Victim {
  const named = { ...survivor, name: survivor.name ?? other.name, nameOriginal: survivor.nameOriginal ?? other.nameOriginal };
  return {
    ...named,
    aliases: otherSpellings(named, other),
    role: survivor.role ?? other.role,
    gender: survivor.gender ?? other.gender,
    nationality: survivor.nationality ?? other.nationality,
    outlet: survivor.outlet ?? other.outlet,
    locality: survivor.locality ?? other.locality,
    employment: survivor.employment ?? other.employment,
    outcome: survivor.outcome ?? other.outcome,
    protected: survivor.protected || other.protected,
  };
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
