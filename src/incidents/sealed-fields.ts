import { blindToken } from '../crypto/blind-index.ts';
import { isSealed, seal, sealedPlace, unseal } from '../crypto/sealed-value.ts';
import { nameForms, victimNameKey } from './name-key.ts';
import { nameSkeleton, normalizeForSearch } from './search-text.ts';

/**
 * What is encrypted at rest (README, "Encryption at rest"):
 * - a protected victim's identity: name, original-script name, aliases, outlet and nationality,
 *   sealed together in victims.identity_sealed. The outlet names the victim as surely as a name
 *   in a small newsroom, and the nationality of a foreign or exiled journalist often does too;
 *   the public view already withholds all five. Role, gender, outcome, locality and employment
 *   stay in clear: the statistics count them, and the public view shows role and outcome.
 * - every incident's internal notes (incidents.internal_notes).
 * The plaintext columns of a protected victim stay empty (a check in migration 0018 enforces it),
 * and so do its derived forms: name_key is null and search_text never had it. In their place
 * victims.name_blind holds keyed hashes (blind-index.ts) of each name form and skeleton word.
 */
export interface VictimIdentity {
  name: string | null;
  name_original: string | null;
  aliases: string[];
  outlet: string | null;
  nationality: string | null;
}

const identityPlace = (victimId: string) => sealedPlace('victims', 'identity_sealed', victimId);
const notesPlace = (incidentId: string) => sealedPlace('incidents', 'internal_notes', incidentId);

/** Blind-index kinds: a whole name (normalised, words sorted), its skeleton key, one skeleton word. */
const NAME = 'name';
const SKELETON = 'skeleton';
const WORD = 'word';

/** The tokens stored for a protected victim: each name form whole, as a skeleton key, and each skeleton word. */
export function victimBlindTokens(identity: Pick<VictimIdentity, 'name' | 'name_original' | 'aliases'>): string[] {
  const tokens = new Set<string>();
  for (const form of nameForms({ name: identity.name, nameOriginal: identity.name_original, aliases: identity.aliases })) {
    tokens.add(blindToken(NAME, form.key));
    tokens.add(blindToken(SKELETON, form.skeleton));
    for (const word of form.skeleton.split(' ')) tokens.add(blindToken(WORD, word));
  }
  return [...tokens];
}

/** The token a query word matches a protected victim's name word by (incident-filters.ts, q). */
export const queryWordToken = (word: string) => blindToken(WORD, nameSkeleton(normalizeForSearch(word)));

/** The tokens of a victim's skeleton keys, for pairing duplicates (src/duplicates/). */
export const skeletonTokens = (skeletons: string[]) => skeletons.map((skeleton) => blindToken(SKELETON, skeleton));

/**
 * A victim row as stored: a protected victim's identity sealed and its plaintext columns empty,
 * anyone else's name key kept. Needs the victim's id (the sealed value is bound to it).
 */
export function storedVictim<T extends VictimIdentity & { id: string; protected: boolean }>(victim: T) {
  if (!victim.protected) return { ...victim, name_key: victimNameKey(victim), identity_sealed: null, name_blind: null };
  const { name, name_original, aliases, outlet, nationality } = victim;
  return {
    ...victim,
    name: null,
    name_original: null,
    aliases: [] as string[],
    outlet: null,
    nationality: null,
    name_key: null,
    identity_sealed: seal(JSON.stringify({ name, name_original, aliases, outlet, nationality }), identityPlace(victim.id)),
    name_blind: victimBlindTokens(victim),
  };
}

/** A victim row as read: a sealed identity opened into its columns. */
export function openedVictim<T extends VictimIdentity & { id: string; identity_sealed?: string | null }>(victim: T): T {
  if (!victim.identity_sealed) return victim;
  const identity = JSON.parse(unseal(victim.identity_sealed, identityPlace(victim.id))) as VictimIdentity;
  return { ...victim, ...identity };
}

export const sealedNotes = (incidentId: string, notes: string | null) => (notes == null ? null : seal(notes, notesPlace(incidentId)));

/** Internal notes as read; a value written before encryption (sealed at the first start with a key) reads as is. */
export const openedNotes = (incidentId: string, stored: string | null) =>
  isSealed(stored) ? unseal(stored, notesPlace(incidentId)) : stored;
