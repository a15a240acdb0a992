import { ownOrganisation, viewerKey, type Actor } from '../auth/actor.ts';
import type { Snapshot } from './facts-snapshot.ts';

/**
 * What one caller's statistics count in the facts in memory, by the rules the SQL path applies
 * (factConditions in statistics-facts.queries.ts, victimOpenTo in src/incidents/access.queries.ts):
 *
 * - incidents: the published ones; a researcher key also its own organisation's drafts and those
 *   of organisations sharing drafts with it (migration 0017); an editor or reviewer also their
 *   own organisation's drafts; anyone else (anonymous, admins) published ones only;
 * - a victim's gender: known unless the victim is protected, and then only to the editors and
 *   reviewers of the owning organisation whose key is in one of the access groups restricting the
 *   incident (if any) and in one of those restricting the victim (if any).
 *
 * test/statistics-paths.test.ts compares every reader's answers with the SQL path's.
 */
export interface Viewer {
  key: string;
  /** Per incident: 1 if the caller may count it. */
  visible: Uint8Array;
  /** Per victim: the gender code as the caller may know it (0, unknown, where it is withheld). */
  gender: Uint8Array;
}

/** Only anonymous callers and API keys: operator tools (system actors) keep the SQL path. */
export function canView(actor: Actor): boolean {
  return actor.kind === 'public' || actor.kind === 'key';
}

/** A few viewers per snapshot: the same caller asks several questions of one version (the statistics page asks five). */
const viewers = new WeakMap<Snapshot, Map<string, Viewer>>();
const KEPT_VIEWERS = 8;

export function viewerOf(snapshot: Snapshot, actor: Actor): Viewer {
  const key = viewerKey(actor);
  const kept = viewers.get(snapshot) ?? new Map<string, Viewer>();
  viewers.set(snapshot, kept);
  let viewer = kept.get(key);
  if (!viewer) {
    viewer = { key, visible: visibleIncidents(snapshot, actor), gender: knownGenders(snapshot, actor) };
    kept.set(key, viewer);
    if (kept.size > KEPT_VIEWERS) kept.delete(kept.keys().next().value!);
  }
  return viewer;
}

/** The organisations whose drafts the caller sees, as in factConditions. */
function draftOrganisations(snapshot: Snapshot, actor: Actor): Set<string> {
  if (actor.kind === 'key' && actor.role === 'researcher') {
    const own = actor.organisationId;
    const sharing = [
      ...snapshot.sharing.withAll,
      ...[...snapshot.sharing.withListed].filter(([, readers]) => readers.has(own)).map(([owner]) => owner),
    ];
    return new Set([own, ...sharing]);
  }
  const own = ownOrganisation(actor);
  return new Set(own ? [own] : []);
}

function visibleIncidents(snapshot: Snapshot, actor: Actor): Uint8Array {
  const { published, length } = snapshot;
  const organisation = snapshot.coded.organisation;
  const drafts = draftOrganisations(snapshot, actor);
  const draftsOf = Uint8Array.from(organisation.values, (value) => (drafts.has(value as string) ? 1 : 0));
  const visible = new Uint8Array(length);
  const codes = organisation.codes;
  for (let i = 0; i < length; i++) visible[i] = published[i]! | draftsOf[codes[i]!]!;
  return visible;
}

/** Genders as victimOpenTo lets the caller know them. */
function knownGenders(snapshot: Snapshot, actor: Actor): Uint8Array {
  const victims = snapshot.victimRows;
  const gender = victims.gender.slice();
  const own = ownOrganisation(actor);
  // Per incident organisation code and per access-group set: may this caller see past them?
  const ownCode = own === undefined ? -1 : snapshot.coded.organisation.values.indexOf(own);
  const memberOf = actor.kind === 'key' ? snapshot.groupsOfKey.get(actor.keyId) : undefined;
  const passes = snapshot.groupSets.map((groups, code) => code === 0 || groups.some((group) => memberOf?.has(group) === true));
  const organisationCodes = snapshot.coded.organisation.codes;
  for (let v = 0; v < victims.length; v++) {
    if (!victims.protected[v]) continue;
    const incident = victims.incident[v]!;
    const open =
      organisationCodes[incident] === ownCode && passes[snapshot.incidentGroups[incident]!] === true && passes[victims.groups[v]!] === true;
    if (!open) gender[v] = 0;
  }
  return gender;
}
