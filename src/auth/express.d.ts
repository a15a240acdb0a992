import type { Actor } from './actor.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the authenticate middleware on every request. */
    actor: Actor;
  }
}
