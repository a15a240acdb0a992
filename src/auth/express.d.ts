import type { Actor } from './actor.ts';
import type { Scope } from './scopes.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the authenticate middleware on every request. */
    actor: Actor;
    /** The key's scopes (src/auth/scopes.ts); null for the role's full rights, and for anonymous callers. */
    keyScopes: readonly Scope[] | null;
  }
}
