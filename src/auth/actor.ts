import { ForbiddenError, UnauthenticatedError } from '../errors.ts';

export const ROLES = ['admin', 'editor', 'reviewer', 'researcher'] as const;
export type Role = (typeof ROLES)[number];

/** Who is asking. Anonymous callers are `public`; everyone else is an API key. */
export type Actor =
  | { kind: 'public' }
  | { kind: 'key'; keyId: string; organisationId: string; role: Role };

export const PUBLIC_ACTOR: Actor = { kind: 'public' };

export type KeyActor = Extract<Actor, { kind: 'key' }>;

export function requireRole(actor: Actor, ...roles: Role[]): KeyActor {
  if (actor.kind === 'key' && roles.includes(actor.role)) return actor;
  if (actor.kind === 'public') {
    throw new UnauthenticatedError(`This needs an API key with the role ${roles.join(' or ')}.`);
  }
  throw new ForbiddenError(`Your key's role (${actor.role}) may not do this; it needs ${roles.join(' or ')}.`);
}

/** The organisation whose confidential details the actor may see: editors and reviewers see their own. */
export function ownOrganisation(actor: Actor): string | undefined {
  return actor.kind === 'key' && (actor.role === 'editor' || actor.role === 'reviewer') ? actor.organisationId : undefined;
}

/** Callers who get the same answers share this key: caches and ETags must never cross it. */
export function viewerKey(actor: Actor): string {
  return actor.kind === 'key' ? `${actor.role}:${actor.organisationId}` : 'public';
}
