import { systemActor } from '../audit/actor.ts';
import type { Db } from '../db/create-db.ts';
import { findOrCreateOrganisation } from '../organisations/organisation.service.ts';
import { createApiKey } from './api-key.service.ts';

export const OPERATORS_ORGANISATION = 'Instance operators';

/**
 * A fresh instance has no keys, so nobody could create the first organisation. This creates an
 * admin key when there is no active one and returns the secret for the caller to show once.
 * Both writes are audited as `system:bootstrap`.
 */
export async function ensureAdminKey(db: Db): Promise<string | undefined> {
  const context = { actor: systemActor('bootstrap'), requestId: null };
  return db.transaction().execute(async (trx) => {
    const active = await trx
      .selectFrom('api_keys')
      .select('id')
      .where('role', '=', 'admin')
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (active) return undefined;
    const { organisation } = await findOrCreateOrganisation(trx, context, OPERATORS_ORGANISATION);
    const created = await createApiKey(trx, context, {
      organisationId: organisation.id,
      name: 'first admin (created on first start)',
      role: 'admin',
    });
    return created.key;
  });
}
