import type { Db } from '../db/create-db.ts';
import { findOrganisationByName, insertOrganisation } from '../organisations/organisation.queries.ts';
import { insertApiKey } from './api-key.queries.ts';

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
    const { key } = await insertApiKey(trx, { organisationId: organisation.id, name: 'first admin (created on first start)', role: 'admin' });
    return key;
  });
}
