import type { MemberActor, Role } from '../audit/actor.ts';
import { ForbiddenError, UnauthenticatedError } from '../errors.ts';

export { ROLES, systemActor, type KeyActor, type MemberActor, type Role, type SystemActor } from '../audit/actor.ts';

/**
 * Who is asking. Anonymous callers are `public`; an API caller is a key. A tool run by the
 * operator (the import CLI, the sample data) is a system actor acting for one organisation in
 * an explicit role; its role is checked here exactly as a key's.
 */
export type Actor = { kind: 'public' } | MemberActor;

export const PUBLIC_ACTOR: Actor = { kind: 'public' };

export function requireRole(actor: Actor, ...roles: Role[]): MemberActor {
  if (actor.kind !== 'public' && roles.includes(actor.role)) return actor;
  if (actor.kind === 'public') {
    throw new UnauthenticatedError(`This needs an API key with the role ${roles.join(' or ')}.`);
  }
  throw new ForbiddenError(`Your key's role (${actor.role}) may not do this; it needs ${roles.join(' or ')}.`);
}

/** The organisation whose confidential details the actor may see: editors and reviewers see their own. */
export function ownOrganisation(actor: Actor): string | undefined {
  return actor.kind !== 'public' && (actor.role === 'editor' || actor.role === 'reviewer') ? actor.organisationId : undefined;
}

/**
 * Callers who get the same answers share this key: caches and ETags must never cross it. Editors
 * and reviewers see their organisation's data as far as its access groups let them (migration
 * 0017), which differs from key to key, so each key is its own viewer.
 */
export function viewerKey(actor: Actor): string {
  if (actor.kind === 'public') return 'public';
  const base = `${actor.role}:${actor.organisationId}`;
  return ownOrganisation(actor) && actor.kind === 'key' ? `${base}:${actor.keyId}` : base;
}
