import type { Transaction } from 'kysely';
import type { AuditContext, Role } from '../audit/actor.ts';
import { appendAudit } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { findOrganisation } from '../organisations/organisation.queries.ts';
import { findApiKey, insertApiKey, revokeApiKey as markRevoked } from './api-key.queries.ts';
import { toApiKey } from './api-key.schemas.ts';

/**
 * API key writes, each with its audit record in one transaction. The only place that creates or
 * revokes a key: POST and DELETE /v1/keys, `npm run keys` and the first admin key all come here.
 * Who may do it is the caller's check (an admin key, or the operator's own tool).
 */
export type ApiKey = ReturnType<typeof toApiKey>;

/** Creates a key; the answer carries the secret, which is never retrievable again. */
export function createApiKey(
  db: DbOrTransaction,
  context: AuditContext,
  input: { organisationId: string; name: string; role: Role },
): Promise<ApiKey & { key: string }> {
  return inTransaction(db, async (trx) => {
    if (!(await findOrganisation(trx, input.organisationId))) {
      throw new ValidationError('The request body is not valid.', [{ pointer: '/organisationId', detail: 'no such organisation' }]);
    }
    const { key, ...row } = await insertApiKey(trx, input);
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
