import type { Request, RequestHandler } from 'express';
import type { Store } from 'express-rate-limit';
import type { WriteContext } from '../audit/actor.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/create-db.ts';
import { UnauthenticatedError } from '../errors.ts';
import { PUBLIC_ACTOR, requireRole, type Role } from './actor.ts';
import { findKeyByToken } from './api-key.queries.ts';
import { failedAuthLimit } from './failed-auth-limit.ts';
import { lastUsedRecorder } from './last-used.ts';
import type { Scope } from './scopes.ts';

/** Why a presented key was refused: logged, and counted against the address. */
type FailureReason = 'malformed' | 'unknown' | 'revoked' | 'expired';

/** The public part of a key, `dl_<prefix>_<secret>`: safe to log, unlike the rest. */
const KEY_FORMAT = /^dl_([0-9a-f]{8})_[\w-]{43}$/;

/**
 * Sets req.actor (and req.keyScopes). No Authorization header means public access; a header with
 * a bad, revoked or expired key is an error rather than a silent downgrade, so a misconfigured
 * client notices at once. Each failure is logged with the address, the reason and the key's id
 * or public prefix (never the key), and counted: too many from one address answer 429.
 */
export function authenticate(db: Db, options: { config: Config; failedAuthStore?: Store | undefined }): RequestHandler {
  const limit = failedAuthLimit(options.config, options.failedAuthStore);
  const recordUse = lastUsedRecorder(db);

  return async (req, res, next) => {
    req.keyScopes = null;
    const header = req.get('authorization');
    if (!header) {
      req.actor = PUBLIC_ACTOR;
      return next();
    }
    if (await limit.refuseIfBlocked(req, res)) {
      req.log.warn({ ip: req.ip, reason: 'blocked' }, 'authentication refused: too many failures from this address');
      return;
    }
    const refuse = async (reason: FailureReason, message: string, known: { keyId?: string; keyPrefix?: string } = {}, details = {}) => {
      req.log.warn({ ip: req.ip, reason, ...known }, `authentication failed: ${reason} key`);
      if (!(await limit.countFailure(req, res))) throw new UnauthenticatedError(message, details);
    };

    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const prefix = token && KEY_FORMAT.exec(token)?.[1];
    if (!token || !prefix) {
      return refuse('malformed', 'Send the key as "Authorization: Bearer <key>", exactly as it was given (it starts with "dl_").');
    }
    const key = await findKeyByToken(db, token);
    if (!key) return refuse('unknown', 'This API key is unknown or has been revoked.', { keyPrefix: prefix });
    const known = { keyId: key.id, keyPrefix: key.prefix };
    if (key.revoked_at) return refuse('revoked', 'This API key is unknown or has been revoked.', known);
    if (key.expires_at && key.expires_at.getTime() <= Date.now()) {
      const at = key.expires_at.toISOString();
      const message = key.replaced_by
        ? `This API key was replaced by a rotation; its grace period ended at ${at}. Use the new key, or ask an administrator for one.`
        : `This API key expired at ${at}. Ask an administrator for a new key.`;
      return refuse('expired', message, known, { expiredAt: at });
    }

    req.actor = { kind: 'key', keyId: key.id, organisationId: key.organisation_id, role: key.role };
    req.keyScopes = key.scopes as Scope[] | null;
    await recordUse(key.id, req.log);
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
