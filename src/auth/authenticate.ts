import type { Request, RequestHandler } from 'express';
import type { WriteContext } from '../audit/actor.ts';
import type { Db } from '../db/create-db.ts';
import { UnauthenticatedError } from '../errors.ts';
import { PUBLIC_ACTOR, requireRole, type Role } from './actor.ts';
import { findActiveKeyByToken } from './api-key.queries.ts';

/**
 * Sets req.actor. No Authorization header means public access; a header with a bad or revoked
 * key is an error rather than a silent downgrade, so a misconfigured client notices at once.
 */
export function authenticate(db: Db): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) {
      req.actor = PUBLIC_ACTOR;
      return next();
    }
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) throw new UnauthenticatedError('Send the key as "Authorization: Bearer <key>".');
    const key = await findActiveKeyByToken(db, token);
    if (!key) throw new UnauthenticatedError('This API key is unknown or has been revoked.');
    req.actor = { kind: 'key', keyId: key.id, organisationId: key.organisation_id, role: key.role };
    next();
  };
}

/**
 * The caller as the audit trail names it, after checking its role (401/403 otherwise). Routes
 * call it first, so a caller without the right role learns that before any validation detail.
 */
export function auditContextOf(req: Request, ...roles: Role[]): WriteContext {
  return { actor: requireRole(req.actor, ...roles), requestId: String(req.id) };
}
