import type { Db } from '../db/create-db.ts';
import { findOrganisationByName, insertOrganisation } from '../organisations/organisation.queries.ts';
import { appendAudit } from '../audit/audit.queries.ts';
import { insertApiKey } from './api-key.queries.ts';
import { toApiKey } from './api-key.schemas.ts';

export const OPERATORS_ORGANISATION = 'Instance operators';

/**
 * A fresh instance has no keys, so nobody could create the first organisation. This creates an
 * admin key when there is no active one and returns the secret for the caller to show once.
 */
export async function ensureAdminKey(db: Db): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const active = await trx
      .selectFrom('api_keys')
      .select('id')
      .where('role', '=', 'admin')
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (active) return undefined;
    const organisation =
      (await findOrganisationByName(trx, OPERATORS_ORGANISATION)) ?? (await insertOrganisation(trx, OPERATORS_ORGANISATION));
    const { key, ...row } = await insertApiKey(trx, { organisationId: organisation.id, name: 'first admin (created on first start)', role: 'admin' });
    await appendAudit(trx, { actor: { kind: 'system', tool: 'first-start' }, requestId: null }, {
      action: 'api_key.create', entityType: 'api_key', entityId: row.id, organisationId: organisation.id, before: null, after: toApiKey(row),
    });
    return key;
  });
}
