import type { Transaction } from 'kysely';
import type { AuditContext, Role } from '../audit/actor.ts';
import { appendAudit } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { findOrganisation } from '../organisations/organisation.queries.ts';
import { findApiKey, insertApiKey, markReplaced, revokeApiKey as markRevoked } from './api-key.queries.ts';
import { DEFAULT_GRACE_SECONDS, toApiKey } from './api-key.schemas.ts';
import { announceKeyRotated } from './key-hooks.ts';
import type { Scope } from './scopes.ts';

/**
 * API key writes, each with its audit record in one transaction. The only place that creates,
 * rotates or revokes a key: /v1/keys, `npm run keys` and the first admin key all come here.
 * Who may do it is the caller's check (an admin key, or the operator's own tool).
 */
export type ApiKey = ReturnType<typeof toApiKey>;

/** Creates a key; the answer carries the secret, which is never retrievable again. */
export function createApiKey(
  db: DbOrTransaction,
  context: AuditContext,
  input: { organisationId: string; name: string; role: Role; scopes?: readonly Scope[] | undefined; expiresAt?: string | Date | undefined },
): Promise<ApiKey & { key: string }> {
  return inTransaction(db, async (trx) => {
    if (!(await findOrganisation(trx, input.organisationId))) {
      throw new ValidationError('The request body is not valid.', [{ pointer: '/organisationId', detail: 'no such organisation' }]);
    }
    const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
    const { key, ...row } = await insertApiKey(trx, { ...input, expiresAt });
    const apiKey = toApiKey(row);
    await audit(trx, context, 'api_key.create', null, apiKey);
    return { ...apiKey, key };
  });
}

/**
 * Revokes a key: `revoked`, or `already_revoked` when there was nothing to change (no audit
 * record then). A key that does not exist is a NotFoundError.
 */
export function revokeApiKey(db: DbOrTransaction, context: AuditContext, id: string): Promise<'revoked' | 'already_revoked'> {
  return inTransaction(db, async (trx) => {
    const before = await findApiKey(trx, id);
    if (!before) throw new NotFoundError('API key not found.');
    const after = await markRevoked(trx, id);
    if (!after) return 'already_revoked';
    await audit(trx, context, 'api_key.revoke', toApiKey(before), toApiKey(after));
    return 'revoked';
  });
}

/**
 * Rotation: a new key with the old one's organisation, role, scopes and name, while the old key
 * keeps working for the grace period (0: it stops at once) and then stops, as if it had expired.
 * Only a working key rotates; rotating one twice would leave two replacements.
 */
export function rotateApiKey(
  db: DbOrTransaction,
  context: AuditContext,
  id: string,
  options: { gracePeriodSeconds?: number | undefined; expiresAt?: string | undefined; now?: Date } = {},
): Promise<{ key: ApiKey & { key: string }; replaced: ApiKey; graceEndsAt: string }> {
  return inTransaction(db, async (trx) => {
    const now = options.now ?? new Date();
    const old = await findApiKey(trx, id, { forUpdate: true });
    if (!old) throw new NotFoundError('API key not found.');
    if (old.revoked_at) throw new ConflictError(`This key was revoked at ${old.revoked_at.toISOString()}; create a new key instead.`);
    if (old.replaced_by) throw new ConflictError(`This key was already rotated; its replacement is key ${old.replaced_by}.`);
    if (old.expires_at && old.expires_at <= now) {
      throw new ConflictError(`This key expired at ${old.expires_at.toISOString()}; create a new key instead.`);
    }
    // The new key lives as long as the old one was meant to, unless the caller says otherwise.
    const lifetime = old.expires_at ? old.expires_at.getTime() - old.created_at.getTime() : undefined;
    const expiresAt = options.expiresAt ? new Date(options.expiresAt) : lifetime ? new Date(now.getTime() + lifetime) : null;
    const { key, ...row } = await insertApiKey(trx, {
      organisationId: old.organisation_id,
      name: old.name,
      role: old.role,
      scopes: old.scopes as Scope[] | null,
      expiresAt,
    });
    const created = toApiKey(row);
    await audit(trx, context, 'api_key.create', null, created);

    const grace = options.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    // A grace longer than the old key had left would extend it: rotation never does that.
    const graceEnds = new Date(Math.min(now.getTime() + grace * 1000, old.expires_at?.getTime() ?? Infinity));
    const replaced = toApiKey(await markReplaced(trx, old.id, created.id, graceEnds));
    await audit(trx, context, 'api_key.rotate', toApiKey(old), replaced);
    // Whatever hangs on the old key's id (access groups, webhooks) may follow it: src/auth/key-hooks.ts.
    await announceKeyRotated(trx, context, {
      oldKeyId: old.id,
      newKeyId: created.id,
      organisationId: old.organisation_id,
      graceEndsAt: graceEnds,
    });
    return { key: { ...created, key }, replaced, graceEndsAt: graceEnds.toISOString() };
  });
}

function audit(trx: Transaction<Database>, context: AuditContext, action: string, before: ApiKey | null, after: ApiKey) {
  return appendAudit(trx, context, {
    action,
    entityType: 'api_key',
    entityId: after.id,
    organisationId: after.organisationId,
    before,
    after,
  });
}
